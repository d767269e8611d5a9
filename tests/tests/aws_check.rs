//! "Check connection" against the AWS emulator and against failures: each failure class gets
//! its own kind and an actionable hint.

use vigil_core::aws::profiles::ProfileSource;
use vigil_core::App;
use vigil_dto::{CheckReport, Credentials, EnvironmentInput};
use vigil_tests::{free_port, FakeHttp, Moto};

/// moto's fixed account id.
const MOTO_ACCOUNT: &str = "123456789012";

async fn console_with(config: &str, credentials: &str) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let c = App::open(&dir.path().join("vigil.db"), ProfileSource::from_contents(config, credentials), "test").await.unwrap();
    (dir, c)
}

async fn check(c: &App, name: &str, credentials: Credentials, region: &str, endpoint: Option<String>) -> CheckReport {
    c.environments()
        .add(&EnvironmentInput {
            name: name.into(),
            credentials,
            region: region.into(),
            endpoint_url: endpoint,
            deployment: Default::default(),
            platform_db: None,
        })
        .await
        .unwrap();
    c.environments().check(name).await.unwrap()
}

fn error_kind(r: &CheckReport) -> &str {
    assert!(r.identity.is_none(), "expected a failure, got {:?}", r.identity);
    &r.error.as_ref().expect("a failed check carries an error").kind
}

#[tokio::test]
async fn check_succeeds_against_the_emulator_with_emulator_keys() {
    let moto = Moto::start();
    let (_d, c) = console_with("", "").await;
    let r = check(&c, "sandbox", Credentials::Emulator, "us-east-1", Some(moto.endpoint())).await;
    let id = r.identity.unwrap_or_else(|| panic!("check failed: {:?}", r.error));
    assert_eq!(id.account, MOTO_ACCOUNT);
    assert!(id.arn.starts_with("arn:aws:"), "{}", id.arn);
    assert_eq!(r.endpoint_url, Some(moto.endpoint()));
}

#[tokio::test]
async fn check_succeeds_with_a_profile_from_the_aws_files() {
    let moto = Moto::start();
    let (_d, c) = console_with(
        "[profile moto]\nregion = eu-west-1\n",
        "[moto]\naws_access_key_id = AKIAMOTOEXAMPLE0001\naws_secret_access_key = notarealsecret\n",
    )
    .await;
    let r = check(&c, "via-profile", Credentials::Profile { name: "moto".into() }, "eu-west-1", Some(moto.endpoint())).await;
    assert_eq!(r.identity.unwrap_or_else(|| panic!("{:?}", r.error)).account, MOTO_ACCOUNT);
}

#[tokio::test]
async fn a_dead_endpoint_is_reported_as_unreachable() {
    let port = free_port(); // bound and released: nothing listens there
    let (_d, c) = console_with("", "").await;
    let url = format!("http://127.0.0.1:{port}");
    let r = check(&c, "dead", Credentials::Emulator, "us-east-1", Some(url.clone())).await;
    assert_eq!(error_kind(&r), "endpoint_unreachable");
    let e = r.error.unwrap();
    assert!(e.message.contains(&url), "{}", e.message);
    assert!(e.hint.unwrap().contains("endpoint URL"));
}

#[tokio::test]
async fn requests_carry_vigil_and_the_operation_id_and_bad_keys_are_explained() {
    let fake = FakeHttp::start(
        "403 Forbidden",
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>",
    )
    .await;
    let (_d, c) = console_with("", "").await;
    let r = check(&c, "fake", Credentials::Emulator, "us-east-1", Some(format!("http://127.0.0.1:{}", fake.port))).await;
    assert_eq!(error_kind(&r), "invalid_credentials");
    let heads = fake.requests.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the SDK sent nothing");
    let ua = heads[0].lines().find(|l| l.to_ascii_lowercase().starts_with("user-agent:")).expect("a User-Agent header").to_string();
    assert!(ua.contains(&format!("vigil/{}", env!("CARGO_PKG_VERSION"))), "{ua}");
    assert!(ua.contains(&format!("vigil-op/{}", r.op_id)), "{ua} should carry {}", r.op_id);
}

// SSO without a session (directly and through a role chain): crates/vigil-cli/tests/cli.rs,
// where the process's HOME (and so ~/.aws/sso/cache) is the test's own.

#[tokio::test]
async fn a_profile_without_credentials_is_reported() {
    let (_d, c) = console_with("[profile empty]\nregion = eu-west-1\n", "").await;
    let r = check(&c, "empty", Credentials::Profile { name: "empty".into() }, "eu-west-1", None).await;
    assert_eq!(error_kind(&r), "no_credentials", "{:?}", r.error);
    assert!(r.error.unwrap().hint.unwrap().contains("aws configure list --profile empty"));
}

#[tokio::test]
async fn a_profile_removed_from_the_files_is_reported_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vigil.db");
    let before = App::open(&db, ProfileSource::from_contents("[profile gone]\nregion = eu-west-1\n", ""), "test").await.unwrap();
    before
        .environments()
        .add(&EnvironmentInput {
            name: "e".into(),
            credentials: Credentials::Profile { name: "gone".into() },
            region: "eu-west-1".into(),
            endpoint_url: None,
            deployment: Default::default(),
            platform_db: None,
        })
        .await
        .unwrap();
    let after = App::open(&db, ProfileSource::from_contents("[profile other]\n", ""), "test").await.unwrap();
    let r = after.environments().check("e").await.unwrap();
    assert_eq!(error_kind(&r), "unknown_profile");
    assert!(r.error.unwrap().hint.unwrap().contains("other"));
}

#[tokio::test]
async fn an_unknown_region_is_reported_as_a_wrong_region() {
    let (_d, c) = console_with("", "[keys]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = x\n").await;
    let r = check(&c, "typo", Credentials::Profile { name: "keys".into() }, "eu-wst-1", None).await;
    assert_eq!(error_kind(&r), "wrong_region", "{:?}", r.error);
    assert!(r.error.unwrap().message.contains("eu-wst-1"));
}
