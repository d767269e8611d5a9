//! AWS access: one SDK configuration from the standard provider chain (IAM roles for service
//! accounts on EKS; `AWS_ENDPOINT_URL` points it at an emulator), and one module per service.

pub mod cloudwatch;
pub mod s3;
pub mod secrets;
pub mod sqs;

use aws_config::{BehaviorVersion, SdkConfig};

pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).app_name(aws_config::AppName::new("pj-worker").expect("valid name")).load().await
}

/// The service's error code and message (e.g. `NoSuchKey: ...`), or the transport failure.
pub fn describe<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            format!("{}: {}", err.code().unwrap_or("error"), err.message().unwrap_or("no message"))
        }
        other => aws_sdk_s3::error::DisplayErrorContext(other).to_string(),
    }
}
