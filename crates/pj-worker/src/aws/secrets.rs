//! Secrets Manager: the worker's keys (audit signing key, de-identification key) and, on
//! Aurora, the database credentials in the RDS-managed secret format.

use super::describe;
use aws_sdk_secretsmanager::Client;

pub async fn get_string(config: &aws_config::SdkConfig, secret_id: &str) -> Result<String, String> {
    let out = Client::new(config).get_secret_value().secret_id(secret_id).send().await.map_err(|e| describe(&e))?;
    out.secret_string().map(str::to_string).ok_or_else(|| format!("secret {secret_id} has no string value"))
}

/// Creates the secret, or stores a new value in it when it exists.
pub async fn put_string(config: &aws_config::SdkConfig, secret_id: &str, value: &str) -> Result<(), String> {
    let c = Client::new(config);
    match c.create_secret().name(secret_id).secret_string(value).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            c.put_secret_value().secret_id(secret_id).secret_string(value).send().await.map(|_| ()).map_err(|e| describe(&e))
        }
        Err(e) => Err(describe(&e)),
    }
}
