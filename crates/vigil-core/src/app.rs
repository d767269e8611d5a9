//! `App`: what the desktop shell and the CLI open, and a thin router to the areas, each of which
//! owns its validation, errors, operator-log actions and tests:
//!
//! `app.environments()` · `app.metrics()` · `app.alarms()` · `app.platform_db()` ·
//! `app.audit()` · `app.jobs()` · `app.oplog()` · `app.settings()` · `app.deploy()` ·
//! `app.backups()` · `app.dr()`
//!
//! Every change goes through the policy first ([`crate::policy`]) and commits with its
//! operator-log record ([`Core::commit`]).

use crate::alarms::Alarms;
use crate::audit::Audit;
use crate::core::Core;
use crate::environments::Environments;
use crate::error::Result;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::oplog::Activity;
use crate::platform_db::PlatformDb;
use crate::policy::{Policy, Role};
use crate::settings::Settings;
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;
use vigil_aws::profiles::ProfileSource;

#[derive(Clone)]
pub struct App {
    core: Core,
}

/// Debug builds only: runbook waits poll every this many milliseconds (end-to-end tests).
pub const DR_POLL_MS: &str = "VIGIL_DR_POLL_MS";

impl App {
    /// Opens the store at `path`. `client` says which front end acts ("app", "cli").
    pub async fn open(path: &Path, profiles: ProfileSource, client: &'static str) -> Result<App> {
        App::open_with_secrets(path, profiles, client, Arc::new(crate::secrets::Keychain)).await
    }

    /// As [`App::open`], with another secret store (tests use the in-memory one).
    pub async fn open_with_secrets(
        path: &Path,
        profiles: ProfileSource,
        client: &'static str,
        secrets: Arc<dyn crate::secrets::SecretStore>,
    ) -> Result<App> {
        Ok(App { core: Core::new(Store::open(path).await?, profiles, client, secrets) })
    }

    /// The store in the OS data directory (or VIGIL_DATA_DIR) with the standard AWS files.
    pub async fn open_default(client: &'static str) -> Result<App> {
        let app = App::open(&crate::paths::store_path(), ProfileSource::standard(), client).await?;
        // Debug builds only: the end-to-end tests shorten runbook waits in the real app.
        let poll = std::env::var(DR_POLL_MS).ok().and_then(|ms| ms.parse().ok()).filter(|_| cfg!(debug_assertions));
        Ok(match poll {
            Some(ms) => app.dr_poll(std::time::Duration::from_millis(ms)),
            None => app,
        })
    }

    /// This app, refusing every change (the read-only role of [`Policy`]).
    pub fn read_only(mut self, on: bool) -> Self {
        self.core.policy.role = if on { Role::ReadOnly } else { Role::Operator };
        self
    }

    pub fn is_read_only(&self) -> bool {
        self.core.policy.role == Role::ReadOnly
    }

    pub fn policy(&self) -> Policy {
        self.core.policy
    }

    /// This app with other AWS timeouts and retries (tests shorten them).
    pub fn aws_settings(mut self, settings: crate::aws::AwsSettings) -> Self {
        self.core.aws = Arc::new(crate::aws::AwsContexts::new(self.core.profiles().clone(), settings));
        self
    }

    pub fn store(&self) -> &Store {
        self.core.store()
    }

    /// Long work under way: run, cancel, list.
    pub fn tasks(&self) -> &crate::tasks::Tasks {
        &self.core.tasks
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn environments(&self) -> Environments<'_> {
        Environments::new(&self.core)
    }

    pub fn metrics(&self) -> Metrics<'_> {
        Metrics::new(&self.core)
    }

    pub fn alarms(&self) -> Alarms<'_> {
        Alarms::new(&self.core)
    }

    pub fn platform_db(&self) -> PlatformDb<'_> {
        PlatformDb::new(&self.core)
    }

    pub fn audit(&self) -> Audit<'_> {
        Audit::new(&self.core)
    }

    pub fn backups(&self) -> crate::backup::Backups<'_> {
        crate::backup::Backups::new(&self.core)
    }

    pub fn dr(&self) -> crate::dr::Dr<'_> {
        crate::dr::Dr::new(&self.core)
    }

    pub fn eks(&self) -> crate::eks::Eks<'_> {
        crate::eks::Eks::new(&self.core)
    }

    pub fn timeline(&self) -> crate::timeline::Timelines<'_> {
        crate::timeline::Timelines::new(&self.core)
    }

    pub fn jobs(&self) -> Jobs<'_> {
        Jobs::new(&self.core)
    }

    pub fn oplog(&self) -> Activity<'_> {
        Activity::new(&self.core)
    }

    pub fn deploy(&self) -> crate::deploy::Deploy<'_> {
        crate::deploy::Deploy::new(&self.core)
    }

    /// This app's runbook waits polling every `poll` (tests shorten it).
    pub fn dr_poll(mut self, poll: std::time::Duration) -> Self {
        self.core.dr_poll = Some(poll);
        self
    }

    /// This app asking CloudFormation every `poll` while a deploy works (tests shorten it).
    pub fn deploy_poll(mut self, poll: std::time::Duration) -> Self {
        self.core.deploy_poll = poll;
        self
    }

    /// How long a validation's smoke test waits for the worker's job (tests shorten it).
    pub fn smoke_limit(mut self, limit: std::time::Duration) -> Self {
        self.core.smoke_limit = limit;
        self
    }

    pub fn settings(&self) -> Settings<'_> {
        Settings::new(&self.core)
    }
}

/// Every area is a view of the shared [`Core`]: `area!(Name)` declares it, with `Name::new`
/// and `Deref` to the core (so an area reads `self.store()`, `self.commit(…)`).
macro_rules! area {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            core: &'a $crate::core::Core,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(core: &'a $crate::core::Core) -> Self {
                $name { core }
            }
        }

        impl std::ops::Deref for $name<'_> {
            type Target = $crate::core::Core;
            fn deref(&self) -> &Self::Target {
                self.core
            }
        }
    };
}
pub(crate) use area;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::testing::input;
    use vigil_dto::Theme;

    #[tokio::test]
    async fn a_read_only_app_refuses_every_change_and_logs_nothing() {
        let (d, c) = crate::testing::app().await;
        c.environments().add(&input("prod")).await.unwrap();
        let ro = crate::testing::open(d.path()).await.read_only(true);
        let before = ro.oplog().list(100, None).await.unwrap().len();
        let refused = |r: Result<()>| assert!(matches!(r, Err(Error::ReadOnly(_))), "{r:?}");
        refused(ro.environments().add(&input("other")).await.map(|_| ()));
        refused(ro.environments().update("prod", &input("prod2")).await.map(|_| ()));
        refused(ro.environments().remove("prod").await.map(|_| ()));
        refused(ro.environments().ensure_sandbox("http://127.0.0.1:1").await.map(|_| ()));
        refused(ro.platform_db().set("prod", None).await.map(|_| ()));
        refused(ro.platform_db().set_password("prod", "secret").await);
        refused(ro.platform_db().forget_password("prod").await);
        refused(ro.jobs().retry(None, Some("corrupt")).await.map(|_| ()));
        assert_eq!(ro.oplog().list(100, None).await.unwrap().len(), before, "nothing logged, nothing changed");
        assert_eq!(ro.environments().list().await.unwrap().len(), 1);
        // Looking around stays possible: choosing the environment to read, the theme.
        ro.environments().select("prod").await.unwrap();
        ro.settings().set_theme(Theme::Dark).await.unwrap();
        assert!(ro.oplog().verify().await.unwrap().ok);
    }
}
