//! Signing in to the platform database, against the tests' own PostgreSQL (scripts/test starts
//! it with TLS, a certificate of its own for localhost, and passwords for every role but the
//! superuser): verify-full fails without the CA and succeeds with it; a refused sign-in drops
//! the cached pool, so the next call signs in with the password the keychain has now.

use std::sync::Arc;
use vigil_core::secrets::SecretStore;
use vigil_core::App;
use vigil_dto::{AuditFilter, DbAuth, EnvironmentInput, PlatformDb};
use vigil_tests::platform_db::TestDb;

/// The tests' PostgreSQL certificate (VIGIL_PG_CA, set by scripts/test).
fn ca_file() -> String {
    std::env::var("VIGIL_PG_CA").expect("VIGIL_PG_CA is set by scripts/test (its PostgreSQL speaks TLS with this certificate)")
}

fn settings(db: &TestDb, user: &str, auth: DbAuth, ca_file: Option<String>) -> PlatformDb {
    PlatformDb { host: "localhost".into(), port: db.options.get_port(), database: db.name.clone(), user: user.into(), auth, ca_file }
}

async fn console(dir: &tempfile::TempDir, secrets: Arc<vigil_core::secrets::MemoryStore>, db: PlatformDb) -> App {
    let c = App::open_with_secrets(&dir.path().join("vigil.db"), vigil_core::aws::profiles::ProfileSource::from_contents("", ""), "test", secrets)
        .await
        .unwrap();
    c.environments()
        .add(&EnvironmentInput {
            name: "prod".into(),
            credentials: vigil_dto::Credentials::DefaultChain,
            region: "eu-west-1".into(),
            endpoint_url: None,
            deployment: Default::default(),
            platform_db: Some(db),
        })
        .await
        .unwrap();
    c.environments().select("prod").await.unwrap();
    c
}

#[tokio::test]
async fn verify_full_needs_the_servers_ca_and_succeeds_with_it() {
    use vigil_core::platform_db::connect::{pool_with, Tls};
    let db = TestDb::create("vigil_tls").await;
    let timeout = std::time::Duration::from_secs(10);
    // Without the CA: the OS trust store does not know this server's certificate.
    let plain = settings(&db, "postgres", DbAuth::Trust, None);
    let e = pool_with(&plain, None, timeout, &Tls::VerifyFull { ca_file: None }).await.unwrap_err();
    assert_eq!(e.kind(), "db_tls", "{e}");
    assert!(e.hint().unwrap().contains("CA file"), "{:?}", e.hint());
    // With it, through the console's own settings: verified, and the session is encrypted.
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, Default::default(), settings(&db, "postgres", DbAuth::Trust, Some(ca_file()))).await;
    let check = c.platform_db().check().await.unwrap();
    assert!(check.tls, "{check:?}");
    // A CA that did not sign the server's certificate fails the same way.
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, vigil_core::platform_db::roots::system_pem().expect("OS roots")).unwrap();
    let e = pool_with(&plain, None, timeout, &Tls::VerifyFull { ca_file: Some(other.display().to_string()) }).await.unwrap_err();
    assert_eq!(e.kind(), "db_tls", "{e}");
    db.drop_db().await;
}

#[tokio::test]
async fn a_refused_sign_in_drops_the_pool_and_the_next_call_uses_the_keychain_again() {
    let db = TestDb::create("vigil_auth").await;
    let role = format!("auditor_{}", &db.name[db.name.len() - 8..]);
    let admin = &db.pool;
    sqlx::query(&format!("CREATE ROLE {role} LOGIN PASSWORD 'first-secret' IN ROLE pj_auditor")).execute(admin).await.unwrap();
    let keys = Arc::new(vigil_core::secrets::MemoryStore::default());
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, keys.clone(), settings(&db, &role, DbAuth::Password, Some(ca_file()))).await;
    c.platform_db().set_password("prod", "first-secret").await.unwrap();
    c.audit().search(&AuditFilter::default(), None, 10).await.unwrap();

    // The password is rotated on the server and in the keychain (as another Vigil would), and
    // the pool's open connections end.
    sqlx::query(&format!("ALTER ROLE {role} PASSWORD 'second-secret'")).execute(admin).await.unwrap();
    keys.set(&vigil_core::secrets::db_password_account("prod"), "second-secret").unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1").bind(&role).execute(admin).await.unwrap();
    // The cached pool still signs in with the old password: refused, and said so.
    let e = c.audit().search(&AuditFilter::default(), None, 10).await.unwrap_err();
    assert_eq!(e.kind(), "db_auth", "{e}");
    // That dropped it: the next call reads the keychain again and gets in.
    c.audit().search(&AuditFilter::default(), None, 10).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1").bind(&role).execute(admin).await.unwrap();
    db.drop_db().await;
    sqlx::query(&format!("DROP ROLE {role}")).execute(&vigil_tests::platform_db::admin_pool().await).await.unwrap();
}
