//! STS: GetCallerIdentity, and "Check connection" end to end (profile, credentials, then the call),
//! each failure classified.

use crate::context::AwsContext;
use crate::error::{AwsError, Kind};
use crate::VigilUserAgent;
use vigil_dto::{CallerIdentity, Credentials};

pub fn client(ctx: &AwsContext, op_id: &str) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(ctx.sdk()).interceptor(VigilUserAgent::new(op_id)).build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub async fn caller_identity(ctx: &AwsContext, op_id: &str) -> Result<CallerIdentity, AwsError> {
    let out = match client(ctx, op_id).get_caller_identity().send().await {
        Ok(out) => out,
        Err(e) => return Err(crate::error::classify(ctx, "sts", "GetCallerIdentity", &e).await),
    };
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
    })
}

/// Checks an environment end to end: its profile, its credentials (so their failures are told
/// apart from the call's), then STS GetCallerIdentity.
pub async fn check_connection(ctx: &AwsContext, op_id: &str) -> Result<CallerIdentity, AwsError> {
    if let Credentials::Profile { name } = &ctx.target().credentials {
        let summary = ctx.profiles().require(name).await?;
        if !summary.problems.is_empty() {
            return Err(AwsError::new(
                Kind::ProfileInvalid,
                format!("profile '{name}' cannot be used: {}", summary.problems.join("; ")),
                "fix the profile in ~/.aws/config (or AWS_CONFIG_FILE)",
            ));
        }
    }
    ctx.credentials().await?;
    caller_identity(ctx, op_id).await
}
