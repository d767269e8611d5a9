//! IAM, for a deploy's preflight: the principal behind the caller (a user as it is; an assumed
//! role's role, with its path, from GetRole) and SimulatePrincipalPolicy of the bundle's actions.

use crate::error::AwsError;

/// Who the caller's permissions belong to.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A user or role that IAM can simulate, by ARN.
    Simulable(String),
    /// The account's root user: every action is allowed, nothing to simulate.
    Root,
    /// A federated user or another kind IAM cannot simulate, with the caller's ARN.
    Other(String),
}

/// SimulatePrincipalPolicy takes this many actions per call.
const ACTIONS_PER_CALL: usize = 50;

service_client!(
    /// IAM for one operation of one environment.
    Iam,
    aws_sdk_iam
);

/// `arn:<partition>:<service>::<account>:<resource>` → (partition, account, resource).
fn split_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, _, _, account, resource) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some((partition, account, resource))
}

impl Iam {
    /// The principal behind `caller_arn` (GetCallerIdentity's ARN).
    pub async fn principal_of(&self, caller_arn: &str) -> Result<Principal, AwsError> {
        let Some((partition, account, resource)) = split_arn(caller_arn) else { return Ok(Principal::Other(caller_arn.to_string())) };
        if resource == "root" {
            return Ok(Principal::Root);
        }
        if let Some(user) = resource.strip_prefix("user/") {
            return Ok(Principal::Simulable(format!("arn:{partition}:iam::{account}:user/{user}")));
        }
        if let Some(session) = resource.strip_prefix("assumed-role/") {
            let role = session.split('/').next().unwrap_or_default();
            return match self.client.get_role().role_name(role).send().await {
                Ok(out) => Ok(Principal::Simulable(out.role().map(|r| r.arn().to_string()).unwrap_or_default())),
                Err(e) => Err(crate::error::classify(&self.ctx, "iam", "GetRole", &e).await),
            };
        }
        Ok(Principal::Other(caller_arn.to_string()))
    }

    /// Each of `actions` simulated for `principal` on every resource: (action, decision), the
    /// decision being allowed, explicitDeny or implicitDeny.
    pub async fn simulate(&self, principal: &str, actions: &[String]) -> Result<Vec<(String, String)>, AwsError> {
        let mut out = vec![];
        for chunk in actions.chunks(ACTIONS_PER_CALL) {
            let mut marker: Option<String> = None;
            loop {
                let call = self
                    .client
                    .simulate_principal_policy()
                    .policy_source_arn(principal)
                    .set_action_names(Some(chunk.to_vec()))
                    .set_marker(marker.take());
                let page = match call.send().await {
                    Ok(p) => p,
                    Err(e) => return Err(crate::error::classify(&self.ctx, "iam", "SimulatePrincipalPolicy", &e).await),
                };
                out.extend(page.evaluation_results().iter().map(|r| (r.eval_action_name().to_string(), r.eval_decision().as_str().to_string())));
                match page.marker() {
                    Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType, Role};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn result(action: &str, decision: PolicyEvaluationDecisionType) -> EvaluationResult {
        EvaluationResult::builder().eval_action_name(action).eval_decision(decision).build().unwrap()
    }

    #[tokio::test]
    async fn an_assumed_role_is_simulated_as_its_role_with_its_path_in_batches_and_pages() {
        let ctx = crate::testing::context().await;
        let get_role = mock!(aws_sdk_iam::Client::get_role).match_requests(|r| r.role_name() == Some("Deployer")).then_output(|| {
            let role = Role::builder()
                .path("/ops/")
                .role_name("Deployer")
                .role_id("AROA")
                .arn("arn:aws:iam::111122223333:role/ops/Deployer")
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap();
            GetRoleOutput::builder().role(role).build()
        });
        let client = mock_client!(aws_sdk_iam, [&get_role]);
        let iam = Iam::with_client(&ctx, client);
        let p = iam.principal_of("arn:aws:sts::111122223333:assumed-role/Deployer/alice").await.unwrap();
        assert_eq!(p, Principal::Simulable("arn:aws:iam::111122223333:role/ops/Deployer".into()));
        assert_eq!(iam.principal_of("arn:aws:iam::111122223333:root").await.unwrap(), Principal::Root);
        assert_eq!(
            iam.principal_of("arn:aws:iam::111122223333:user/team/bob").await.unwrap(),
            Principal::Simulable("arn:aws:iam::111122223333:user/team/bob".into())
        );
        assert!(matches!(iam.principal_of("arn:aws:sts::111122223333:federated-user/carol").await.unwrap(), Principal::Other(_)));

        // 60 actions: two calls of at most 50, the first answered over two pages.
        let actions: Vec<String> = (0..60).map(|i| format!("svc:Action{i}")).collect();
        let first = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(|r| r.action_names().len() == 50 && r.marker().is_none())
            .then_output(|| {
                let mut out = SimulatePrincipalPolicyOutput::builder().is_truncated(true).marker("m2");
                for i in 0..25 {
                    out = out.evaluation_results(result(&format!("svc:Action{i}"), PolicyEvaluationDecisionType::Allowed));
                }
                out.build()
            });
        let second = mock!(aws_sdk_iam::Client::simulate_principal_policy).match_requests(|r| r.marker() == Some("m2")).then_output(|| {
            let mut out = SimulatePrincipalPolicyOutput::builder().is_truncated(false);
            for i in 25..50 {
                let d = if i == 30 { PolicyEvaluationDecisionType::ExplicitDeny } else { PolicyEvaluationDecisionType::Allowed };
                out = out.evaluation_results(result(&format!("svc:Action{i}"), d));
            }
            out.build()
        });
        let third = mock!(aws_sdk_iam::Client::simulate_principal_policy).match_requests(|r| r.action_names().len() == 10).then_output(|| {
            let mut out = SimulatePrincipalPolicyOutput::builder().is_truncated(false);
            for i in 50..60 {
                out = out.evaluation_results(result(&format!("svc:Action{i}"), PolicyEvaluationDecisionType::ImplicitDeny));
            }
            out.build()
        });
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&first, &second, &third]);
        let got = Iam::with_client(&ctx, client).simulate("arn:aws:iam::111122223333:role/ops/Deployer", &actions).await.unwrap();
        assert_eq!(got.len(), 60);
        assert_eq!(got[30], ("svc:Action30".to_string(), "explicitDeny".to_string()));
        assert_eq!(got.iter().filter(|(_, d)| d == "implicitDeny").count(), 10);
        assert_eq!((first.num_calls(), second.num_calls(), third.num_calls()), (1, 1, 1));
    }

    #[tokio::test]
    async fn a_simulation_that_is_itself_denied_is_classified_as_access_denied() {
        let ctx = crate::testing::context().await;
        let denied = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_error(|| {
            aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("User: arn:aws:iam::1:user/x is not authorized to perform: iam:SimulatePrincipalPolicy")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_iam, [&denied]);
        let e = Iam::with_client(&ctx, client).simulate("arn:aws:iam::1:user/x", &["s3:GetObject".into()]).await.unwrap_err();
        assert_eq!(e.kind, crate::Kind::AccessDenied, "{e:?}");
        assert!(e.message.contains("iam:SimulatePrincipalPolicy"), "{}", e.message);
    }
}
