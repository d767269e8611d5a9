//! Vigil's AWS layer. Everything that talks to AWS goes through here:
//!
//! - [`context`]: one SDK configuration per environment, built once and reused by every call
//!   until the environment's AWS settings change ([`AwsContexts`]), with its credentials
//!   resolved once and cached until they near expiry (a role chain or an SSO profile signs in
//!   once, not on every refresh). Credentials come only from aws-config's providers; Vigil
//!   never stores them.
//! - [`error`]: one classified error ([`AwsError`]) for every page and command: unreachable,
//!   timeout, no credentials, SSO session expired (with the exact login command), expired or
//!   invalid keys, access denied (naming the IAM action), throttled, not found, validation,
//!   service error.
//! - one module per AWS service: [`sts`], [`cloudwatch`], [`logs`], [`sqs`], [`rds`] (IAM
//!   database tokens, the cluster's protection and snapshots), [`cloudformation`], [`ec2`],
//!   [`cloudtrail`], [`configservice`], [`eks`], [`elasticache`], [`s3`], [`backup`], [`iam`], [`servicequotas`], [`secretsmanager`], [`pricing`]; and the AWS files
//!   ([`profiles`]) and region names ([`regions`]).
//!
//! Every request carries `vigil/<version> vigil-op/<operation id>` in its User-Agent, so
//! CloudTrail entries can be matched to operator-log records.

/// A service's client for one operation of one environment: the SDK client over the
/// environment's cached configuration with the operation id in its User-Agent, and the context
/// its errors are classified with. Each service module declares its own with this.
macro_rules! service_client {
    ($(#[$doc:meta])* $name:ident, $sdk:ident) => {
        service_client!($(#[$doc])* $name, $sdk, |builder, _ctx| builder);
    };
    // `|builder, ctx| …` adjusts the service's configuration (S3's path-style addressing).
    ($(#[$doc:meta])* $name:ident, $sdk:ident, |$b:ident, $c:ident| $tweak:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            client: $sdk::Client,
            ctx: $crate::context::AwsContext,
        }

        impl $name {
            pub fn new(ctx: &$crate::context::AwsContext, op_id: &str) -> Self {
                let $b = $sdk::config::Builder::from(ctx.sdk()).interceptor($crate::VigilUserAgent::new(op_id));
                let $c = ctx;
                let conf = $tweak.build();
                $name { client: $sdk::Client::from_conf(conf), ctx: ctx.clone() }
            }

            /// Over a given client (tests: aws-smithy-mocks).
            pub fn with_client(ctx: &$crate::context::AwsContext, client: $sdk::Client) -> Self {
                $name { client, ctx: ctx.clone() }
            }
        }
    };
}

pub mod backup;
pub mod cloudformation;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod configservice;
pub mod context;
pub mod ec2;
pub mod eks;
pub mod elasticache;
pub mod error;
pub mod iam;
pub mod logs;
pub mod pricing;
pub mod profiles;
pub mod rds;
pub mod regions;
pub mod s3;
pub mod secretsmanager;
pub mod servicequotas;
pub mod sqs;
pub mod sts;
mod user_agent;

pub use context::{AwsContext, AwsContexts, AwsSettings, Target};
pub use error::{AwsError, Kind};
pub use user_agent::VigilUserAgent;

/// The SigV4 query parameters that presign a GET of `url` (with `headers` signed too) for
/// `service` in `region`, valid for `expires`: what RDS and EKS tokens are made of.
pub(crate) fn presign_query(
    url: &str,
    headers: &[(&str, &str)],
    service: &str,
    region: &str,
    creds: &aws_credential_types::Credentials,
    time: std::time::SystemTime,
    expires: std::time::Duration,
) -> Result<String, String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let request = SignableRequest::new("GET", url, headers.iter().copied(), SignableBody::Bytes(&[])).map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params).map_err(|e| e.to_string())?.into_parts();
    let (_, query) = instructions.into_parts();
    let mut out = String::new();
    for (k, v) in query {
        let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        out.push_str(&format!("&{k}={v}"));
    }
    Ok(out)
}

/// A new operation id (also written to the operator log for mutating actions).
pub fn new_op_id() -> String {
    uuid::Uuid::new_v4().to_string()
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

/// An error and its sources as one line: "could not parse profile file: error parsing … line 3: …".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
pub(crate) mod testing {
    /// A context for clients over aws-smithy-mocks (nothing is sent anywhere).
    pub async fn context() -> crate::AwsContext {
        let all = crate::AwsContexts::new(crate::profiles::ProfileSource::from_contents("", ""), Default::default());
        all.get(&crate::Target {
            environment: "prod".into(),
            region: "eu-west-1".into(),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            credentials: vigil_dto::Credentials::Emulator,
        })
        .await
    }
}
