//! Helpers of the core's own tests: an app on a temporary store, an environment input and a
//! stored environment, the operator log's actions in order.

use crate::app::App;
use crate::aws::profiles::ProfileSource;
use vigil_dto::{Credentials, EnvironmentInput};

/// The AWS config the tests' environments use: one profile, `ops`.
pub const CONFIG: &str = "[profile ops]\nregion = eu-west-1\n";

/// An app on a store in a new temporary directory, with [`CONFIG`] as the AWS files and a
/// keychain in memory (never the machine's).
pub async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let c = open(dir.path()).await;
    (dir, c)
}

/// An app on the store in `dir` (another app may have it open too).
pub async fn open(dir: &std::path::Path) -> App {
    let secrets = std::sync::Arc::new(crate::secrets::MemoryStore::default());
    App::open_with_secrets(&dir.join("vigil.db"), ProfileSource::from_contents(CONFIG, ""), "test", secrets).await.unwrap()
}

/// An environment `name` on the `ops` profile in eu-west-1.
pub fn input(name: &str) -> EnvironmentInput {
    EnvironmentInput {
        name: name.into(),
        credentials: Credentials::Profile { name: "ops".into() },
        region: "eu-west-1".into(),
        endpoint_url: None,
        deployment: Default::default(),
        platform_db: None,
    }
}

/// A stored environment `name` in eu-west-1 on the default chain, the current one, with no
/// deployment (pure functions over an environment take it).
pub fn environment(name: &str) -> vigil_dto::Environment {
    vigil_dto::Environment {
        id: 1,
        name: name.into(),
        credentials: Credentials::DefaultChain,
        region: "eu-west-1".into(),
        endpoint_url: None,
        created_at: String::new(),
        updated_at: String::new(),
        current: true,
        deployment: Default::default(),
        platform_db: None,
    }
}

/// "action target" of every operator-log record, oldest first.
pub async fn actions(c: &App) -> Vec<String> {
    let mut v: Vec<String> = c.oplog().list(100, None).await.unwrap().into_iter().map(|e| format!("{} {}", e.action, e.target)).collect();
    v.reverse();
    v
}
