//! One classified error for every AWS call: what failed, in words an operator can act on, the
//! class (stable names the ui and `--json` use) and what to do.

use crate::context::{AwsContext, Target};
use crate::profiles;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use vigil_dto::{Credentials, ErrorInfo, ProfileKind};

/// The class of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The endpoint could not be reached (DNS, refused, reset, TLS).
    Unreachable,
    /// No answer in time.
    Timeout,
    /// The environment's credential source yields none.
    NoCredentials,
    /// The SSO session behind the credentials has expired or was never started.
    SsoExpired,
    /// The credentials could not be loaded for another reason.
    CredentialsError,
    /// Credentials that worked have expired (a session token).
    ExpiredCredentials,
    /// Keys AWS does not accept (deleted, inactive, wrong secret, another partition).
    InvalidCredentials,
    /// The identity may not do this.
    AccessDenied,
    /// AWS limited the request rate, and the retries did not get through.
    Throttled,
    /// What was asked for does not exist.
    NotFound,
    /// AWS refused the request as invalid.
    Validation,
    /// Not an AWS region, and nothing answered there.
    WrongRegion,
    /// Something answered, but not as an AWS API does.
    BadEndpoint,
    /// The environment's profile is not in the AWS files.
    UnknownProfile,
    /// The profile is there but cannot be used as it is.
    ProfileInvalid,
    /// The AWS config or credentials file cannot be parsed.
    ProfileFile,
    /// The service said it is unavailable (HTTP 502, 503, 504), and the retries did not get through.
    Unavailable,
    /// Any other error AWS answered with (an internal failure after retries, say).
    Service,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Unreachable => "endpoint_unreachable",
            Kind::Timeout => "timeout",
            Kind::NoCredentials => "no_credentials",
            Kind::SsoExpired => "sso_expired",
            Kind::CredentialsError => "credentials_error",
            Kind::ExpiredCredentials => "expired_credentials",
            Kind::InvalidCredentials => "invalid_credentials",
            Kind::AccessDenied => "access_denied",
            Kind::Throttled => "throttled",
            Kind::NotFound => "not_found",
            Kind::Validation => "validation",
            Kind::WrongRegion => "wrong_region",
            Kind::BadEndpoint => "bad_endpoint",
            Kind::UnknownProfile => "unknown_profile",
            Kind::ProfileInvalid => "profile_invalid",
            Kind::ProfileFile => "profile_file",
            Kind::Unavailable => "service_unavailable",
            Kind::Service => "aws_error",
        }
    }

    /// Failures of the request itself (not of the way to AWS, the identity or the rate): a
    /// batch failing this way may be split to find the request at fault.
    pub fn is_about_the_request(self) -> bool {
        matches!(self, Kind::Validation | Kind::NotFound | Kind::Service)
    }
}

/// A classified AWS failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl AwsError {
    pub fn new(kind: Kind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        AwsError { kind, message: message.into(), hint: Some(hint.into()) }
    }

    pub fn info(&self) -> ErrorInfo {
        ErrorInfo { kind: self.kind.as_str().into(), message: self.message.clone(), hint: self.hint.clone() }
    }

    /// The same failure, its message preceded by `what` was being done.
    pub fn during(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// Where the calls go: the endpoint override, or the service in the region.
fn where_(target: &Target, service: &str) -> String {
    match &target.endpoint_url {
        Some(url) => url.clone(),
        None => format!("{service} in {}", target.region),
    }
}

pub(crate) fn no_credentials(target: &Target) -> AwsError {
    let hint = match &target.credentials {
        Credentials::Profile { name } => format!("profile '{name}' yields no credentials; check it with `aws configure list --profile {name}`"),
        _ => "choose a profile for this environment, set AWS_PROFILE, or run `aws configure`".into(),
    };
    AwsError::new(Kind::NoCredentials, "no AWS credentials were found for this environment", hint)
}

/// The SSO profile an environment's credentials come from, directly or through a role chain.
async fn sso_profile_in_chain(ctx: &AwsContext) -> Option<String> {
    let Credentials::Profile { name } = &ctx.target().credentials else { return None };
    let set = ctx.profiles().load().await.ok()?;
    let summary = profiles::summarize(&set, set.get_profile(name).map(|_| name.as_str())?);
    summary.chain.iter().filter(|p| set.get_profile(p).is_some()).find(|p| profiles::summarize(&set, p).kind == ProfileKind::Sso).cloned()
}

fn looks_like_network(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["dispatch failure", "connection refused", "dns error", "timed out", "timeout", "io error", "error trying to connect"]
        .iter()
        .any(|k| t.contains(k))
}

/// Why the environment's credentials could not be loaded.
pub(crate) async fn credentials(ctx: &AwsContext, e: &CredentialsError) -> AwsError {
    if let CredentialsError::CredentialsNotLoaded(_) = e {
        return no_credentials(ctx.target());
    }
    let text = crate::error_chain(e);
    if !looks_like_network(&text) {
        if let Some(sso_profile) = sso_profile_in_chain(ctx).await {
            return AwsError::new(
                Kind::SsoExpired,
                format!("the AWS SSO session for profile '{sso_profile}' has expired or was never started ({text})"),
                format!("aws sso login --profile {sso_profile}"),
            );
        }
    }
    let kind = if looks_like_network(&text) { Kind::Unreachable } else { Kind::CredentialsError };
    AwsError::new(
        kind,
        format!("the credentials for {} could not be loaded: {text}", ctx.target().credentials.label()),
        "check the profile with `aws sts get-caller-identity --profile <name>`",
    )
}

/// The credentials failure inside a call's error, if that is why it failed.
fn credentials_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a CredentialsError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(c) = err.downcast_ref::<CredentialsError>() {
            return Some(c);
        }
        cur = err.source();
    }
    None
}

/// Classifies the failure of `service:action` (the IAM names, e.g. `cloudwatch`,
/// `GetMetricData`) made with `ctx`.
pub async fn classify<E>(ctx: &AwsContext, service: &str, action: &str, err: &SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(c) = credentials_cause(err) {
        return credentials(ctx, c).await;
    }
    classify_call(ctx.target(), service, action, err)
}

/// As [`classify`], for failures that are not about credentials.
pub fn classify_call<E>(target: &Target, service: &str, action: &str, err: &SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let call = format!("{service}:{action}");
    let unreachable = |why: &str| {
        if target.endpoint_url.is_none() && !crate::regions::is_known(&target.region) {
            return AwsError::new(
                Kind::WrongRegion,
                format!("'{}' is not an AWS region Vigil knows, and {call} could not reach it ({why})", target.region),
                "pick the region the platform runs in, e.g. us-east-1 or eu-west-1",
            );
        }
        AwsError::new(
            Kind::Unreachable,
            format!("{call} could not reach {} ({why})", where_(target, service)),
            match &target.endpoint_url {
                Some(_) => "check the endpoint URL and that the service behind it is running",
                None => "check the network, proxy (HTTPS_PROXY) and firewall; for a private VPC set the endpoint URL",
            },
        )
    };
    let timeout = || {
        AwsError::new(
            Kind::Timeout,
            format!("{call} got no answer from {} in time", where_(target, service)),
            "the network or the service is slow or down; it is tried again on the next refresh or retry",
        )
    };
    match err {
        SdkError::TimeoutError(_) => timeout(),
        SdkError::DispatchFailure(d) if d.is_timeout() => timeout(),
        SdkError::DispatchFailure(_) => unreachable(&crate::error_chain(err)),
        SdkError::ResponseError(r) => {
            let status = r.raw().status().as_u16();
            AwsError::new(
                Kind::BadEndpoint,
                format!("{} answered {call} with something that is not an AWS response (HTTP {status})", where_(target, service)),
                "check that the endpoint URL points at an AWS API (or emulator), not a web page or proxy",
            )
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or_default().to_string();
            let text = se.err().message().unwrap_or_default().to_string();
            let said = match (code.as_str(), text.as_str()) {
                ("", "") => format!("HTTP {status} without an error code or message"),
                ("", m) => m.to_string(),
                (c, "") => c.to_string(),
                (c, m) => format!("{c}: {m}"),
            };
            service_error(target, &call, service, action, status, &code, &said)
        }
        other => AwsError { kind: Kind::Service, message: format!("{call} failed: {}", crate::error_chain(other)), hint: None },
    }
}

fn service_error(target: &Target, call: &str, service: &str, action: &str, status: u16, code: &str, said: &str) -> AwsError {
    let message = format!("{call} failed: {said}");
    let code_l = code.to_ascii_lowercase();
    match code {
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" | "AuthFailure" => AwsError::new(
            Kind::InvalidCredentials,
            message,
            format!(
                "the access key is not valid here: it may be deleted or inactive, belong to another partition, or '{}' may be an opt-in region not enabled for the account",
                target.region
            ),
        ),
        "SignatureDoesNotMatch" => AwsError::new(Kind::InvalidCredentials, message, "the secret key does not match the access key; re-create the profile's keys"),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => AwsError::new(
            Kind::ExpiredCredentials,
            message,
            match &target.credentials {
                Credentials::Profile { name } => {
                    format!("refresh the session: `aws sso login --profile {name}` for SSO, or renew the profile's session token")
                }
                _ => "refresh the session token in the environment or profile".into(),
            },
        ),
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" | "AuthorizationErrorException" => {
            AwsError::new(
                Kind::AccessDenied,
                message,
                format!("the identity may not call {service}:{action}; allow it in its IAM policy, and check SCPs and permission boundaries"),
            )
        }
        "Throttling" | "ThrottlingException" | "ThrottledException" | "RequestThrottled" | "RequestThrottledException" | "TooManyRequestsException"
        | "RequestLimitExceeded" | "SlowDown" => AwsError::new(
            Kind::Throttled,
            message,
            format!("AWS is limiting the rate of {service} calls for this account (Vigil retried); try again in a minute, or refresh less often"),
        ),
        _ if status == 429 => AwsError::new(Kind::Throttled, message, format!("AWS is limiting the rate of {service} calls; try again in a minute")),
        _ if code_l.contains("notfound") || code_l.starts_with("nosuch") || code.ends_with("DoesNotExist") || code.contains("NonExistent") => {
            AwsError::new(Kind::NotFound, message, "check the environment's deployment parameters (Environments → Edit → Deployment)")
        }
        _ if code_l.contains("validation") || code_l.starts_with("invalidparameter") || code_l.starts_with("missingparameter") => {
            AwsError::new(Kind::Validation, message, "AWS refused the request as invalid; check the environment's deployment parameters")
        }
        _ if status == 403 => AwsError::new(
            Kind::AccessDenied,
            message,
            format!("the identity may not call {service}:{action}; allow it in its IAM policy, and check SCPs and permission boundaries"),
        ),
        "ServiceUnavailable" | "ServiceUnavailableException" | "InternalServiceError" => unavailable(service, status, message),
        _ if matches!(status, 502..=504) => unavailable(service, status, message),
        _ if status >= 500 => AwsError::new(
            Kind::Service,
            message,
            format!("{service} answered with an internal error (HTTP {status}) after retries; try again, and see the AWS Health Dashboard if it persists"),
        ),
        _ => AwsError::new(Kind::Service, message, "see the message; the full response is in the log file"),
    }
}

fn unavailable(service: &str, status: u16, message: String) -> AwsError {
    AwsError::new(
        Kind::Unavailable,
        message,
        format!("{service} is not answering (HTTP {status}) even after retries; try again shortly, and see the AWS Health Dashboard if it persists"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(credentials: Credentials) -> Target {
        Target { environment: "prod".into(), region: "eu-west-1".into(), endpoint_url: None, credentials }
    }

    #[test]
    fn service_errors_are_classified_by_code_and_status() {
        let t = target(Credentials::Profile { name: "ops".into() });
        let k = |status, code: &str| service_error(&t, "cloudwatch:GetMetricData", "cloudwatch", "GetMetricData", status, code, "x").kind;
        assert_eq!(k(400, "Throttling"), Kind::Throttled);
        assert_eq!(k(400, "ThrottlingException"), Kind::Throttled);
        assert_eq!(k(429, ""), Kind::Throttled);
        assert_eq!(k(400, "ExpiredToken"), Kind::ExpiredCredentials);
        assert_eq!(k(400, "ExpiredTokenException"), Kind::ExpiredCredentials);
        assert_eq!(k(403, "InvalidClientTokenId"), Kind::InvalidCredentials);
        assert_eq!(k(400, "ResourceNotFoundException"), Kind::NotFound);
        assert_eq!(k(400, "AWS.SimpleQueueService.NonExistentQueue"), Kind::NotFound);
        assert_eq!(k(400, "InvalidParameterValue"), Kind::Validation);
        assert_eq!(k(400, "ValidationError"), Kind::Validation);
        assert_eq!(k(500, "InternalFailure"), Kind::Service);
        assert_eq!(k(503, "ServiceUnavailable"), Kind::Unavailable);
        assert_eq!(k(502, ""), Kind::Unavailable);
        assert_eq!(k(403, "SomethingNew"), Kind::AccessDenied);
        let denied = service_error(&t, "cloudwatch:GetMetricData", "cloudwatch", "GetMetricData", 403, "AccessDenied", "User is not authorized");
        assert!(denied.hint.unwrap().contains("cloudwatch:GetMetricData"));
        let expired = service_error(&t, "sqs:SendMessage", "sqs", "SendMessage", 400, "ExpiredToken", "expired");
        assert!(expired.hint.unwrap().contains("aws sso login --profile ops"));
        assert!(Kind::Validation.is_about_the_request() && Kind::Service.is_about_the_request());
        for k in
            [Kind::Throttled, Kind::Unreachable, Kind::Timeout, Kind::AccessDenied, Kind::ExpiredCredentials, Kind::Unavailable, Kind::SsoExpired]
        {
            assert!(!k.is_about_the_request(), "{k:?}");
        }
    }
}
