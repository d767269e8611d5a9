//! Tests of the environments area against a real (temporary) store.

use super::*;
use crate::app::App;
use crate::aws::profiles::ProfileSource;
use crate::testing::{actions, app as console, input, CONFIG};

use crate::secrets::SecretStore;

/// A keychain that can be told to refuse writes.
#[derive(Default)]
struct Refusing {
    inner: crate::secrets::MemoryStore,
    refuse: std::sync::atomic::AtomicBool,
}

impl crate::secrets::SecretStore for Refusing {
    fn get(&self, account: &str) -> std::result::Result<Option<String>, String> {
        self.inner.get(account)
    }
    fn set(&self, account: &str, secret: &str) -> std::result::Result<(), String> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the keychain is locked".into());
        }
        self.inner.set(account, secret)
    }
    fn delete(&self, account: &str) -> std::result::Result<(), String> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the keychain is locked".into());
        }
        self.inner.delete(account)
    }
}

async fn console_with(secrets: std::sync::Arc<Refusing>) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let c = App::open_with_secrets(&dir.path().join("vigil.db"), ProfileSource::from_contents(CONFIG, ""), "test", secrets).await.unwrap();
    (dir, c)
}

#[tokio::test]
async fn every_mutation_is_logged_and_the_chain_holds() {
    let (_d, c) = console().await;
    c.environments().add(&input("prod")).await.unwrap();
    c.environments().select("prod").await.unwrap();
    let mut renamed = input("prod-eu");
    renamed.region = "eu-central-1".into();
    let after = c.environments().update("prod", &renamed).await.unwrap();
    assert!(after.current, "renaming the current environment keeps it current");
    assert_eq!(after.region, "eu-central-1");
    c.environments().remove("prod-eu").await.unwrap();
    assert_eq!(actions(&c).await, vec!["environment.add prod", "environment.select prod", "environment.edit prod", "environment.remove prod-eu",]);
    assert!(c.environments().current().await.unwrap().is_none());
    assert!(c.oplog().verify().await.unwrap().ok);
    let last = &c.oplog().list(1, None).await.unwrap()[0];
    assert!(last.details.contains(r#""client":"test""#), "{}", last.details);
    assert!(last.details.contains(r#""was_current":true"#), "{}", last.details);
}

#[tokio::test]
async fn deployment_parameters_are_kept_edited_and_restored_with_the_environment() {
    let (_d, c) = console().await;
    let mut i = input("prod");
    i.deployment.insert("cluster_name".into(), "pj-prod".into());
    let env = c.environments().add(&i).await.unwrap();
    assert_eq!(env.deployment["cluster_name"], "pj-prod");
    // An edit that changes something else keeps them; one that empties a value drops it.
    let mut edit = rows::to_input(&env);
    edit.region = "eu-central-1".into();
    assert_eq!(c.environments().update("prod", &edit).await.unwrap().deployment["cluster_name"], "pj-prod");
    edit.deployment.insert("cluster_name".into(), "".into());
    edit.deployment.insert("bucket".into(), "pj-docs".into());
    let env = c.environments().update("prod", &edit).await.unwrap();
    assert_eq!(env.deployment.keys().collect::<Vec<_>>(), ["bucket"]);
    // Removal logs the whole input, so undo (adding it again) brings them back.
    let removed = c.environments().remove("prod").await.unwrap();
    let again = c.environments().add(&rows::to_input(&removed)).await.unwrap();
    assert_eq!(again.deployment["bucket"], "pj-docs");
    assert!(c.environments().deployment_parameters().iter().any(|p| p.name == "db_cluster_id"));
}

#[tokio::test]
async fn failed_mutations_change_nothing_and_log_nothing() {
    let (_d, c) = console().await;
    c.environments().add(&input("prod")).await.unwrap();
    assert!(matches!(c.environments().add(&input("PROD")).await, Err(Error::EnvironmentExists(_))));
    let mut unknown = input("x");
    unknown.credentials = Credentials::Profile { name: "missing".into() };
    assert!(matches!(c.environments().add(&unknown).await, Err(Error::UnknownProfile { .. })));
    assert!(matches!(c.environments().remove("nope").await, Err(Error::EnvironmentNotFound(_))));
    assert!(matches!(c.environments().select("nope").await, Err(Error::EnvironmentNotFound(_))));
    assert_eq!(c.environments().list().await.unwrap().len(), 1);
    assert_eq!(actions(&c).await, vec!["environment.add prod"]);
}

#[tokio::test]
async fn renaming_onto_an_existing_name_is_refused() {
    let (_d, c) = console().await;
    c.environments().add(&input("a")).await.unwrap();
    c.environments().add(&input("b")).await.unwrap();
    assert!(matches!(c.environments().update("a", &input("b")).await, Err(Error::EnvironmentExists(_))));
    assert_eq!(c.environments().get("a").await.unwrap().name, "a");
}

#[tokio::test]
async fn ensure_sandbox_is_idempotent() {
    let (_d, c) = console().await;
    let env = c.environments().ensure_sandbox("http://127.0.0.1:5555").await.unwrap();
    assert!(env.current);
    assert_eq!(env.credentials, Credentials::Emulator);
    c.environments().ensure_sandbox("http://127.0.0.1:5555").await.unwrap();
    assert_eq!(actions(&c).await, vec!["environment.add sandbox", "environment.select sandbox"]);
    let moved = c.environments().ensure_sandbox("http://127.0.0.1:6666").await.unwrap();
    assert_eq!(moved.endpoint_url.as_deref(), Some("http://127.0.0.1:6666"));
    assert_eq!(actions(&c).await.len(), 3);
}

#[tokio::test]
async fn a_removed_environment_takes_its_password_and_a_new_one_of_that_name_has_none() {
    let keys = std::sync::Arc::new(Refusing::default());
    let (_d, c) = console_with(keys.clone()).await;
    c.environments().add(&input("prod")).await.unwrap();
    c.platform_db().set_password("prod", "s3cret").await.unwrap();
    c.environments().remove("prod").await.unwrap();
    assert_eq!(keys.get(&crate::secrets::db_password_account("prod")).unwrap(), None);
    // Even a password left behind (an older Vigil, a failed removal) is not inherited.
    keys.set(&crate::secrets::db_password_account("prod"), "left-over").unwrap();
    c.environments().add(&input("PROD")).await.unwrap();
    assert_eq!(c.platform_db().password("prod").await.unwrap(), None);
    // Adding a name that exists touches nobody's password.
    c.platform_db().set_password("prod", "kept").await.unwrap();
    assert!(matches!(c.environments().add(&input("prod")).await, Err(Error::EnvironmentExists(_))));
    assert_eq!(c.platform_db().password("prod").await.unwrap().as_deref(), Some("kept"));
    // When the keychain refuses, nothing is removed.
    keys.refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    let err = c.environments().remove("prod").await.unwrap_err();
    assert_eq!(err.kind(), "keychain", "{err}");
    assert!(c.environments().get("prod").await.is_ok());
}

#[tokio::test]
async fn a_rename_moves_the_password_or_changes_nothing() {
    let keys = std::sync::Arc::new(Refusing::default());
    let (_d, c) = console_with(keys.clone()).await;
    c.environments().add(&input("prod")).await.unwrap();
    c.platform_db().set_password("prod", "s3cret").await.unwrap();
    keys.refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    let err = c.environments().update("prod", &input("prod-eu")).await.unwrap_err();
    assert_eq!(err.kind(), "keychain", "{err}");
    assert!(c.environments().get("prod").await.is_ok(), "not renamed");
    assert_eq!(c.platform_db().password("prod").await.unwrap().as_deref(), Some("s3cret"));
    assert_eq!(actions(&c).await, vec!["environment.add prod", "platform_db.password prod"]);
    keys.refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    c.environments().update("prod", &input("prod-eu")).await.unwrap();
    assert_eq!(c.platform_db().password("prod-eu").await.unwrap().as_deref(), Some("s3cret"));
    assert_eq!(c.platform_db().password("prod").await.unwrap(), None);
}

#[tokio::test]
async fn an_unknown_credential_source_is_an_error_not_the_default_chain() {
    let (_d, c) = console().await;
    c.environments().add(&input("prod")).await.unwrap();
    c.environments().add(&input("other")).await.unwrap();
    // As a newer Vigil's store would hold it (its schema allows the new kind; this one's does not).
    let mut conn = c.store().pool().acquire().await.unwrap();
    sqlx::query("PRAGMA ignore_check_constraints = ON").execute(&mut *conn).await.unwrap();
    sqlx::query("UPDATE environments SET credentials = 'sso_v9', profile = NULL WHERE name = 'prod'").execute(&mut *conn).await.unwrap();
    sqlx::query("PRAGMA ignore_check_constraints = OFF").execute(&mut *conn).await.unwrap();
    drop(conn);
    let err = c.environments().get("prod").await.unwrap_err();
    assert_eq!(err.kind(), "store_corrupt");
    assert!(err.to_string().contains("`sso_v9`"), "{err}");
    assert!(err.hint().unwrap().contains("vigil env remove prod"));
    assert!(c.environments().list().await.is_err(), "the list does not hide it either");
    c.environments().purge("prod").await.unwrap();
    assert_eq!(c.environments().list().await.unwrap().len(), 1);
    let last = &c.oplog().list(1, None).await.unwrap()[0];
    assert_eq!((last.action.as_str(), last.target.as_str()), ("environment.purge", "prod"));
    assert!(last.details.contains("sso_v9"), "{}", last.details);
}
