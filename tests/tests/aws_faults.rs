//! AWS failures through the fault injector (vigil_tests::faults: a proxy between the SDK and the
//! emulator): throttling, 5xx, resets, requests that never get an answer and expired credentials
//! on the metrics, alarms, jobs and Check connection paths. Each ends in one classified error with
//! what to do, leaves nothing half-done, and the next call succeeds. Also: credentials from a role
//! chain are fetched from STS once for a hundred dashboard refreshes.

use std::sync::Arc;
use std::time::Duration;
use vigil_core::aws::profiles::ProfileSource;
use vigil_core::aws::AwsSettings;
use vigil_core::App;
use vigil_dto::{Credentials, EnvironmentInput, TimeRange};
use vigil_tests::faults::{Fault, FaultProxy};
use vigil_tests::Moto;

/// Short timeouts, so a request that never gets an answer fails in seconds.
const QUICK: AwsSettings = AwsSettings {
    connect_timeout: Duration::from_secs(2),
    attempt_timeout: Duration::from_secs(2),
    operation_timeout: Duration::from_secs(6),
    max_attempts: 2,
};

async fn console(dir: &tempfile::TempDir, profiles: ProfileSource, env: EnvironmentInput) -> App {
    let c = App::open_with_secrets(&dir.path().join("vigil.db"), profiles, "test", Arc::new(vigil_core::secrets::MemoryStore::default()))
        .await
        .unwrap()
        .aws_settings(QUICK);
    let name = env.name.clone();
    c.environments().add(&env).await.unwrap();
    c.environments().select(&name).await.unwrap();
    c
}

fn env(name: &str, credentials: Credentials, endpoint: String) -> EnvironmentInput {
    EnvironmentInput {
        name: name.into(),
        credentials,
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint),
        deployment: Default::default(),
        platform_db: None,
    }
}

/// One chart of the platform component: one GetMetricData call per refresh.
async fn refresh(c: &App) -> vigil_core::Result<vigil_dto::DashboardData> {
    c.metrics().fetch(&["documents".into()], TimeRange::Last { seconds: 3600 }, 800, &Default::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_chain_signs_in_once_for_a_hundred_refreshes() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    // The role chain's own STS calls go where the profile says (here: through the proxy).
    let config = format!(
        "[profile base]\nregion = us-east-1\n\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n\
         region = us-east-1\nendpoint_url = {}\n",
        proxy.endpoint()
    );
    let credentials = "[base]\naws_access_key_id = AKIAEXAMPLEBASE00001\naws_secret_access_key = base-secret\n";
    let dir = tempfile::tempdir().unwrap();
    let c =
        console(&dir, ProfileSource::from_contents(&config, credentials), env("prod", Credentials::Profile { name: "ops".into() }, proxy.endpoint()))
            .await;
    let check = c.environments().check("prod").await.unwrap();
    assert!(check.identity.is_some(), "{:?}", check.error);
    for _ in 0..100 {
        refresh(&c).await.unwrap();
    }
    assert_eq!(proxy.count("monitoring", Some("GetMetricData")), 100);
    assert_eq!(proxy.count("sts", Some("AssumeRole")), 1, "{:?}", proxy.seen().iter().filter(|s| s.service == "sts").collect::<Vec<_>>());
    // A change of the environment's AWS settings is a new context: it signs in again.
    let mut input = vigil_core::environments::to_input(&c.environments().get("prod").await.unwrap());
    input.region = "us-west-2".into();
    c.environments().update("prod", &input).await.unwrap();
    refresh(&c).await.unwrap();
    assert_eq!(proxy.count("sts", Some("AssumeRole")), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_alarms_faults_are_classified_and_the_next_call_recovers() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, ProfileSource::from_contents("", ""), env("sandbox", Credentials::Emulator, proxy.endpoint())).await;
    let cases = [
        (Fault::Throttle { retry_after: Some(1) }, "throttled", "rate"),
        (Fault::Status(503), "service_unavailable", "not answering"),
        (Fault::Reset, "endpoint_unreachable", "endpoint URL"),
        (Fault::Hang, "timeout", "tried again"),
        (Fault::ExpiredToken, "expired_credentials", "session token"),
    ];
    for (fault, kind, hint) in cases {
        // Every attempt of the call gets the fault.
        proxy.inject("monitoring", Some("GetMetricData"), fault.clone(), QUICK.max_attempts as usize);
        let e = refresh(&c).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert!(e.to_string().contains("cloudwatch:GetMetricData"), "{fault:?}: {e}");
        assert!(e.hint().is_some_and(|h| h.contains(hint)), "{fault:?}: {:?}", e.hint());
        proxy.clear();
        let d = refresh(&c).await.unwrap_or_else(|e| panic!("after {fault:?} the next refresh works: {e}"));
        assert!(d.charts.iter().all(|ch| ch.error.is_none()), "{:?}", d.charts);
    }
    // One throttled attempt is retried by the SDK and never seen.
    proxy.inject("monitoring", Some("GetMetricData"), Fault::Throttle { retry_after: None }, 1);
    refresh(&c).await.unwrap();
    // Alarms: the same classes.
    proxy.inject("monitoring", Some("DescribeAlarms"), Fault::Throttle { retry_after: None }, 2);
    let e = c.alarms().list(None).await.unwrap_err();
    assert_eq!(e.kind(), "throttled", "{e}");
    assert!(e.to_string().contains("cloudwatch:DescribeAlarms"), "{e}");
    c.alarms().list(None).await.unwrap();
    proxy.inject("monitoring", Some("DescribeAlarms"), Fault::ExpiredToken, 1);
    assert_eq!(c.alarms().list(None).await.unwrap_err().kind(), "expired_credentials");
    c.alarms().list(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connection_faults_are_classified_and_the_next_check_passes() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, ProfileSource::from_contents("", ""), env("sandbox", Credentials::Emulator, proxy.endpoint())).await;
    for (fault, kind) in [
        (Fault::ExpiredToken, "expired_credentials"),
        (Fault::Reset, "endpoint_unreachable"),
        (Fault::Status(500), "aws_error"),
        (Fault::Throttle { retry_after: Some(1) }, "throttled"),
    ] {
        proxy.inject("sts", Some("GetCallerIdentity"), fault.clone(), QUICK.max_attempts as usize);
        let r = c.environments().check("sandbox").await.unwrap();
        let e = r.error.unwrap_or_else(|| panic!("{fault:?} failed the check"));
        assert_eq!(e.kind, kind, "{fault:?}: {}", e.message);
        assert!(e.hint.is_some(), "{fault:?}");
        proxy.clear();
        let r = c.environments().check("sandbox").await.unwrap();
        assert!(r.identity.is_some(), "after {fault:?}: {:?}", r.error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_stopped_by_throttling_logs_what_was_sent_and_the_next_one_finishes() {
    use vigil_tests::platform_db::{insert_job, TestDb};
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let db = TestDb::create("vigil_faults").await;
    let sqs = aws_sdk_sqs::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let queue = sqs.create_queue().queue_name("pj-work").send().await.unwrap().queue_url().unwrap().to_string();
    let jobs = [
        insert_job(&db, "failed", Some("ocr_timeout"), false, "a.tiff", 30).await,
        insert_job(&db, "failed", Some("ocr_timeout"), false, "b.tiff", 20).await,
        insert_job(&db, "failed", Some("ocr_timeout"), false, "c.tiff", 10).await,
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut input = env("sandbox", Credentials::Emulator, proxy.endpoint());
    input.deployment = [("queue_url".to_string(), queue.clone()), ("log_group".to_string(), "/pj/worker".to_string())].into_iter().collect();
    input.platform_db = Some(db.trust_settings());
    let c = console(&dir, ProfileSource::from_contents("", ""), input).await;

    // The first job goes out; then SQS throttles every attempt.
    proxy.inject_after("sqs", Some("SendMessage"), 1, Fault::Throttle { retry_after: Some(1) }, QUICK.max_attempts as usize);
    let e = c.jobs().retry(None, Some("ocr_timeout")).await.unwrap_err();
    assert_eq!(e.kind(), "throttled", "{e}");
    assert!(e.to_string().contains("after 1 of 3 jobs"), "{e}");
    let log = c.oplog().list(10, None).await.unwrap();
    assert_eq!(log[0].action, "jobs.retry", "what was sent is in the operator log");
    assert!(log[0].details.contains(&jobs[0].to_string()) && !log[0].details.contains(&jobs[1].to_string()), "{}", log[0].details);
    // The next retry gets through.
    let r = c.jobs().retry(None, Some("ocr_timeout")).await.unwrap();
    assert_eq!(r.requeued.len(), 3);

    // A job's log lines: a throttled read is said beside the job, which still shows.
    proxy.inject("logs", Some("FilterLogEvents"), Fault::Throttle { retry_after: None }, QUICK.max_attempts as usize);
    let d = c.jobs().detail(&jobs[2].to_string()).await.unwrap();
    let why = d.logs_error.expect("the log lines' failure is said");
    assert!(why.contains("logs:FilterLogEvents") && why.contains("Rate exceeded") && why.contains("try again"), "{why}");
    db.drop_db().await;
}
