//! What several integration tests share: a console on its own store with an environment in the
//! AWS emulator, and one with the platform deployed there, optionally behind the fault injector.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigil_core::App;
use vigil_dto::deploy::DeployRequest;
use vigil_dto::{Credentials, EnvironmentInput};
use vigil_tests::faults::FaultProxy;
use vigil_tests::{bundle_public_key, signed_bundle};

/// A console on the store in `dir` (no AWS files; a keychain in memory), its deploys polling
/// every 20 ms.
pub async fn open(dir: &Path) -> App {
    open_with(dir, vigil_core::aws::profiles::ProfileSource::from_contents("", "")).await
}

/// As [`open`], with `profiles` as its AWS config and credentials files.
pub async fn open_with(dir: &Path, profiles: vigil_core::aws::profiles::ProfileSource) -> App {
    App::open_with_secrets(&dir.join("vigil.db"), profiles, "test", Arc::new(vigil_core::secrets::MemoryStore::default()))
        .await
        .unwrap()
        .deploy_poll(Duration::from_millis(20))
}

/// A console whose environment "prod" (emulator keys, us-east-1) reaches AWS through
/// `endpoint`, with `deployment`, selected, and the tests' bundle publisher trusted.
pub async fn console(dir: &Path, endpoint: &str, deployment: BTreeMap<String, String>) -> App {
    let app = open(dir).await;
    add_prod(&app, endpoint, deployment, Credentials::Emulator).await;
    app
}

/// Adds and selects environment "prod" (us-east-1, AWS through `endpoint`, signed in by
/// `credentials`), and trusts the tests' bundle publisher.
pub async fn add_prod(app: &App, endpoint: &str, deployment: BTreeMap<String, String>, credentials: Credentials) {
    let env = EnvironmentInput {
        name: "prod".into(),
        credentials,
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint.into()),
        deployment,
        platform_db: None,
    };
    app.environments().add(&env).await.unwrap();
    app.environments().select("prod").await.unwrap();
    app.deploy().trust("Patient Journey test releases", &bundle_public_key()).await.unwrap();
}

/// `app` giving up on AWS quickly (the fault injector's hangs end in seconds).
pub fn quick(app: App) -> App {
    app.aws_settings(vigil_core::aws::AwsSettings {
        connect_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(6),
        max_attempts: 2,
    })
}

/// A console whose environment "prod" (AWS through `endpoint`) has the platform deployed.
pub async fn deployed(dir: &Path, moto_endpoint: &str, endpoint: &str) -> App {
    let app = console(dir, moto_endpoint, Default::default()).await;
    let bundle = signed_bundle("1.0.0", |_| {});
    let plan = app
        .deploy()
        .plan(&DeployRequest { environment: "prod".into(), tier: "small".into(), ..Default::default() }, Some(bundle.path()))
        .await
        .unwrap();
    assert_eq!(app.deploy().apply(&plan.id, None, &|_| {}).await.unwrap().state, "succeeded");
    if endpoint != moto_endpoint {
        // From here on, through the fault injector.
        let mut input = app.environments().get("prod").await.unwrap().to_input();
        input.endpoint_url = Some(endpoint.into());
        app.environments().update("prod", &input).await.unwrap();
    }
    app
}

/// A deployed app whose AWS calls go through a fault injector, with short timeouts.
pub async fn faulted(dir: &Path, moto_endpoint: &str) -> (FaultProxy, App) {
    let proxy = FaultProxy::start(moto_endpoint).await;
    let app = quick(deployed(dir, moto_endpoint, &proxy.endpoint()).await);
    (proxy, app)
}

/// The console signed in to the deployed platform's database as the tests' PostgreSQL superuser
/// (the emulator's PostgreSQL has no IAM authentication; scripts/run does the same).
pub async fn as_superuser(app: &App) {
    let env = app.environments().get("prod").await.unwrap();
    let mut db = env.platform_db.clone().unwrap();
    (db.user, db.auth) = ("postgres".into(), vigil_dto::DbAuth::Trust);
    app.platform_db().set("prod", Some(db)).await.unwrap();
}

/// A connection to database `name` on the tests' PostgreSQL (a site cluster's, say).
pub async fn database(name: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(&vigil_tests::platform_db::url_for(name)).await.unwrap()
}

/// The jobs in `db`'s ledger for the document whose key ends in `key`.
pub async fn jobs_of(db: &sqlx::PgPool, key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE source_uri LIKE '%' || $1").bind(key).fetch_one(db).await.unwrap()
}

/// The key of the note the latest smoke test uploaded.
pub async fn smoke_key(app: &App) -> String {
    let r = app.oplog().list(100, None).await.unwrap().into_iter().find(|r| r.action == "deploy.smoke_test").expect("a smoke test");
    let details: serde_json::Value = serde_json::from_str(&r.details).unwrap();
    details["key"].as_str().unwrap().to_string()
}

/// Whether a validation's smoke test (a note through the running worker) passed.
pub fn smoke_passed(v: &vigil_dto::deploy::ValidationReport) -> bool {
    v.checks.iter().any(|c| c.id == "smoke" && c.status == vigil_dto::deploy::CheckStatus::Pass)
}
