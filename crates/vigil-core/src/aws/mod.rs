//! AWS access for an environment: one SDK configuration built from the environment (region,
//! endpoint override, credential source), and one client module per AWS service.
//!
//! Credentials are resolved only by aws-config's providers; Vigil never stores them. Every
//! request carries `vigil/<version> vigil-op/<operation id>` in its User-Agent so CloudTrail
//! entries can be matched to operator-log records.

pub mod cloudwatch;
pub mod logs;
pub mod profiles;
pub mod regions;
pub mod sqs;
pub mod sts;

use aws_config::{AppName, BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::region::Region;
use profiles::ProfileSource;
use std::time::Duration;
use vigil_dto::{Credentials, Environment, ErrorInfo, ProfileKind};

/// The fixed keys used with `Credentials::Emulator` (moto and similar accept any keys).
const EMULATOR_KEY: &str = "vigil-emulator";

/// Appends Vigil's product token and the operation id to the User-Agent header. User-Agent is
/// not part of the SigV4 signature, so changing it after signing is safe.
#[derive(Debug, Clone)]
pub struct VigilUserAgent {
    suffix: String,
}

impl VigilUserAgent {
    pub fn new(op_id: &str) -> Self {
        VigilUserAgent { suffix: format!("vigil/{} vigil-op/{op_id}", env!("CARGO_PKG_VERSION")) }
    }
}

impl Intercept for VigilUserAgent {
    fn name(&self) -> &'static str {
        "VigilUserAgent"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        let ua = match headers.get("user-agent") {
            Some(existing) => format!("{existing} {}", self.suffix),
            None => self.suffix.clone(),
        };
        headers.insert("user-agent", ua);
        Ok(())
    }
}

/// A service error as `Code: message`, or the transport failure with its causes.
pub fn describe_sdk_error<E>(e: &aws_sdk_sts::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>) -> String
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        aws_sdk_sts::error::SdkError::ServiceError(s) => match (s.err().code(), s.err().message()) {
            (None, None) => format!("the service answered HTTP {} without an error code or message", s.raw().status().as_u16()),
            (code, message) => format!("{}: {}", code.unwrap_or("error"), message.unwrap_or("no message")),
        },
        other => aws_sdk_sts::error::DisplayErrorContext(other).to_string(),
    }
}

/// A new operation id (also written to the operator log for mutating actions).
pub fn new_op_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The SDK configuration for talking to `env`.
pub async fn sdk_config(env: &Environment, profiles: &ProfileSource) -> SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(20))
        .operation_timeout(Duration::from_secs(45))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(env.region.clone()))
        .app_name(AppName::new("vigil").expect("a valid app name"))
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2));
    if let Some(url) = &env.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    match &env.credentials {
        Credentials::DefaultChain => {}
        Credentials::Profile { name } => {
            // Only this profile: the default chain would let environment variables win.
            let provider =
                aws_config::profile::ProfileFileCredentialsProvider::builder().profile_files(profiles.files().clone()).profile_name(name).build();
            loader = loader.profile_files(profiles.files().clone()).profile_name(name).credentials_provider(provider);
        }
        Credentials::Emulator => {
            let fixed = aws_credential_types::Credentials::new(EMULATOR_KEY, EMULATOR_KEY, None, None, "vigil-emulator");
            loader = loader.credentials_provider(fixed);
        }
    }
    loader.load().await
}

/// Whether a URL points at this machine (the only place emulator credentials may be sent).
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Resolves credentials up front so their failures are told apart from the API call's.
async fn resolve_credentials(cfg: &SdkConfig, env: &Environment, profiles: &ProfileSource) -> Result<(), ErrorInfo> {
    credentials(cfg, env, profiles).await.map(|_| ())
}

/// The environment's credentials, or why they cannot be had (expired SSO session, no
/// credentials, unreachable endpoint...).
pub async fn credentials(cfg: &SdkConfig, env: &Environment, profiles: &ProfileSource) -> Result<aws_credential_types::Credentials, ErrorInfo> {
    let Some(provider) = cfg.credentials_provider() else {
        return Err(no_credentials(env));
    };
    match provider.provide_credentials().await {
        Ok(c) => Ok(c),
        Err(aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_)) => Err(no_credentials(env)),
        Err(e) => {
            let text = profiles::error_chain(&e);
            if let Some(sso_profile) = sso_profile_in_chain(env, profiles).await {
                if !looks_like_network(&text) {
                    return Err(ErrorInfo {
                        kind: "sso_expired".into(),
                        message: format!("the AWS SSO session for profile '{sso_profile}' has expired or was never started ({text})"),
                        hint: Some(format!("aws sso login --profile {sso_profile}")),
                    });
                }
            }
            let kind = if looks_like_network(&text) { "endpoint_unreachable" } else { "credentials_error" };
            Err(ErrorInfo {
                kind: kind.into(),
                message: format!("the credentials for {} could not be loaded: {text}", env.credentials.label()),
                hint: Some("check the profile with `aws sts get-caller-identity --profile <name>`".into()),
            })
        }
    }
}

fn no_credentials(env: &Environment) -> ErrorInfo {
    let hint = match &env.credentials {
        Credentials::Profile { name } => format!("profile '{name}' yields no credentials; check it with `aws configure list --profile {name}`"),
        _ => "choose a profile for this environment, set AWS_PROFILE, or run `aws configure`".into(),
    };
    ErrorInfo { kind: "no_credentials".into(), message: "no AWS credentials were found for this environment".into(), hint: Some(hint) }
}

/// The SSO profile an environment's credentials come from, directly or through a role chain.
async fn sso_profile_in_chain(env: &Environment, profiles: &ProfileSource) -> Option<String> {
    let Credentials::Profile { name } = &env.credentials else { return None };
    let set = profiles.load().await.ok()?;
    let summary = profiles::summarize(&set, set.get_profile(name).map(|_| name.as_str())?);
    summary.chain.iter().filter(|p| set.get_profile(p).is_some()).find(|p| profiles::summarize(&set, p).kind == ProfileKind::Sso).cloned()
}

fn looks_like_network(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["dispatch failure", "connection refused", "dns error", "timed out", "timeout", "io error", "error trying to connect"]
        .iter()
        .any(|k| t.contains(k))
}

/// Checks an environment end to end: profile, credentials, then STS GetCallerIdentity.
pub async fn check_connection(env: &Environment, profiles: &ProfileSource, op_id: &str) -> Result<vigil_dto::CallerIdentity, ErrorInfo> {
    if let Credentials::Profile { name } = &env.credentials {
        let summary = profiles.require(name).await.map_err(|e| e.info())?;
        if !summary.problems.is_empty() {
            return Err(ErrorInfo {
                kind: "profile_invalid".into(),
                message: format!("profile '{name}' cannot be used: {}", summary.problems.join("; ")),
                hint: Some("fix the profile in ~/.aws/config (or AWS_CONFIG_FILE)".into()),
            });
        }
    }
    let cfg = sdk_config(env, profiles).await;
    resolve_credentials(&cfg, env, profiles).await?;
    sts::caller_identity(&cfg, env, op_id).await
}
