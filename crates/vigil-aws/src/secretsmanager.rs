//! Secrets Manager: the secrets a deploy's platform set-up reads and makes (the Aurora master
//! secret, the worker's keys, the worker's database login). Values are held in memory only.

use crate::error::AwsError;

service_client!(
    /// Secrets Manager for one operation of one environment.
    SecretsManager,
    aws_sdk_secretsmanager
);

fn is_missing<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &aws_sdk_secretsmanager::error::SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("ResourceNotFoundException"))
}

impl SecretsManager {
    /// The current string value of `id` (name or ARN), or None when there is no such secret.
    pub async fn value(&self, id: &str) -> Result<Option<String>, AwsError> {
        match self.client.get_secret_value().secret_id(id).send().await {
            Ok(out) => Ok(out.secret_string().map(str::to_string)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(crate::error::classify(&self.ctx, "secretsmanager", "GetSecretValue", &e).await),
        }
    }

    /// Makes the secret `name` with `value`, encrypted with `kms_key`; returns its ARN.
    pub async fn create(&self, name: &str, description: &str, kms_key: Option<&str>, value: &str, tags: &[(&str, &str)]) -> Result<String, AwsError> {
        let mut req = self.client.create_secret().name(name).description(description).secret_string(value);
        if let Some(key) = kms_key {
            req = req.kms_key_id(key);
        }
        for (k, v) in tags {
            req = req.tags(aws_sdk_secretsmanager::types::Tag::builder().key(*k).value(*v).build());
        }
        match req.send().await {
            Ok(out) => Ok(out.arn().unwrap_or(name).to_string()),
            Err(e) => Err(crate::error::classify(&self.ctx, "secretsmanager", "CreateSecret", &e).await),
        }
    }

    /// A new current value for the secret `id`.
    pub async fn put(&self, id: &str, value: &str) -> Result<(), AwsError> {
        match self.client.put_secret_value().secret_id(id).secret_string(value).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(crate::error::classify(&self.ctx, "secretsmanager", "PutSecretValue", &e).await),
        }
    }
}
