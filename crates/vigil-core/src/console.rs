//! `Console`: the one entry point the desktop shell and the CLI call. Every mutating method
//! commits its change and its operator-log record in one transaction.

use crate::aws::{self, profiles::ProfileSource};
use crate::environments::{self, CURRENT_KEY};
use crate::error::{Error, Result};
use crate::oplog::{self, Action};
use crate::store::{self, Store};
use serde_json::json;
use std::path::Path;
use vigil_dto::{CheckReport, Credentials, Environment, EnvironmentInput, OplogEntry, ProfileList, Theme, VerifyReport};

pub const THEME_KEY: &str = "theme";
pub const SANDBOX_ENV: &str = "sandbox";

#[derive(Clone)]
pub struct Console {
    store: Store,
    profiles: ProfileSource,
    actor: String,
    client: &'static str,
}

/// The OS user running Vigil, recorded as the actor of operator-log records.
pub fn os_user() -> String {
    whoami::username().unwrap_or_else(|_| "unknown".into())
}

impl Console {
    /// Opens the store at `path`. `client` says which front end acts ("app", "cli").
    pub async fn open(path: &Path, profiles: ProfileSource, client: &'static str) -> Result<Console> {
        Ok(Console { store: Store::open(path).await?, profiles, actor: os_user(), client })
    }

    /// The store in the OS data directory (or VIGIL_DATA_DIR) with the standard AWS files.
    pub async fn open_default(client: &'static str) -> Result<Console> {
        Console::open(&crate::paths::store_path(), ProfileSource::standard(), client).await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn action(&self, action: &str, target: &str, details: serde_json::Value, op_id: String) -> Action {
        let mut details = details;
        details["client"] = json!(self.client);
        Action { actor: self.actor.clone(), action: action.into(), target: target.into(), details, op_id }
    }

    pub async fn environments(&self) -> Result<Vec<Environment>> {
        environments::list(self.store.pool()).await
    }

    pub async fn environment(&self, name: &str) -> Result<Environment> {
        let mut conn = self.store.pool().acquire().await?;
        environments::get(&mut conn, name).await
    }

    pub async fn current_environment(&self) -> Result<Option<Environment>> {
        environments::current(self.store.pool()).await
    }

    async fn checked(&self, input: &EnvironmentInput) -> Result<EnvironmentInput> {
        let input = environments::validate(input)?;
        if let Credentials::Profile { name } = &input.credentials {
            self.profiles.require(name).await?;
        }
        Ok(input)
    }

    pub async fn add_environment(&self, input: &EnvironmentInput) -> Result<Environment> {
        let input = self.checked(input).await?;
        let mut tx = self.store.write().await?;
        let env = environments::insert(&mut tx, &input).await?;
        oplog::append(&mut tx, &self.action("environment.add", &env.name, json!({ "environment": input }), aws::new_op_id())).await?;
        tx.commit().await?;
        Ok(env)
    }

    /// Replaces the settings of environment `name` (which may be renamed by `input.name`).
    pub async fn update_environment(&self, name: &str, input: &EnvironmentInput) -> Result<Environment> {
        let input = self.checked(input).await?;
        let mut tx = self.store.write().await?;
        let before = environments::get(&mut tx, name).await?;
        let after = environments::update(&mut tx, before.id, &input).await?;
        if before.current && before.name != after.name {
            store::set_setting(&mut tx, CURRENT_KEY, &after.name).await?;
        }
        let details = json!({ "before": environments::to_input(&before), "after": input });
        oplog::append(&mut tx, &self.action("environment.edit", &before.name, details, aws::new_op_id())).await?;
        tx.commit().await?;
        self.environment(&input.name).await
    }

    /// Removes `name`; returns what it was, so the caller can offer undo (add it again).
    pub async fn remove_environment(&self, name: &str) -> Result<Environment> {
        let mut tx = self.store.write().await?;
        let env = environments::get(&mut tx, name).await?;
        environments::delete(&mut tx, env.id).await?;
        if env.current {
            sqlx::query("DELETE FROM settings WHERE key = ?").bind(CURRENT_KEY).execute(&mut *tx).await?;
        }
        let details = json!({ "environment": environments::to_input(&env), "was_current": env.current });
        oplog::append(&mut tx, &self.action("environment.remove", &env.name, details, aws::new_op_id())).await?;
        tx.commit().await?;
        Ok(env)
    }

    /// Makes `name` the environment the whole app works on.
    pub async fn select_environment(&self, name: &str) -> Result<Environment> {
        let mut tx = self.store.write().await?;
        let env = environments::get(&mut tx, name).await?;
        store::set_setting(&mut tx, CURRENT_KEY, &env.name).await?;
        oplog::append(&mut tx, &self.action("environment.select", &env.name, json!({}), aws::new_op_id())).await?;
        tx.commit().await?;
        self.environment(&env.name).await
    }

    /// The platform dashboard for the current environment: `selection` names components or
    /// charts (all when empty); `params` adds to or overrides the deployment's parameters
    /// (the platform environment name defaults to the Vigil environment's name).
    pub async fn metrics(
        &self,
        selection: &[String],
        range: vigil_dto::TimeRange,
        width: u32,
        params: &std::collections::HashMap<String, String>,
    ) -> Result<vigil_dto::DashboardData> {
        let env = self.current_environment().await?.ok_or(Error::NoCurrentEnvironment)?;
        let catalog = crate::metrics::catalog::load();
        let known: Vec<&str> =
            catalog.components.iter().flat_map(|c| std::iter::once(c.id.as_str()).chain(c.charts.iter().map(|ch| ch.id.as_str()))).collect();
        if let Some(bad) = selection.iter().find(|s| !known.contains(&s.as_str())) {
            return Err(Error::validation("selection", format!("no component or chart `{bad}`; choose from {}", known.join(", "))));
        }
        let mut all = std::collections::HashMap::from([("environment".to_string(), env.name.clone())]);
        all.extend(params.clone());
        let (resolved, unavailable) = catalog.resolve(&all);
        let op_id = aws::new_op_id();
        let cfg = aws::sdk_config(&env, &self.profiles).await;
        let client = aws::cloudwatch::client(&cfg, &op_id);
        let mut data = crate::metrics::dashboard::fetch(&client, &resolved, selection, range, width, chrono::Utc::now().timestamp()).await;
        data.unavailable = unavailable;
        tracing::info!(environment = %env.name, charts = data.charts.len(), api_calls = data.api_calls, op_id = %op_id, "metrics refreshed");
        Ok(data)
    }

    /// The current environment's CloudWatch alarms, grouped by platform component; `state`
    /// (OK, ALARM, INSUFFICIENT_DATA) filters.
    pub async fn alarms(&self, state: Option<&str>) -> Result<Vec<vigil_dto::AlarmInfo>> {
        if let Some(s) = state {
            if !aws::cloudwatch::STATES.contains(&s) {
                return Err(Error::validation("state", format!("`{s}` is not an alarm state; use OK, ALARM or INSUFFICIENT_DATA")));
            }
        }
        let env = self.current_environment().await?.ok_or(Error::NoCurrentEnvironment)?;
        let op_id = aws::new_op_id();
        let cfg = aws::sdk_config(&env, &self.profiles).await;
        let client = aws::cloudwatch::client(&cfg, &op_id);
        aws::cloudwatch::describe_alarms(&client, state, &env.name).await.map_err(Error::Aws)
    }

    /// One alarm's history, newest first.
    pub async fn alarm_history(&self, name: &str, limit: usize) -> Result<Vec<vigil_dto::AlarmHistoryEntry>> {
        let env = self.current_environment().await?.ok_or(Error::NoCurrentEnvironment)?;
        let op_id = aws::new_op_id();
        let cfg = aws::sdk_config(&env, &self.profiles).await;
        let client = aws::cloudwatch::client(&cfg, &op_id);
        aws::cloudwatch::alarm_history(&client, name, limit).await.map_err(Error::Aws)
    }

    /// "Check connection": STS GetCallerIdentity with the environment's credentials.
    pub async fn check_environment(&self, name: &str) -> Result<CheckReport> {
        let env = self.environment(name).await?;
        let op_id = aws::new_op_id();
        let outcome = aws::check_connection(&env, &self.profiles, &op_id).await;
        match &outcome {
            Ok(id) => tracing::info!(environment = %env.name, account = %id.account, op_id = %op_id, "connection check passed"),
            Err(e) => tracing::warn!(environment = %env.name, kind = %e.kind, op_id = %op_id, "connection check failed: {}", e.message),
        }
        let (identity, error) = match outcome {
            Ok(id) => (Some(id), None),
            Err(e) => (None, Some(e)),
        };
        Ok(CheckReport {
            environment: env.name,
            region: env.region,
            endpoint_url: env.endpoint_url,
            identity,
            error,
            op_id,
            checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }

    pub async fn profiles(&self) -> ProfileList {
        self.profiles.list().await
    }

    pub async fn oplog(&self, limit: u32, before: Option<i64>) -> Result<Vec<OplogEntry>> {
        oplog::list(self.store.pool(), limit, before).await
    }

    pub async fn verify_oplog(&self) -> Result<VerifyReport> {
        oplog::verify(self.store.pool()).await
    }

    pub async fn theme(&self) -> Result<Theme> {
        Ok(self.store.setting(THEME_KEY).await?.as_deref().and_then(Theme::parse).unwrap_or_default())
    }

    pub async fn set_theme(&self, theme: Theme) -> Result<Theme> {
        let mut tx = self.store.write().await?;
        store::set_setting(&mut tx, THEME_KEY, theme.as_str()).await?;
        oplog::append(&mut tx, &self.action("settings.theme", theme.as_str(), json!({}), aws::new_op_id())).await?;
        tx.commit().await?;
        Ok(theme)
    }

    /// Makes sure the local sandbox environment exists, points at `endpoint` and is current.
    /// Writes nothing when it already is so.
    pub async fn ensure_sandbox(&self, endpoint: &str) -> Result<Environment> {
        let input = environments::validate(&EnvironmentInput {
            name: SANDBOX_ENV.into(),
            credentials: Credentials::Emulator,
            region: "us-east-1".into(),
            endpoint_url: Some(endpoint.into()),
        })?;
        let existing = match self.environment(SANDBOX_ENV).await {
            Ok(e) => Some(e),
            Err(Error::EnvironmentNotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let env = match existing {
            Some(e) if environments::to_input(&e) == input => e,
            Some(_) => self.update_environment(SANDBOX_ENV, &input).await?,
            None => self.add_environment(&input).await?,
        };
        if env.current {
            return Ok(env);
        }
        self.select_environment(SANDBOX_ENV).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[profile ops]\nregion = eu-west-1\n";

    async fn console() -> (tempfile::TempDir, Console) {
        let dir = tempfile::tempdir().unwrap();
        let c = Console::open(&dir.path().join("vigil.db"), ProfileSource::from_contents(CONFIG, ""), "test").await.unwrap();
        (dir, c)
    }

    fn input(name: &str) -> EnvironmentInput {
        EnvironmentInput { name: name.into(), credentials: Credentials::Profile { name: "ops".into() }, region: "eu-west-1".into(), endpoint_url: None }
    }

    async fn actions(c: &Console) -> Vec<String> {
        let mut v: Vec<String> = c.oplog(100, None).await.unwrap().into_iter().map(|e| format!("{} {}", e.action, e.target)).collect();
        v.reverse();
        v
    }

    #[tokio::test]
    async fn every_mutation_is_logged_and_the_chain_holds() {
        let (_d, c) = console().await;
        c.add_environment(&input("prod")).await.unwrap();
        c.select_environment("prod").await.unwrap();
        let mut renamed = input("prod-eu");
        renamed.region = "eu-central-1".into();
        let after = c.update_environment("prod", &renamed).await.unwrap();
        assert!(after.current, "renaming the current environment keeps it current");
        assert_eq!(after.region, "eu-central-1");
        c.remove_environment("prod-eu").await.unwrap();
        assert_eq!(actions(&c).await, vec![
            "environment.add prod", "environment.select prod", "environment.edit prod", "environment.remove prod-eu",
        ]);
        assert!(c.current_environment().await.unwrap().is_none());
        assert!(c.verify_oplog().await.unwrap().ok);
        let last = &c.oplog(1, None).await.unwrap()[0];
        assert!(last.details.contains(r#""client":"test""#), "{}", last.details);
        assert!(last.details.contains(r#""was_current":true"#), "{}", last.details);
    }

    #[tokio::test]
    async fn failed_mutations_change_nothing_and_log_nothing() {
        let (_d, c) = console().await;
        c.add_environment(&input("prod")).await.unwrap();
        assert!(matches!(c.add_environment(&input("PROD")).await, Err(Error::EnvironmentExists(_))));
        let mut unknown = input("x");
        unknown.credentials = Credentials::Profile { name: "missing".into() };
        assert!(matches!(c.add_environment(&unknown).await, Err(Error::UnknownProfile { .. })));
        assert!(matches!(c.remove_environment("nope").await, Err(Error::EnvironmentNotFound(_))));
        assert!(matches!(c.select_environment("nope").await, Err(Error::EnvironmentNotFound(_))));
        assert_eq!(c.environments().await.unwrap().len(), 1);
        assert_eq!(actions(&c).await, vec!["environment.add prod"]);
    }

    #[tokio::test]
    async fn renaming_onto_an_existing_name_is_refused() {
        let (_d, c) = console().await;
        c.add_environment(&input("a")).await.unwrap();
        c.add_environment(&input("b")).await.unwrap();
        assert!(matches!(c.update_environment("a", &input("b")).await, Err(Error::EnvironmentExists(_))));
        assert_eq!(c.environment("a").await.unwrap().name, "a");
    }

    #[tokio::test]
    async fn ensure_sandbox_is_idempotent() {
        let (_d, c) = console().await;
        let env = c.ensure_sandbox("http://127.0.0.1:5555").await.unwrap();
        assert!(env.current);
        assert_eq!(env.credentials, Credentials::Emulator);
        c.ensure_sandbox("http://127.0.0.1:5555").await.unwrap();
        assert_eq!(actions(&c).await, vec!["environment.add sandbox", "environment.select sandbox"]);
        let moved = c.ensure_sandbox("http://127.0.0.1:6666").await.unwrap();
        assert_eq!(moved.endpoint_url.as_deref(), Some("http://127.0.0.1:6666"));
        assert_eq!(actions(&c).await.len(), 3);
    }

    #[tokio::test]
    async fn theme_defaults_to_system_and_is_kept() {
        let (_d, c) = console().await;
        assert_eq!(c.theme().await.unwrap(), Theme::System);
        c.set_theme(Theme::Dark).await.unwrap();
        assert_eq!(c.theme().await.unwrap(), Theme::Dark);
        assert_eq!(actions(&c).await, vec!["settings.theme dark"]);
    }
}
