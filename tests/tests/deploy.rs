//! Deploying the platform bundle into the AWS emulator (moto with Vigil's extensions, so every
//! stack of the bundle really deploys): preflight, the plan, apply with its progress and
//! journal, the environment's deployment parameters after, a second plan, the gate on removing
//! data, refusals of bad bundles and names, a Vigil killed mid-apply re-attaching, and the
//! fault injector on the flow's AWS calls.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use vigil_aws::cloudformation::{ChangeKind, CloudFormation};
use vigil_core::App;
use vigil_dto::deploy::{CheckStatus, DeployRequest, DeploymentStatus};
use vigil_tests::faults::{Fault, FaultProxy};
use vigil_tests::kube::{FakeKube, RolloutMode, Stuck};
use vigil_tests::{bundle_copy, bundle_public_key as public_key, sign_bundle, signed_bundle};

async fn console(dir: &Path, endpoint: &str) -> App {
    common::console(dir, endpoint, Default::default()).await
}

/// The console with its AWS calls through the fault injector, giving up quickly.
async fn console_through(dir: &Path, proxy: &FaultProxy) -> App {
    common::quick(console(dir, &proxy.endpoint()).await)
}

fn request() -> DeployRequest {
    DeployRequest { environment: "prod".into(), tier: "small".into(), ..Default::default() }
}

/// The operator-log actions after the test's set-up (add, select, trust), oldest first.
async fn actions(app: &App) -> Vec<String> {
    let all: Vec<String> = app.oplog().list(200, None).await.unwrap().into_iter().map(|e| e.action).rev().collect();
    all[3..].to_vec()
}

/// Applies `plan` and keeps every status it reported.
async fn apply(app: &App, plan: &str, confirm: Option<&str>) -> (vigil_core::Result<DeploymentStatus>, Vec<DeploymentStatus>) {
    let seen = Mutex::new(vec![]);
    let report = |s: &DeploymentStatus| seen.lock().unwrap().push(s.clone());
    let out = app.deploy().apply(plan, confirm, &report).await;
    (out, seen.into_inner().unwrap())
}

/// A signed bundle whose `stack` also holds a resource its service refuses (a queue name with
/// spaces).
fn broken_bundle(version: &str, stack: &str) -> tempfile::TempDir {
    signed_bundle(version, |dir| {
        let path = dir.join(format!("cloudformation/{stack}.yaml"));
        let bad = "Resources:\n  Broken:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: \"not a queue name!\"\n";
        let text = std::fs::read_to_string(&path).unwrap().replacen("Resources:\n", bad, 1);
        std::fs::write(path, text).unwrap();
    })
}

/// Plans and applies `bundle` to `prod`: it must succeed.
async fn deployed(app: &App, bundle: &Path) -> vigil_dto::deploy::DeployPlan {
    let plan = app.deploy().plan(&request(), Some(bundle)).await.unwrap();
    assert_eq!(apply(app, &plan.id, None).await.0.unwrap().state, "succeeded");
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_environment_deploys_every_stack_and_every_page_gets_its_parameters() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;

    let pre = app.deploy().preflight(&request(), Some(bundle.path())).await.unwrap();
    let status: Vec<(&str, CheckStatus)> = pre.checks.iter().map(|c| (c.id.as_str(), c.status)).collect();
    assert!(pre.ready, "{:#?}", pre.checks);
    assert_eq!(
        status,
        [
            ("identity", CheckStatus::Pass),
            ("permissions", CheckStatus::Pass),
            ("quotas", CheckStatus::Pass),
            ("zones", CheckStatus::Pass),
            ("cidr", CheckStatus::Pass),
            ("instance-type", CheckStatus::Pass),
            ("database-class", CheckStatus::Pass),
            ("stacks", CheckStatus::Pass),
            // A fresh emulator account has no trail and no Config recorder: warnings, not blockers.
            ("cloudtrail", CheckStatus::Warn),
            ("config", CheckStatus::Warn),
        ]
    );
    assert!(pre.checks.iter().filter(|c| c.status == CheckStatus::Warn).all(|c| c.fix.is_some()));
    assert_eq!(pre.account.as_deref(), Some("123456789012"));

    let plan = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap();
    assert_eq!(plan.platform_environment, "prod");
    assert!(plan.stacks.iter().all(|s| s.action == "create"), "{:?}", plan.stacks.iter().map(|s| &s.action).collect::<Vec<_>>());
    assert!(plan.gates.is_empty());
    assert!((2500.0..3500.0).contains(&plan.cost.total), "{}", plan.cost.total);
    // The emulator has no Price List API: the bundle's snapshot, said so.
    assert!(plan.cost.source.contains("as known when this bundle was made"), "{}", plan.cost.source);
    assert!(plan.cost.notes[0].contains("emulator, which has no Price List API"), "{:?}", plan.cost.notes);
    let network = &plan.stacks[1];
    assert_eq!(network.parameters["LogsKeyArn"], "<from an earlier stack: LogsKeyArn>");
    assert_eq!(network.parameters["NatGateways"], "1");

    let (out, seen) = apply(&app, &plan.id, None).await;
    let out = out.unwrap();
    assert_eq!(out.state, "succeeded", "{:?} / {:?}", out.root_cause, out.next);
    assert!(out.stacks.iter().all(|s| s.state == "done"));
    assert_eq!(out.eta_s, None);
    // Progress came stack by stack, in the bundle's order.
    let first_done: Vec<String> = vigil_core::deploy::templates::STACKS
        .iter()
        .map(|st| seen.iter().position(|s| s.stacks.iter().any(|x| x.stack == *st && x.state == "done")).unwrap().to_string())
        .collect();
    let mut sorted = first_done.iter().map(|s| s.parse::<usize>().unwrap()).collect::<Vec<_>>();
    let copy = sorted.clone();
    sorted.sort();
    assert_eq!(sorted, copy, "stacks finished out of order");

    // The environment now names what was deployed; every catalog parameter is set.
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!(env.deployment["cluster_name"], "pj-prod");
    assert_eq!(env.deployment["db_cluster_id"], "pj-prod");
    assert_eq!(env.deployment["cache_cluster_id"], "pj-prod-001");
    assert_eq!(env.deployment["backup_vault"], "pj-prod");
    assert_eq!(env.deployment["environment"], "prod");
    assert_eq!(env.deployment["namespace"], "patient-journey");
    assert!(env.deployment["bucket"].starts_with("pj-prod-documents-"), "{:?}", env.deployment);
    assert!(env.deployment["queue_url"].ends_with("/pj-prod-work"), "{:?}", env.deployment);
    // All but the audit keys (the worker's), the stack's cluster (named only while the platform
    // runs on a restored one), what the operator sets for DR (the secondary region's, and
    // another bucket for the DR lease), and the stacks' region while the platform runs in its DR
    // region (a regional runbook sets it).
    let not_by_deploy = [
        "audit_public_keys",
        "db_cluster_stack",
        "global_cluster_id",
        "secondary_region",
        "secondary_cluster_arn",
        "secondary_queue_url",
        "dr_lease_bucket",
        "dr_four_eyes",
        "home_region",
    ];
    for p in app.environments().deployment_parameters().into_iter().filter(|p| !not_by_deploy.contains(&p.name.as_str())) {
        assert!(env.deployment.contains_key(&p.name), "{} is not set by the deploy", p.name);
    }
    // The Metrics page finds every component's charts with no parameter missing.
    let dash = app.metrics().fetch(&[], vigil_dto::TimeRange::Last { seconds: 3600 }, 800, &Default::default()).await.unwrap();
    assert!(dash.unavailable.is_empty(), "{:?}", dash.unavailable);
    assert!(dash.charts.iter().all(|c| c.error.is_none()), "{:?}", dash.charts.iter().filter_map(|c| c.error.as_ref()).collect::<Vec<_>>());

    // New stacks are protected.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    let db = cf.stack("pj-prod-database").await.unwrap().unwrap();
    assert!(db.termination_protection);

    set_up_as_promised(&app, &ctx, &kube, &out, &seen).await;
    assert_eq!(
        actions(&app).await,
        [
            "deploy.plan",
            "deploy.apply",
            "environment.edit",
            "environment.edit",
            "deploy.set_up",
            "platform_db.set",
            "deploy.set_up",
            "deploy.set_up",
            "deploy.set_up",
            "deploy.applied"
        ]
    );

    // A plan is applied once.
    let again = app.deploy().apply(&plan.id, None, &|_| {}).await.unwrap_err();
    assert_eq!(again.kind(), "plan_used");

    // Planning again over what exists: change sets for every stack, nothing replaced.
    let second = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap();
    assert!(
        second.stacks.iter().all(|s| s.action == "update" || s.action == "none"),
        "{:?}",
        second.stacks.iter().map(|s| &s.action).collect::<Vec<_>>()
    );
    assert!(second.gates.is_empty(), "{:?}", second.gates);
}

/// After the stacks: the worker's keys in Secrets Manager with the public key pinned, the
/// migrations applied and the worker's login working, the manifests applied to the cluster by
/// server-side apply with an EKS token, the rollout waited on.
async fn set_up_as_promised(app: &App, ctx: &vigil_aws::AwsContext, kube: &FakeKube, out: &DeploymentStatus, seen: &[DeploymentStatus]) {
    let steps: Vec<(&str, &str)> = out.setup.iter().map(|s| (s.id.as_str(), s.state.as_str())).collect();
    assert_eq!(steps, [("keys", "done"), ("database", "done"), ("kubernetes", "done"), ("rollout", "done")], "{:#?}", out.setup);
    // The rollout's progress was shown while it was waited on.
    assert!(
        seen.iter().any(|s| s
            .setup
            .iter()
            .any(|x| x.id == "rollout" && x.state == "running" && x.detail.as_deref().is_some_and(|d| d.contains("available")))),
        "no rollout progress was reported"
    );
    let env = app.environments().get("prod").await.unwrap();

    // Keys: made in Secrets Manager, their public key pinned.
    let sm = vigil_aws::secretsmanager::SecretsManager::new(ctx, "test");
    let keys = pj_audit::keys::parse(&sm.value("pj-prod/worker-keys").await.unwrap().expect("the worker's keys")).unwrap();
    assert_eq!(env.deployment["audit_public_keys"], hex::encode(keys.signing.verifying_key().as_bytes()));

    // Database: migrated; the worker's login (password from its secret) reads and writes jobs.
    let secret: serde_json::Value = serde_json::from_str(&sm.value("pj-prod/aurora-worker").await.unwrap().expect("the worker's login")).unwrap();
    let database = secret["dbname"].as_str().unwrap();
    let (host, port) = vigil_tests::platform_db::server_addr();
    let url = format!("postgres://{}:{}@{host}:{port}/{database}", secret["username"].as_str().unwrap(), secret["password"].as_str().unwrap());
    let mut worker = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("the worker's login works");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success").fetch_one(&mut worker).await.unwrap();
    assert_eq!(applied as usize, std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy-bundles/migrations")).unwrap().count());
    sqlx::query(
        "INSERT INTO jobs (id, kind, source_uri, status, attempts, max_attempts) VALUES (gen_random_uuid(), 'deid', 's3://b/k', 'queued', 0, 3)",
    )
    .execute(&mut worker)
    .await
    .expect("the worker writes jobs");
    let refused = sqlx::query("CREATE TABLE intruder (x int)").execute(&mut worker).await.unwrap_err();
    assert!(refused.to_string().contains("permission denied"), "{refused}");
    // The console's login: IAM authentication, the audit tables readable.
    let db = env.platform_db.clone().expect("the console's platform database is set");
    assert_eq!((db.database.as_str(), db.user, db.auth), (database, format!("{database}_console"), vigil_dto::DbAuth::Iam));

    // Kubernetes: every object applied by server-side apply as "vigil", authenticated by STS.
    let requests = kube.requests();
    assert!(requests.iter().all(|r| r.caller.as_deref().is_some_and(|c| c.starts_with("arn:aws:"))), "{requests:#?}");
    let patches: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert!(patches
        .iter()
        .all(|r| r.content_type == "application/apply-patch+yaml" && r.query.contains("fieldManager=vigil") && r.query.contains("force=true")));
    assert_eq!(patches[0].path, "/api/v1/namespaces/patient-journey", "the namespace first");
    let ns = "/api/v1/namespaces/patient-journey";
    let cm = kube.object(&format!("{ns}/configmaps/pj-worker")).expect("the worker's settings");
    assert_eq!(cm["data"]["PJ_QUEUE_URL"], env.deployment["queue_url"].as_str());
    assert_eq!(cm["data"]["PJ_DATABASE_SECRET_ID"], "pj-prod/aurora-worker");
    let outputs = CloudFormation::new(ctx, "test").stack("pj-prod-cluster").await.unwrap().unwrap().outputs;
    let role = outputs.iter().find(|(k, _)| k == "WorkerRoleArn").unwrap().1.clone();
    let sa = kube.object(&format!("{ns}/serviceaccounts/pj-worker")).unwrap();
    assert_eq!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], role.as_str());
    let deployment = kube.object("/apis/apps/v1/namespaces/patient-journey/deployments/pj-worker").unwrap();
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], "pj-worker:1.0.0");
    assert!(kube.object("/apis/networking.k8s.io/v1/namespaces/patient-journey/networkpolicies/pj-worker").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_resource_that_holds_data_is_a_gate_that_only_the_typed_name_opens() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let v1 = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;
    let plan = app.deploy().plan(&request(), Some(v1.path())).await.unwrap();
    assert_eq!(apply(&app, &plan.id, None).await.0.unwrap().state, "succeeded");

    // 1.1.0 drops the worker's log group (and its output).
    let v2 = signed_bundle("1.1.0", |dir| {
        let path = dir.join("cloudformation/observability.yaml");
        let t = std::fs::read_to_string(&path).unwrap();
        let start = t.find("  WorkerLogs:").unwrap();
        let end = t.find("\nOutputs:").unwrap();
        let out = t.find("  WorkerLogGroup:").unwrap();
        let t = format!("{}{}", &t[..start], &t[end..out]);
        std::fs::write(path, t).unwrap();
    });
    let plan = app.deploy().plan(&request(), Some(v2.path())).await.unwrap();
    assert_eq!(plan.bundle.version, "1.1.0");
    assert_eq!(plan.gates.len(), 1, "{:?}", plan.gates);
    assert_eq!((plan.gates[0].logical_id.as_str(), plan.gates[0].action.as_str()), ("WorkerLogs", "remove"));
    let before = actions(&app).await.len();
    for wrong in [None, Some("prod "), Some("Prod"), Some("yes")] {
        let e = apply(&app, &plan.id, wrong.filter(|w| w.trim() != "prod")).await.0.unwrap_err();
        assert_eq!(e.kind(), "confirmation_required", "{wrong:?}");
        assert!(e.hint().unwrap().contains("(prod)"));
    }
    // Refused means nothing happened: the log group is there, nothing was logged.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    let obs = cf.stack("pj-prod-observability").await.unwrap().unwrap();
    assert!(obs.outputs.iter().any(|(k, _)| k == "WorkerLogGroup"));
    assert_eq!(actions(&app).await.len(), before);

    let out = apply(&app, &plan.id, Some("prod")).await.0.unwrap();
    assert_eq!(out.state, "succeeded", "{:?}", out.root_cause);
    let obs = cf.stack("pj-prod-observability").await.unwrap().unwrap();
    assert!(!obs.outputs.iter().any(|(k, _)| k == "WorkerLogGroup"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bundles_taken_names_and_overlapping_blocks_are_refused_and_change_nothing() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = console(data.path(), &moto.endpoint()).await;
    let logged = actions(&app).await.len();

    let tampered = signed_bundle("1.0.0", |_| {});
    std::fs::write(tampered.path().join("tiers.json"), "{}").unwrap();
    let e = app.deploy().plan(&request(), Some(tampered.path())).await.unwrap_err();
    assert_eq!(e.kind(), "bundle");
    assert!(e.to_string().contains("tiers.json was changed after signing"), "{e}");

    let newer = bundle_copy();
    sign_bundle(newer.path(), "9.0.0", "99.0.0");
    let e = app.deploy().bundle_summary(Some(newer.path())).await.unwrap_err();
    assert!(e.to_string().contains("needs Vigil 99.0.0 or newer"), "{e}");

    let good = signed_bundle("1.0.0", |_| {});
    app.deploy().distrust(&public_key()).await.unwrap();
    let e = app.deploy().plan(&request(), Some(good.path())).await.unwrap_err();
    assert!(e.to_string().contains("whom this console does not trust") && e.hint().unwrap().contains("vigil deploy trust"), "{e}");
    app.deploy().trust("Patient Journey test releases", &public_key()).await.unwrap();

    let e = app.deploy().plan(&DeployRequest { platform_environment: "Prod!".into(), ..request() }, Some(good.path())).await.unwrap_err();
    assert_eq!(e.kind(), "validation");
    let e = app.deploy().plan(&DeployRequest { tier: "huge".into(), ..request() }, Some(good.path())).await.unwrap_err();
    assert!(e.to_string().contains("no tier \"huge\""), "{e}");
    let mut bad_param = request();
    bad_param.overrides.insert("network".into(), [("NoSuchThing".to_string(), "1".to_string())].into());
    assert!(app.deploy().plan(&bad_param, Some(good.path())).await.unwrap_err().to_string().contains("no parameter \"NoSuchThing\""));

    // A VPC already on the platform's block, and a stack of the platform's name someone else made.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    let vpc = "Resources:\n  Legacy:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.40.0.0/20\n";
    let id = cf.create_change_set("legacy-network", "c1", ChangeKind::Create, vpc, &[], &[]).await.unwrap();
    cf.execute_change_set("legacy-network", &id).await.unwrap();
    let topic = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n";
    let id = cf.create_change_set("pj-prod-observability", "c1", ChangeKind::Create, topic, &[], &[]).await.unwrap();
    cf.execute_change_set("pj-prod-observability", &id).await.unwrap();

    let pre = app.deploy().preflight(&request(), Some(good.path())).await.unwrap();
    assert!(!pre.ready);
    let by_id = |id: &str| pre.checks.iter().find(|c| c.id == id).unwrap().clone();
    assert_eq!(by_id("cidr").status, CheckStatus::Fail);
    assert!(by_id("cidr").detail.contains("10.40.0.0/20"), "{}", by_id("cidr").detail);
    assert_eq!(by_id("stacks").status, CheckStatus::Fail);
    assert!(by_id("stacks").detail.contains("pj-prod-observability exists that Vigil did not make"), "{}", by_id("stacks").detail);
    // Another block passes the CIDR check.
    let mut other = request();
    other.overrides.insert("network".into(), [("VpcCidr".to_string(), "10.50.0.0/16".to_string())].into());
    assert_eq!(app.deploy().preflight(&other, Some(good.path())).await.unwrap().checks[2].status, CheckStatus::Pass);

    let e = app.deploy().plan(&request(), Some(good.path())).await.unwrap_err();
    assert_eq!(e.kind(), "name_in_use", "{e}");
    // None of it was logged (trust and distrust were), and no stack of the platform was made.
    assert_eq!(actions(&app).await[logged..], ["publisher.distrust", "publisher.trust"]);
    for stack in ["security", "network", "storage"] {
        assert!(cf.stack(&format!("pj-prod-{stack}")).await.unwrap().is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_faults_during_the_flow_are_classified_and_a_resume_finishes_the_apply() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console_through(data.path(), &proxy).await;

    // Preflight: expired credentials fail the identity check with what to do; nothing else is asked.
    proxy.inject("sts", None, Fault::ExpiredToken, 2);
    let pre = app.deploy().preflight(&request(), Some(bundle.path())).await.unwrap();
    assert!(!pre.ready);
    assert_eq!(pre.checks.len(), 1);
    assert!(pre.checks[0].fix.is_some(), "{:?}", pre.checks[0]);
    proxy.clear();

    // Preflight: a service answering 500 (or throttling past the retries) fails its checks with
    // the classified message and what to do; the checks that ask other services still run.
    let baseline = app.deploy().preflight(&request(), Some(bundle.path())).await.unwrap();
    let status_of = |pre: &vigil_dto::deploy::PreflightReport, id: &str| pre.checks.iter().find(|c| c.id == id).unwrap().status;
    for (service, fault, failing) in [
        ("ec2", Fault::Status(500), &["quotas", "zones", "cidr", "instance-type"][..]),
        ("iam", Fault::Status(500), &["permissions"][..]),
        ("servicequotas", Fault::Throttle { retry_after: None }, &["quotas"][..]),
        ("rds", Fault::Status(503), &["database-class"][..]),
        ("cloudtrail", Fault::Status(500), &["cloudtrail"][..]),
        ("config", Fault::Throttle { retry_after: None }, &["config"][..]),
    ] {
        proxy.inject(service, None, fault, 20);
        let pre = app.deploy().preflight(&request(), Some(bundle.path())).await.unwrap();
        assert!(!pre.ready, "{service}");
        for c in &pre.checks {
            if failing.contains(&c.id.as_str()) {
                assert_eq!(c.status, CheckStatus::Fail, "{service}: {c:?}");
                assert!(c.detail.contains(&format!("{service}:")) && c.fix.is_some(), "{c:?}");
            } else {
                assert_eq!(c.status, status_of(&baseline, &c.id), "{service}: {c:?}");
            }
        }
        proxy.clear();
    }

    // Plan: throttling on DescribeStacks past the retries is a classified error; no plan kept.
    proxy.inject("cloudformation", Some("DescribeStacks"), Fault::Throttle { retry_after: None }, 2);
    let e = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap_err();
    assert_eq!(e.kind(), "throttled", "{e}");
    assert!(app.deploy().status("prod").await.unwrap().is_none());
    proxy.clear();

    // Apply: the fourth stack's execution gets a 503 twice; the apply stops there, journalled
    // as still applying, with the AWS error as the reason and what to do.
    let plan = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap();
    proxy.inject_after("cloudformation", Some("ExecuteChangeSet"), 3, Fault::Status(503), 2);
    let e = apply(&app, &plan.id, None).await.0.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    let st = app.deploy().status("prod").await.unwrap().unwrap();
    assert_eq!(st.state, "applying");
    assert_eq!(st.stacks.iter().filter(|s| s.state == "done").count(), 3);
    assert!(st.next.as_deref().unwrap().contains("vigil deploy resume"));
    proxy.clear();

    // Resume picks up the fourth stack's own change set and finishes.
    let done = app.deploy().resume(&|_| {}).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].state, "succeeded", "{:?}", done[0].root_cause);
    let executes = proxy.seen().iter().filter(|s| s.service == "cloudformation" && s.action == "ExecuteChangeSet" && s.fault.is_none()).count();
    assert_eq!(executes, 9, "each stack executed once");
}

/// RDS and S3 clients on the emulator, as the tests look at what a teardown leaves.
async fn rds_and_s3(endpoint: &str) -> (aws_sdk_rds::Client, aws_sdk_s3::Client, aws_sdk_ec2::Client) {
    let ctx = vigil_tests::emulator_context(endpoint).await;
    let s3 = aws_sdk_s3::config::Builder::from(ctx.sdk()).force_path_style(true).build();
    (aws_sdk_rds::Client::new(ctx.sdk()), aws_sdk_s3::Client::from_conf(s3), aws_sdk_ec2::Client::new(ctx.sdk()))
}

const STACKS_NEWEST_FIRST: [&str; 9] = ["alarms", "backup", "observability", "cluster", "cache", "database", "storage", "network", "security"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teardown_takes_the_typed_name_deletes_every_stack_and_keeps_the_final_snapshot_buckets_keys_and_vault() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;
    deployed(&app, bundle.path()).await;
    let (rds, s3, _) = rds_and_s3(&moto.endpoint()).await;
    let cluster = rds.describe_db_clusters().db_cluster_identifier("pj-prod").send().await.unwrap();
    assert_eq!(cluster.db_clusters()[0].deletion_protection(), Some(true));

    let teardown = app.deploy().plan_teardown("prod").await.unwrap();
    assert_eq!(teardown.kind, "teardown");
    assert_eq!(teardown.stacks.iter().map(|s| s.stack.as_str()).collect::<Vec<_>>(), STACKS_NEWEST_FIRST);
    assert!(teardown.stacks.iter().all(|s| s.action == "delete"));
    let database = teardown.stacks.iter().find(|s| s.stack == "database").unwrap();
    let snapshot = database.changes.iter().find(|c| c.logical_id == "Cluster").unwrap();
    assert_eq!(snapshot.action, "snapshot");
    let kept_types = |kept: &[vigil_dto::deploy::KeptResource], t: &str| kept.iter().filter(|k| k.resource_type == t).count();
    assert_eq!(kept_types(&teardown.kept, "AWS::S3::Bucket"), 2, "{:#?}", teardown.kept);
    assert_eq!(kept_types(&teardown.kept, "AWS::KMS::Key"), 3, "{:#?}", teardown.kept);
    assert_eq!(kept_types(&teardown.kept, "AWS::Backup::BackupVault"), 1, "{:#?}", teardown.kept);
    // What goes with its data (the queue, the log groups, the EKS cluster) is named.
    assert!(teardown.gates.iter().any(|g| g.resource_type == "AWS::SQS::Queue"), "{:#?}", teardown.gates);

    // Without the environment's name typed, nothing is deleted and nothing logged.
    let before = actions(&app).await.len();
    for wrong in [None, Some("yes"), Some("Prod")] {
        let e = apply(&app, &teardown.id, wrong).await.0.unwrap_err();
        assert_eq!(e.kind(), "confirmation_required", "{wrong:?}");
        assert!(e.hint().unwrap().contains("(prod)"));
    }
    assert_eq!(actions(&app).await.len(), before);
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    for stack in STACKS_NEWEST_FIRST {
        assert!(cf.stack(&format!("pj-prod-{stack}")).await.unwrap().is_some(), "{stack}");
    }

    let (out, seen) = apply(&app, &teardown.id, Some("prod")).await;
    let out = out.unwrap();
    assert_eq!(out.state, "succeeded", "{:?}", out.root_cause);
    assert!(seen.len() > 9, "progress after every step: {}", seen.len());
    for stack in STACKS_NEWEST_FIRST {
        assert!(cf.stack(&format!("pj-prod-{stack}")).await.unwrap().is_none(), "{stack} is still there");
    }
    // The final snapshot is listed and is really there; the cluster is gone.
    let snap = out.kept.iter().find(|k| k.resource_type == "AWS::RDS::DBClusterSnapshot").unwrap();
    let snap_id = snap.physical_id.clone().expect("the final snapshot is named");
    let found = rds.describe_db_cluster_snapshots().db_cluster_snapshot_identifier(&snap_id).send().await.unwrap();
    assert_eq!(found.db_cluster_snapshots()[0].db_cluster_identifier(), Some("pj-prod"));
    assert!(rds.describe_db_clusters().send().await.unwrap().db_clusters().is_empty());
    // The buckets are kept, and still answer.
    for bucket in out.kept.iter().filter(|k| k.resource_type == "AWS::S3::Bucket") {
        s3.head_bucket().bucket(bucket.physical_id.as_deref().unwrap()).send().await.unwrap();
    }
    // The environment no longer points at what was deleted; the record lists what was kept.
    let env = app.environments().get("prod").await.unwrap();
    assert!(!env.deployment.contains_key("cluster_name") && !env.deployment.contains_key("db_cluster_id"), "{:?}", env.deployment);
    assert_eq!(actions(&app).await[before..], ["deploy.apply", "environment.edit", "deploy.destroyed"]);
    let record = app.oplog().list(1, None).await.unwrap().remove(0);
    assert!(record.details.to_string().contains(&snap_id), "{}", record.details);
    // Nothing is left to validate: the stacks check says so, and nothing else is asked.
    let v = app.deploy().validate("prod").await.unwrap();
    assert!(!v.ok);
    assert_eq!(v.checks[0].status, CheckStatus::Fail);
    assert!(v.checks[0].detail.contains("pj-prod-security does not exist"), "{}", v.checks[0].detail);
}

fn check<'a>(v: &'a vigil_dto::deploy::ValidationReport, id: &str) -> &'a vigil_dto::deploy::PreflightCheck {
    v.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id}: {:#?}", v.checks))
}

/// Every validation check, in order.
const VALIDATION: [&str; 13] = [
    "stacks",
    "eks-cluster",
    "eks-nodes",
    "worker",
    "aurora",
    "aurora-zones",
    "cache",
    "bucket",
    "queue",
    "backup-plan",
    "backup-coverage",
    "alarms",
    "smoke",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_platform_validates_and_each_component_changed_behind_its_back_fails_its_own_check() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;
    let plan = deployed(&app, bundle.path()).await;

    let v = app.deploy().validate("prod").await.unwrap();
    assert_eq!(v.checks.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), VALIDATION);
    assert!(v.ok && v.checks.iter().all(|c| c.status == CheckStatus::Pass), "{:#?}", v.checks);
    assert!(
        check(&v, "aurora-zones").detail.contains("writer pj-prod-1 in us-east-1a; reader(s) pj-prod-2 in us-east-1b"),
        "{:?}",
        check(&v, "aurora-zones")
    );
    assert!(check(&v, "alarms").detail.contains("all 9 alarms"), "{:?}", check(&v, "alarms"));
    // The smoke test went through the deployed worker (the fake kubelet's pj-worker processes):
    // its job is in the ledger as succeeded and its audit record is in a pod's stream.
    let smoke = check(&v, "smoke");
    assert!(smoke.detail.contains("succeeded") && smoke.detail.contains("verifies in its chain"), "{smoke:?}");
    let pods = kube.pods();
    assert_eq!(pods.len(), 2, "the small tier's two replicas: {pods:?}");
    assert!(pods.iter().any(|p| smoke.detail.contains(&format!("audit record {p}#"))), "{smoke:?} {pods:?}");
    let logged: Vec<_> = app.oplog().list(10, None).await.unwrap().into_iter().filter(|r| r.action == "deploy.smoke_test").collect();
    let details: serde_json::Value = serde_json::from_str(&logged[0].details).unwrap();
    assert_eq!((details["status"].as_str(), details["passed"].as_bool()), (Some("succeeded"), Some(true)), "{details}");
    assert!(details["key"].as_str().unwrap().starts_with("input/vigil-smoke/"), "{details}");

    // The record of a validated deployment: the file is what the operator log says.
    let pdf = data.path().join("record.pdf");
    let r = app.deploy().record("prod", &pdf).await.unwrap();
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    use sha2::Digest;
    assert_eq!(r.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!((r.deployment.as_str(), r.validation.ok, r.bytes as usize), (plan.id.as_str(), true, bytes.len()));
    let logged = app.oplog().list(1, None).await.unwrap().remove(0);
    assert_eq!(logged.action, "deploy.record");
    let details: serde_json::Value = serde_json::from_str(&logged.details).unwrap();
    assert_eq!(details["sha256"], r.sha256);
    assert_eq!(details["bundle_sha256"], plan.bundle.manifest_sha256);

    // Changes made outside the stacks, each caught by its own check.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let (rds, s3, _) = rds_and_s3(&moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let bucket = env.deployment["bucket"].clone();
    let versioning = aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Suspended).build();
    s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(versioning).send().await.unwrap();
    rds.modify_db_cluster().db_cluster_identifier("pj-prod").deletion_protection(false).send().await.unwrap();
    rds.delete_db_instance().db_instance_identifier("pj-prod-2").skip_final_snapshot(true).send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(ctx.sdk());
    cw.delete_alarms().alarm_names("pj-prod-aurora-cpu").send().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(ctx.sdk());
    sqs.set_queue_attributes()
        .queue_url(&env.deployment["queue_url"])
        .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, "")
        .send()
        .await
        .unwrap();
    // The worker's pods stop coming up (a bad image, a node lost).
    kube.break_current(Stuck::ImagePull);
    let v = app.deploy().validate("prod").await.unwrap();
    assert!(!v.ok);
    for (id, says) in [
        ("worker", "timed out progressing"),
        ("bucket", "versioning is Suspended"),
        ("aurora", "deletion protection is off"),
        ("aurora-zones", "has no reader"),
        ("alarms", "pj-prod-aurora-cpu"),
        ("queue", "no redrive policy"),
        ("smoke", "not run: the worker or the documents bucket is not ready"),
    ] {
        let c = check(&v, id);
        assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
        assert!(c.detail.contains(says) && c.fix.is_some(), "{c:?}");
    }
    for id in ["stacks", "eks-cluster", "eks-nodes", "cache", "backup-plan", "backup-coverage"] {
        assert_eq!(check(&v, id).status, CheckStatus::Pass, "{:?}", check(&v, id));
    }

    // A bucket that lost its backup tag is no longer covered by the plan.
    let tags = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("pj:environment").value("prod").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(&bucket).tagging(tags).send().await.unwrap();
    let c = check(&app.deploy().validate("prod").await.unwrap(), "backup-coverage").clone();
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(c.detail.contains(&format!("bucket {bucket}")) && c.detail.contains("is not covered"), "{c:?}");

    // The record of a platform that does not validate says so, and the log names the failures.
    let r = app.deploy().record("prod", &pdf).await.unwrap();
    assert!(!r.validation.ok);
    let logged = app.oplog().list(1, None).await.unwrap().remove(0);
    let details: serde_json::Value = serde_json::from_str(&logged.details).unwrap();
    assert_eq!(details["validated"], false);
    assert!(details["failed"].as_array().unwrap().iter().any(|f| f == "backup-coverage"), "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_that_fails_rolls_its_stack_back_with_the_cause_and_recover_deletes_it_for_a_new_plan() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    // The alarms stack (the last) holds a resource its service refuses.
    let broken = broken_bundle("1.0.0", "alarms");
    let app = console(data.path(), &moto.endpoint()).await;
    let plan = app.deploy().plan(&request(), Some(broken.path())).await.unwrap();
    let out = apply(&app, &plan.id, None).await.0.unwrap();
    assert_eq!(out.state, "failed");
    let cause = out.root_cause.as_deref().unwrap();
    assert!(cause.contains("Broken (AWS::SQS::Queue)") && cause.contains("alphanumeric"), "{cause}");
    assert!(out.next.as_deref().unwrap().contains("vigil deploy recover --stack pj-prod-alarms"), "{:?}", out.next);
    let alarms = out.stacks.iter().find(|s| s.stack == "alarms").unwrap();
    assert_eq!(alarms.status.as_deref(), Some("ROLLBACK_COMPLETE"));
    assert!(out.stacks.iter().filter(|s| s.stack != "alarms").all(|s| s.state == "done"), "{:?}", out.stacks);

    // Nothing can be planned over it; recovery names it, the cause and what it will do.
    let good = signed_bundle("1.0.0", |_| {});
    let e = app.deploy().plan(&request(), Some(good.path())).await.unwrap_err();
    assert!(e.hint().unwrap_or_default().contains("vigil deploy recover"), "{e}");
    let pending = app.deploy().recoveries("prod").await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let r = &pending[0];
    assert_eq!((r.stack.as_str(), r.action.as_str(), r.status.as_str()), ("alarms", "delete", "ROLLBACK_COMPLETE"));
    assert!(r.cause.as_deref().unwrap_or_default().contains("alphanumeric"), "{r:?}");
    // Only the stack's own name opens it.
    let logged = actions(&app).await.len();
    for wrong in [None, Some("prod"), Some("pj-prod-network")] {
        assert_eq!(app.deploy().recover("prod", "alarms", wrong).await.unwrap_err().kind(), "confirmation_required");
    }
    assert_eq!(actions(&app).await.len(), logged);
    let done = app.deploy().recover("prod", "alarms", Some("pj-prod-alarms")).await.unwrap();
    assert_eq!(done.status, "DELETE_COMPLETE", "{done:?}");
    assert_eq!(actions(&app).await.last().map(String::as_str), Some("deploy.recover"));
    assert!(app.deploy().recoveries("prod").await.unwrap().is_empty());
    assert_eq!(app.deploy().recover("prod", "alarms", Some("pj-prod-alarms")).await.unwrap_err().kind(), "not_found");

    // The fixed bundle deploys over what stood.
    let plan = app.deploy().plan(&request(), Some(good.path())).await.unwrap();
    let actions_of: Vec<(&str, &str)> = plan.stacks.iter().map(|s| (s.stack.as_str(), s.action.as_str())).collect();
    assert!(actions_of.contains(&("alarms", "create")), "{actions_of:?}");
    assert_eq!(apply(&app, &plan.id, None).await.0.unwrap().state, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_rollback_fails_is_continued_skipping_what_was_deleted_and_plans_again() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = console(data.path(), &moto.endpoint()).await;
    deployed(&app, signed_bundle("1.0.0", |_| {}).path()).await;
    // Someone deletes the worker's log group behind CloudFormation's back; then an update of
    // the same stack fails, and its rollback cannot bring the log group back.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    aws_sdk_cloudwatchlogs::Client::new(ctx.sdk()).delete_log_group().log_group_name("/pj/prod/worker").send().await.unwrap();
    let broken = broken_bundle("1.1.0", "observability");
    let upgrade = DeployRequest { environment: "prod".into(), ..Default::default() };
    let plan = app.deploy().plan(&upgrade, Some(broken.path())).await.unwrap();
    let out = apply(&app, &plan.id, None).await.0.unwrap();
    assert_eq!(out.state, "failed");
    assert!(out.root_cause.as_deref().unwrap_or_default().contains("Broken (AWS::SQS::Queue)"), "{:?}", out.root_cause);
    assert!(out.next.as_deref().unwrap_or_default().contains("vigil deploy recover --stack pj-prod-observability"), "{:?}", out.next);

    // Recovery continues the rollback, skipping the log group that failed in it.
    let pending = app.deploy().recoveries("prod").await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let r = &pending[0];
    assert_eq!((r.stack.as_str(), r.action.as_str(), r.status.as_str()), ("observability", "continue_rollback", "UPDATE_ROLLBACK_FAILED"));
    assert_eq!(r.skip, ["WorkerLogs"]);
    assert!(r.what.contains("skipping WorkerLogs"), "{r:?}");
    assert_eq!(app.deploy().recover("prod", "observability", Some("pj-prod-alarms")).await.unwrap_err().kind(), "confirmation_required");
    let done = app.deploy().recover("prod", "observability", Some("pj-prod-observability")).await.unwrap();
    assert_eq!(done.status, "UPDATE_ROLLBACK_COMPLETE", "{done:?}");
    let logged = app.oplog().list(1, None).await.unwrap().remove(0);
    assert_eq!(logged.action, "deploy.recover");
    let details: serde_json::Value = serde_json::from_str(&logged.details).unwrap();
    assert_eq!((details["action"].as_str(), details["skip"][0].as_str()), (Some("continue_rollback"), Some("WorkerLogs")), "{details}");
    assert!(app.deploy().recoveries("prod").await.unwrap().is_empty());

    // The stack takes a plan again: the fixed bundle deploys.
    let fixed = signed_bundle("1.2.0", |_| {});
    let plan = app.deploy().plan(&upgrade, Some(fixed.path())).await.unwrap();
    assert_eq!(apply(&app, &plan.id, None).await.0.unwrap().state, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_says_what_changes_snapshots_the_database_first_and_rolls_the_worker_without_losing_work() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let v1 = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;
    let first = deployed(&app, v1.path()).await;
    assert!(first.upgrade.is_none());
    assert_eq!(first.images, ["pj-worker:1.0.0"]);

    // 1.1.0 adds a migration and changes an alarm.
    let migration = "migrations/0004_upgrade_marker.sql";
    let v2 = signed_bundle("1.1.0", |dir| {
        std::fs::write(dir.join(migration), "CREATE TABLE upgrade_marker (id int PRIMARY KEY);\n").unwrap();
        let alarms = dir.join("cloudformation/alarms.yaml");
        let text = std::fs::read_to_string(&alarms).unwrap().replacen("Threshold: 30000", "Threshold: 45000", 1);
        std::fs::write(alarms, text).unwrap();
    });
    // No tier given: the running one (and its edits) is kept.
    let upgrade_request = DeployRequest { environment: "prod".into(), ..Default::default() };
    let plan = app.deploy().plan(&upgrade_request, Some(v2.path())).await.unwrap();
    let u = plan.upgrade.clone().expect("an upgrade");
    assert_eq!(
        (u.from_version.as_str(), u.to_version.as_str(), u.from_plan.as_str(), plan.tier.as_str()),
        ("1.0.0", "1.1.0", first.id.as_str(), "small")
    );
    let files: Vec<(&str, &str, &str)> = u.files.iter().map(|f| (f.change.as_str(), f.area.as_str(), f.path.as_str())).collect();
    assert_eq!(files, [("modified", "templates", "cloudformation/alarms.yaml"), ("added", "migrations", migration)]);
    assert_eq!(u.migrations, [migration]);
    assert_eq!(u.images, [vigil_dto::deploy::ImageChange { from: "pj-worker:1.0.0".into(), to: "pj-worker:1.1.0".into() }]);
    assert!((u.cost_after - u.cost_before).abs() < 0.01, "same tier, same prices: {u:?}");
    assert_eq!(u.cluster, "pj-prod");
    assert!(u.snapshot.starts_with("pj-prod-pre-1-1-0-"), "{}", u.snapshot);

    // Work in flight while the worker rolls.
    let env = app.environments().get("prod").await.unwrap();
    let (rds, s3, _) = rds_and_s3(&moto.endpoint()).await;
    let bucket = env.deployment["bucket"].clone();
    for i in 0..6 {
        let note = format!("Patient Jane Roe-{i}, DOB 01/02/1970, seen on 2026-11-30, MRN 5501-{i}.");
        s3.put_object().bucket(&bucket).key(format!("input/upgrade/note-{i}.txt")).body(note.into_bytes().into()).send().await.unwrap();
    }
    let (out, seen) = apply(&app, &plan.id, None).await;
    let out = out.unwrap();
    assert_eq!(out.state, "succeeded", "{:?}", out.root_cause);
    // The snapshot was done before any stack moved, and it is there.
    let moved = seen.iter().position(|s| s.stacks.iter().any(|st| st.state != "pending")).expect("the stacks moved");
    assert_eq!(seen[moved - 1].snapshot.as_ref().map(|s| s.state.as_str()), Some("done"), "{:?}", seen[moved - 1].snapshot);
    let snaps = rds.describe_db_cluster_snapshots().db_cluster_identifier("pj-prod").snapshot_type("manual").send().await.unwrap();
    assert!(snaps.db_cluster_snapshots().iter().any(|s| s.db_cluster_snapshot_identifier() == Some(u.snapshot.as_str())), "{snaps:?}");
    let acts = actions(&app).await;
    let at = |a: &str| acts.iter().rposition(|x| x == a).unwrap_or_else(|| panic!("{a} not logged: {acts:?}"));
    assert!(at("deploy.pre_upgrade_snapshot") < at("deploy.applied"), "{acts:?}");

    // The worker runs the new image: the new template's pods only.
    let deployment = kube.object("/apis/apps/v1/namespaces/patient-journey/deployments/pj-worker").unwrap();
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], "pj-worker:1.1.0");
    let pods = kube.pods();
    let current = kube.current_replicaset("/apis/apps/v1/namespaces/patient-journey/deployments/pj-worker").unwrap();
    assert!(!pods.is_empty() && pods.iter().all(|p| p.starts_with(&format!("{current}-"))), "{pods:?} of {current}");
    // The migration ran forward; nothing in flight was lost: every note's job succeeded.
    let db = env.platform_db.clone().expect("the set-up named the platform database");
    let pool = sqlx::PgPool::connect(&format!("postgres://postgres@{}:{}/{}", db.host, db.port, db.database)).await.unwrap();
    sqlx::query("SELECT count(*) FROM upgrade_marker").execute(&pool).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (done,): (i64,) = sqlx::query_as("SELECT count(*) FROM jobs WHERE source_uri LIKE '%/input/upgrade/%' AND status = 'succeeded'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if done == 6 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{done} of 6 notes done after the upgrade");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let v = app.deploy().validate("prod").await.unwrap();
    assert!(v.ok, "{:#?}", v.checks.iter().filter(|c| c.status != CheckStatus::Pass).collect::<Vec<_>>());

    // Nothing goes backwards, and a refused plan makes nothing.
    let planned = actions(&app).await.len();
    let e = app.deploy().plan(&upgrade_request, Some(v1.path())).await.unwrap_err();
    assert_eq!(e.kind(), "upgrade_backwards", "{e}");
    assert!(e.to_string().contains("older than the running 1.1.0"), "{e}");
    let edited = signed_bundle("1.2.0", |dir| {
        std::fs::write(dir.join(migration), "CREATE TABLE upgrade_marker (id bigint PRIMARY KEY);\n").unwrap();
    });
    let e = app.deploy().plan(&upgrade_request, Some(edited.path())).await.unwrap_err();
    assert_eq!(e.kind(), "migration_changed", "{e}");
    assert!(e.to_string().contains("removes or edits") && e.to_string().contains(migration), "{e}");
    let reused = signed_bundle("1.1.0", |dir| {
        std::fs::write(dir.join(migration), "CREATE TABLE upgrade_marker (id int PRIMARY KEY);\n").unwrap();
        std::fs::write(dir.join("CONTRACT.md"), "changed without a new version\n").unwrap();
    });
    assert_eq!(app.deploy().plan(&upgrade_request, Some(reused.path())).await.unwrap_err().kind(), "bundle_version_reused");
    assert_eq!(actions(&app).await.len(), planned, "nothing logged for refused plans");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_whose_snapshot_cannot_be_taken_changes_nothing_and_resumes_with_one_snapshot() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let app = console_through(data.path(), &proxy).await;
    deployed(&app, signed_bundle("1.0.0", |_| {}).path()).await;
    let v2 = signed_bundle("1.1.0", |dir| {
        let alarms = dir.join("cloudformation/alarms.yaml");
        let text = std::fs::read_to_string(&alarms).unwrap().replacen("Threshold: 30000", "Threshold: 45000", 1);
        std::fs::write(alarms, text).unwrap();
    });
    let plan = app.deploy().plan(&DeployRequest { environment: "prod".into(), ..Default::default() }, Some(v2.path())).await.unwrap();
    let snapshot = plan.upgrade.clone().expect("an upgrade").snapshot;
    let (rds, _, _) = rds_and_s3(&moto.endpoint()).await;
    let snapshots = || async {
        let out = rds.describe_db_cluster_snapshots().db_cluster_identifier("pj-prod").snapshot_type("manual").send().await.unwrap();
        out.db_cluster_snapshots().iter().filter_map(|s| s.db_cluster_snapshot_identifier().map(String::from)).collect::<Vec<_>>()
    };
    let executed = || proxy.count("cloudformation", Some("ExecuteChangeSet"));
    let before = executed();

    // RDS unavailable past the retries: a classified error naming the snapshot; no stack moved,
    // no snapshot, nothing logged; the journal says to resume.
    proxy.inject("rds", Some("CreateDBClusterSnapshot"), Fault::Status(503), 2);
    let e = apply(&app, &plan.id, None).await.0.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    assert!(e.to_string().contains(&format!("the pre-upgrade snapshot {snapshot} of pj-prod could not be taken")), "{e}");
    assert!(e.hint().unwrap_or_default().contains("nothing of the upgrade was applied"), "{e:?}");
    assert_eq!(executed(), before);
    assert!(snapshots().await.is_empty());
    assert!(!actions(&app).await.iter().any(|a| a == "deploy.pre_upgrade_snapshot"));
    let st = app.deploy().status("prod").await.unwrap().unwrap();
    assert_eq!((st.state.as_str(), st.snapshot.as_ref().map(|s| s.state.as_str())), ("applying", Some("running")));
    assert!(st.stacks.iter().all(|s| s.state == "pending"), "{:?}", st.stacks);
    assert!(st.next.as_deref().unwrap_or_default().contains("vigil deploy resume"), "{:?}", st.next);

    // Resume: RDS takes the snapshot but its answer is lost; the retry finds it made. Then the
    // first change set's execution fails: the apply stops after the snapshot.
    proxy.inject("rds", Some("CreateDBClusterSnapshot"), Fault::Lost, 1);
    proxy.inject("cloudformation", Some("ExecuteChangeSet"), Fault::Status(503), 2);
    let e = app.deploy().resume(&|_| {}).await.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    assert_eq!(snapshots().await, std::slice::from_ref(&snapshot));
    let st = app.deploy().status("prod").await.unwrap().unwrap();
    assert_eq!(st.snapshot.as_ref().map(|s| s.state.as_str()), Some("done"));
    proxy.clear();

    // The next resume takes no second snapshot and finishes.
    let asked = proxy.count("rds", Some("CreateDBClusterSnapshot"));
    let done = app.deploy().resume(&|_| {}).await.unwrap();
    assert_eq!(done[0].state, "succeeded", "{:?}", done[0].root_cause);
    assert_eq!(proxy.count("rds", Some("CreateDBClusterSnapshot")), asked);
    assert_eq!(snapshots().await, [snapshot]);
    assert_eq!(actions(&app).await.iter().filter(|a| *a == "deploy.pre_upgrade_snapshot").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_that_aws_refuses_leaves_the_stack_as_it_was_and_succeeds_after() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let broken = broken_bundle("1.0.0", "alarms");
    let app = console_through(data.path(), &proxy).await;
    let plan = app.deploy().plan(&request(), Some(broken.path())).await.unwrap();
    assert_eq!(apply(&app, &plan.id, None).await.0.unwrap().state, "failed");
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    // The operator had protected the failed stack.
    cf.protect("pj-prod-alarms", true).await.unwrap();
    let logged = actions(&app).await.len();

    for (action, fault, kind) in [
        ("DeleteStack", Fault::Status(503), "service_unavailable"),
        ("UpdateTerminationProtection", Fault::ExpiredToken, "expired_credentials"),
        ("DescribeStacks", Fault::Throttle { retry_after: None }, "throttled"),
    ] {
        proxy.inject("cloudformation", Some(action), fault, 2);
        let e = app.deploy().recover("prod", "alarms", Some("pj-prod-alarms")).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{action}: {e}");
        assert!(e.hint().is_some(), "{action}: {e:?}");
        proxy.clear();
        let now = cf.stack("pj-prod-alarms").await.unwrap().expect("the stack is still there");
        assert_eq!((now.status.as_str(), now.termination_protection), ("ROLLBACK_COMPLETE", true), "{action}");
        assert_eq!(actions(&app).await.len(), logged, "{action}: nothing logged");
        assert_eq!(app.deploy().recoveries("prod").await.unwrap().len(), 1, "{action}");
    }

    let done = app.deploy().recover("prod", "alarms", Some("pj-prod-alarms")).await.unwrap();
    assert_eq!(done.status, "DELETE_COMPLETE", "{done:?}");
    assert_eq!(actions(&app).await.last().map(String::as_str), Some("deploy.recover"));
    assert!(cf.stack("pj-prod-alarms").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smoke_test_whose_note_no_worker_takes_fails_with_where_to_look_and_is_logged() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await.smoke_limit(Duration::from_secs(2));
    deployed(&app, bundle.path()).await;
    // The pods die after the rollout (the Deployment still reads ready).
    kube.stop_pods();
    let v = app.deploy().validate("prod").await.unwrap();
    assert!(!v.ok);
    let smoke = check(&v, "smoke");
    assert_eq!(smoke.status, CheckStatus::Fail);
    assert!(smoke.detail.contains("no job for input/vigil-smoke/") && smoke.detail.contains("after 2 s"), "{smoke:?}");
    assert!(smoke.fix.as_deref().unwrap_or_default().contains("worker's pods"), "{smoke:?}");
    for c in v.checks.iter().filter(|c| c.id != "smoke") {
        assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
    }
    // The note is in the bucket, for a worker to take.
    let logged: Vec<_> = app.oplog().list(10, None).await.unwrap().into_iter().filter(|r| r.action == "deploy.smoke_test").collect();
    let details: serde_json::Value = serde_json::from_str(&logged[0].details).unwrap();
    assert_eq!((details["status"].as_str(), details["passed"].as_bool()), (Some("uploaded"), Some(false)), "{details}");
    let env = app.environments().get("prod").await.unwrap();
    let (_, s3, _) = rds_and_s3(&moto.endpoint()).await;
    s3.head_object().bucket(&env.deployment["bucket"]).key(details["key"].as_str().unwrap()).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_under_aws_faults_fails_only_the_checks_of_the_failing_service_and_recovers() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console_through(data.path(), &proxy).await;
    deployed(&app, bundle.path()).await;
    assert!(app.deploy().validate("prod").await.unwrap().ok);

    // Each service failing fails the checks that read it, with the classified message and what
    // to do; the other checks still pass.
    for (service, action, message, fault, failing) in [
        ("eks", None, "eks:", Fault::Status(500), &["eks-cluster", "eks-nodes", "worker", "smoke"][..]),
        ("rds", None, "rds:", Fault::Status(503), &["aurora", "aurora-zones", "backup-coverage"][..]),
        ("elasticache", None, "elasticache:", Fault::Throttle { retry_after: None }, &["cache"][..]),
        ("s3", None, "s3:", Fault::Reset, &["bucket", "backup-coverage", "smoke"][..]),
        ("sqs", None, "sqs:", Fault::Status(500), &["queue"][..]),
        ("backup", None, "backup:", Fault::Hang, &["backup-plan", "backup-coverage"][..]),
        ("monitoring", None, "cloudwatch:", Fault::ExpiredToken, &["alarms"][..]),
        // The smoke test's own calls: the worker's database login, the note's upload.
        ("secretsmanager", Some("GetSecretValue"), "secretsmanager:GetSecretValue", Fault::Status(500), &["smoke"][..]),
        ("s3", Some("PutObject"), "s3:PutObject", Fault::Throttle { retry_after: None }, &["smoke"][..]),
    ] {
        proxy.inject(service, action, fault, 100);
        let v = app.deploy().validate("prod").await.unwrap();
        assert!(!v.ok, "{service}");
        for c in &v.checks {
            if failing.contains(&c.id.as_str()) {
                assert_eq!(c.status, CheckStatus::Fail, "{service}: {c:?}");
                assert!(c.fix.is_some(), "{service}: {c:?}");
                if (c.id != "backup-coverage" || service == "backup") && c.id != "worker" && (c.id != "smoke" || action.is_some()) {
                    assert!(c.detail.contains(message), "{service}: {c:?}");
                }
            } else {
                assert_eq!(c.status, CheckStatus::Pass, "{service}: {c:?}");
            }
        }
        proxy.clear();
    }

    // CloudFormation not answering: only the stacks check, failed with the cause; nothing is
    // claimed about the rest.
    proxy.inject("cloudformation", Some("DescribeStacks"), Fault::ExpiredToken, 100);
    let v = app.deploy().validate("prod").await.unwrap();
    assert_eq!(v.checks.len(), 1);
    assert_eq!((v.checks[0].id.as_str(), v.checks[0].status), ("stacks", CheckStatus::Fail));
    assert!(v.checks[0].detail.contains("cloudformation:DescribeStacks"), "{:?}", v.checks[0]);
    proxy.clear();

    // Recovery: everything passes again.
    let v = app.deploy().validate("prod").await.unwrap();
    assert!(v.ok, "{:#?}", v.checks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teardown_that_fails_keeps_the_database_protected_names_the_cause_and_finishes_after_the_fix() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console_through(data.path(), &proxy).await;
    deployed(&app, bundle.path()).await;
    let (rds, _, ec2) = rds_and_s3(&moto.endpoint()).await;
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    let protected =
        || async { rds.describe_db_clusters().db_cluster_identifier("pj-prod").send().await.unwrap().db_clusters()[0].deletion_protection() };

    // RDS refusing to lift the protection (503 past the retries): the teardown stops before the
    // database stack, which is still there and still protected; the journal says to resume.
    let teardown = app.deploy().plan_teardown("prod").await.unwrap();
    proxy.inject("rds", Some("ModifyDBCluster"), Fault::Status(503), 2);
    let e = apply(&app, &teardown.id, Some("prod")).await.0.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    proxy.clear();
    assert!(cf.stack("pj-prod-database").await.unwrap().is_some());
    assert!(cf.stack("pj-prod-cache").await.unwrap().is_none(), "the stacks before it went");
    assert_eq!(protected().await, Some(true));
    let st = app.deploy().status("prod").await.unwrap().unwrap();
    assert_eq!((st.kind.as_str(), st.state.as_str()), ("teardown", "applying"));
    assert!(st.next.as_deref().unwrap().contains("vigil deploy resume"));
    // Nothing new is planned over it.
    assert_eq!(app.deploy().plan_teardown("prod").await.unwrap_err().kind(), "deploy_busy");
    assert_eq!(app.deploy().plan(&request(), Some(bundle.path())).await.unwrap_err().kind(), "deploy_busy");

    // Someone's own subnet in the platform's VPC: the network stack cannot be deleted. Resuming
    // deletes the database (with its final snapshot), then stops at the network with the cause.
    let vpc = cf.stack("pj-prod-network").await.unwrap().unwrap().outputs.iter().find(|(k, _)| k == "VpcId").unwrap().1.clone();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.40.250.0/24").send().await.unwrap();
    let subnet_id = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let done = app.deploy().resume(&|_| {}).await.unwrap();
    assert_eq!(done[0].state, "failed");
    let cause = done[0].root_cause.as_deref().unwrap();
    assert!(cause.starts_with("pj-prod-network") && cause.contains("has dependencies"), "{cause}");
    assert!(done[0].next.as_deref().unwrap().contains("failed to delete"), "{:?}", done[0].next);
    assert!(done[0].kept.iter().any(|k| k.resource_type == "AWS::RDS::DBClusterSnapshot" && k.physical_id.is_some()), "{:#?}", done[0].kept);
    assert!(cf.stack("pj-prod-database").await.unwrap().is_none());
    assert_eq!(cf.stack("pj-prod-network").await.unwrap().unwrap().status, "DELETE_FAILED");
    // The stack not reached keeps its termination protection.
    assert!(cf.stack("pj-prod-security").await.unwrap().unwrap().termination_protection);
    assert_eq!(actions(&app).await.last().map(String::as_str), Some("deploy.failed"));

    // After the fix, a new teardown plan has what is left, and finishes.
    ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap();
    let rest = app.deploy().plan_teardown("prod").await.unwrap();
    assert_eq!(rest.stacks.iter().map(|s| s.stack.as_str()).collect::<Vec<_>>(), ["network", "security"]);
    let out = apply(&app, &rest.id, Some("prod")).await.0.unwrap();
    assert_eq!(out.state, "succeeded", "{:?}", out.root_cause);
    assert!(cf.stack("pj-prod-security").await.unwrap().is_none());
    let e = app.deploy().plan_teardown("prod").await.unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_change_set_call_leaves_no_change_sets_and_a_failing_protection_is_finished_by_resume() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console_through(data.path(), &proxy).await;

    // Protecting the first new stack fails (503 past the retries): the apply stops, journalled
    // as applying; resume protects it and goes on. Then, for a second platform environment,
    // setting the third stack's policy fails the same way.
    let stage = DeployRequest { platform_environment: "stage".into(), ..request() };
    for (req, action, skip) in [(request(), "UpdateTerminationProtection", 0), (stage, "SetStackPolicy", 2)] {
        let plan = app.deploy().plan(&req, Some(bundle.path())).await.unwrap();
        proxy.inject_after("cloudformation", Some(action), skip, Fault::Status(503), 2);
        let e = apply(&app, &plan.id, None).await.0.unwrap_err();
        assert_eq!(e.kind(), "service_unavailable", "{action}: {e}");
        assert_eq!(app.deploy().status("prod").await.unwrap().unwrap().state, "applying");
        proxy.clear();
        let done = app.deploy().resume(&|_| {}).await.unwrap();
        assert_eq!(done[0].state, "succeeded", "{action}: {:?}", done[0].root_cause);
    }
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let cf = CloudFormation::new(&ctx, "test");
    for env in ["prod", "stage"] {
        for stack in STACKS_NEWEST_FIRST {
            assert!(cf.stack(&format!("pj-{env}-{stack}")).await.unwrap().unwrap().termination_protection, "{env} {stack}");
        }
    }

    // Planning updates: the fourth stack's change set cannot be made (503 past the retries), so
    // the three made before it are deleted and no plan is kept.
    let before = proxy.count("cloudformation", Some("DeleteChangeSet"));
    proxy.inject_after("cloudformation", Some("CreateChangeSet"), 3, Fault::Status(503), 2);
    let e = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    proxy.clear();
    assert_eq!(proxy.count("cloudformation", Some("DeleteChangeSet")) - before, 3);
    assert_eq!(app.deploy().status("prod").await.unwrap().unwrap().state, "succeeded", "no plan was kept");
    // Throttled reading of a change set: the same.
    let before = proxy.count("cloudformation", Some("DeleteChangeSet"));
    proxy.inject_after("cloudformation", Some("DescribeChangeSet"), 2, Fault::Throttle { retry_after: None }, 2);
    let e = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap_err();
    assert_eq!(e.kind(), "throttled", "{e}");
    proxy.clear();
    assert!(proxy.count("cloudformation", Some("DeleteChangeSet")) - before >= 2);
    // And the next plan works.
    assert_eq!(app.deploy().plan(&request(), Some(bundle.path())).await.unwrap().stacks.len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_and_config_pass_once_a_trail_logs_and_a_recorder_records() {
    use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console(data.path(), &moto.endpoint()).await;
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let (_, s3, _) = rds_and_s3(&moto.endpoint()).await;
    s3.create_bucket().bucket("audit-trail").send().await.unwrap();
    let trail = aws_sdk_cloudtrail::Client::new(ctx.sdk());
    let config = aws_sdk_config::Client::new(ctx.sdk());
    let check = |id: &'static str| {
        let app = &app;
        let bundle = bundle.path().to_path_buf();
        async move { app.deploy().preflight(&request(), Some(&bundle)).await.unwrap().checks.into_iter().find(|c| c.id == id).unwrap() }
    };

    // A trail of this region only, then stopped: warnings naming it.
    trail.create_trail().name("account").s3_bucket_name("audit-trail").send().await.unwrap();
    assert_eq!(check("cloudtrail").await.detail, "1 trail(s), none logging");
    trail.start_logging().name("account").send().await.unwrap();
    assert_eq!(
        (check("cloudtrail").await.status, check("cloudtrail").await.detail),
        (CheckStatus::Warn, "trail account logs this region only".into())
    );
    trail.update_trail().name("account").is_multi_region_trail(true).send().await.unwrap();
    assert_eq!(check("cloudtrail").await.status, CheckStatus::Pass);

    // A recorder that is stopped, then recording.
    let group = RecordingGroup::builder().all_supported(true).include_global_resource_types(true).build();
    let recorder = ConfigurationRecorder::builder().name("default").role_arn("arn:aws:iam::123456789012:role/config").recording_group(group).build();
    config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    assert_eq!(check("config").await.detail, "the recorder is stopped");
    let channel = DeliveryChannel::builder().name("default").s3_bucket_name("audit-trail").build();
    config.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    assert_eq!(check("config").await.status, CheckStatus::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_set_up_stops_at_a_failing_step_with_its_cause_and_resume_continues_from_there() {
    let (moto, kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let app = console_through(data.path(), &proxy).await;
    let steps = |s: &DeploymentStatus| s.setup.iter().map(|x| format!("{}:{}", x.id, x.state)).collect::<Vec<_>>();
    let status = |app: &App| {
        let app = app.clone();
        async move { app.deploy().status("prod").await.unwrap().unwrap() }
    };

    // Secrets Manager fails: the stacks are done, the keys are not made, nothing is pinned.
    proxy.inject("secretsmanager", Some("CreateSecret"), Fault::Status(500), 2);
    let plan = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap();
    let e = apply(&app, &plan.id, None).await.0.unwrap_err();
    assert!(e.to_string().contains("secretsmanager:CreateSecret"), "{e}");
    let s = status(&app).await;
    assert_eq!(s.state, "applying");
    assert!(s.stacks.iter().all(|x| x.state == "done"));
    assert_eq!(steps(&s), ["keys:failed", "database:pending", "kubernetes:pending", "rollout:pending"]);
    assert!(s.next.as_deref().is_some_and(|n| n.contains("vigil deploy resume")), "{:?}", s.next);
    assert!(!app.environments().get("prod").await.unwrap().deployment.contains_key("audit_public_keys"));
    proxy.clear();

    // The cluster refuses Vigil (no access entry): keys and database done, Kubernetes failed.
    kube.deny(Some(403));
    let e = app.deploy().resume(&|_| {}).await.unwrap_err();
    assert_eq!(e.kind(), "forbidden", "{e}");
    assert!(e.hint().unwrap().contains("access entry"), "{:?}", e.hint());
    assert_eq!(steps(&status(&app).await), ["keys:done", "database:done", "kubernetes:failed", "rollout:pending"]);
    kube.deny(None);

    // The rollout never finishes (an image that cannot be pulled): its reason is the cause.
    kube.set_rollout(RolloutMode::Stuck(Stuck::ImagePull));
    let e = app.deploy().resume(&|_| {}).await.unwrap_err();
    assert_eq!(e.kind(), "rollout_failed");
    assert!(e.to_string().contains("ImagePullBackOff"), "{e}");
    assert_eq!(steps(&status(&app).await), ["keys:done", "database:done", "kubernetes:done", "rollout:failed"]);
    let validation = app.deploy().validate("prod").await.unwrap();
    let worker = validation.checks.iter().find(|c| c.id == "worker").unwrap();
    assert_eq!(worker.status, CheckStatus::Fail, "{worker:?}");

    // Fixed: resume finishes, from the rollout on; one key made and pinned, migrations once.
    kube.set_rollout(RolloutMode::Progress);
    let done = app.deploy().resume(&|_| {}).await.unwrap();
    assert_eq!(done[0].state, "succeeded", "{:?}", done[0].root_cause);
    assert_eq!(steps(&done[0]), ["keys:done", "database:done", "kubernetes:done", "rollout:done"]);
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!(env.deployment["audit_public_keys"].split(',').count(), 1);
    assert_eq!(proxy.count("secretsmanager", Some("CreateSecret")), 2 + 2, "the failed attempts, then the keys and the login once each");
    let validation = app.deploy().validate("prod").await.unwrap();
    assert_eq!(validation.checks.iter().find(|c| c.id == "worker").unwrap().status, CheckStatus::Pass);

    // A second deploy keeps the keys and the login, and applies no migration again.
    let again = app.deploy().plan(&request(), Some(bundle.path())).await.unwrap();
    let out = apply(&app, &again.id, None).await.0.unwrap();
    assert_eq!(out.state, "succeeded", "{:?}", out.root_cause);
    let detail = |id: &str| out.setup.iter().find(|x| x.id == id).unwrap().detail.clone().unwrap();
    assert!(detail("keys").starts_with("kept"), "{}", detail("keys"));
    assert!(detail("database").starts_with("0 migrations applied"), "{}", detail("database"));
    assert_eq!(app.environments().get("prod").await.unwrap().deployment["audit_public_keys"], env.deployment["audit_public_keys"]);
}
