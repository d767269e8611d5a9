//! STS client: GetCallerIdentity for "Check connection", with failures explained.

use super::{regions, VigilUserAgent};
use aws_config::SdkConfig;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use vigil_dto::{CallerIdentity, Environment, ErrorInfo};

pub fn client(cfg: &SdkConfig, op_id: &str) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(cfg).interceptor(VigilUserAgent::new(op_id)).build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub async fn caller_identity(cfg: &SdkConfig, env: &Environment, op_id: &str) -> Result<CallerIdentity, ErrorInfo> {
    let out = client(cfg, op_id).get_caller_identity().send().await.map_err(|e| explain(e, env))?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
    })
}

fn where_(env: &Environment) -> String {
    match &env.endpoint_url {
        Some(url) => url.clone(),
        None => format!("STS in {}", env.region),
    }
}

fn explain<E, R>(err: SdkError<E, R>, env: &Environment) -> ErrorInfo
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = super::profiles::error_chain(&err);
    let unreachable = |why: &str| {
        if env.endpoint_url.is_none() && !regions::is_known(&env.region) {
            return ErrorInfo {
                kind: "wrong_region".into(),
                message: format!("'{}' is not an AWS region Vigil knows, and its STS endpoint could not be reached ({why})", env.region),
                hint: Some("pick the region the platform runs in, e.g. us-east-1 or eu-west-1".into()),
            };
        }
        ErrorInfo {
            kind: "endpoint_unreachable".into(),
            message: format!("could not reach {} ({why})", where_(env)),
            hint: Some(match &env.endpoint_url {
                Some(_) => "check the endpoint URL and that the service behind it is running".into(),
                None => "check the network, proxy (HTTPS_PROXY) and firewall; for a private VPC set the endpoint URL".into(),
            }),
        }
    };
    match &err {
        SdkError::DispatchFailure(d) if d.is_timeout() => unreachable("timed out"),
        SdkError::DispatchFailure(_) => unreachable(&detail),
        SdkError::TimeoutError(_) => unreachable("timed out"),
        SdkError::ResponseError(_) => ErrorInfo {
            kind: "bad_endpoint".into(),
            message: format!("{} answered with something that is not an STS response: {detail}", where_(env)),
            hint: Some("check that the endpoint URL points at an AWS API (or emulator), not a web page or proxy".into()),
        },
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let msg = se.err().message().unwrap_or("").to_string();
            let (kind, hint) = match code {
                "InvalidClientTokenId" | "UnrecognizedClientException" => ("invalid_credentials", format!(
                    "the access key is not valid here: it may be deleted or inactive, belong to another partition, or '{}' may be an opt-in region not enabled for the account",
                    env.region
                )),
                "SignatureDoesNotMatch" => ("invalid_credentials", "the secret key does not match the access key; re-create the profile's keys".into()),
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => ("expired_credentials", match &env.credentials {
                    vigil_dto::Credentials::Profile { name } => format!("refresh the session: `aws sso login --profile {name}` for SSO, or renew the profile's session token"),
                    _ => "refresh the session token in the environment or profile".into(),
                }),
                "AccessDenied" | "AccessDeniedException" => ("access_denied", "the identity may not call sts:GetCallerIdentity; check SCPs and permission boundaries".into()),
                _ => ("aws_error", "see the log file for the full response".into()),
            };
            ErrorInfo { kind: kind.into(), message: format!("{code}: {msg}"), hint: Some(hint) }
        }
        _ => ErrorInfo { kind: "aws_error".into(), message: detail, hint: None },
    }
}
