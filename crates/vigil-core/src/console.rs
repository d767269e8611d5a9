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
    pub(crate) actor: String,
    pub(crate) client: &'static str,
    pub(crate) secrets: std::sync::Arc<dyn crate::secrets::SecretStore>,
    /// Read-only (a compliance officer's console): nothing that changes environments, the
    /// platform's settings or the platform itself; reading, verifying and exporting evidence
    /// stay allowed.
    read_only: bool,
    /// Platform database pools per environment (see `platform_console.rs`).
    pub(crate) pools: std::sync::Arc<tokio::sync::Mutex<std::collections::HashMap<String, crate::platform_console::CachedPool>>>,
}

/// The OS user running Vigil, recorded as the actor of operator-log records.
pub fn os_user() -> String {
    whoami::username().unwrap_or_else(|_| "unknown".into())
}

impl Console {
    /// Opens the store at `path`. `client` says which front end acts ("app", "cli").
    pub async fn open(path: &Path, profiles: ProfileSource, client: &'static str) -> Result<Console> {
        Console::open_with_secrets(path, profiles, client, std::sync::Arc::new(crate::secrets::Keychain)).await
    }

    /// As [`Console::open`], with another secret store (tests use the in-memory one).
    pub async fn open_with_secrets(
        path: &Path,
        profiles: ProfileSource,
        client: &'static str,
        secrets: std::sync::Arc<dyn crate::secrets::SecretStore>,
    ) -> Result<Console> {
        Ok(Console { store: Store::open(path).await?, profiles, actor: os_user(), client, secrets, pools: Default::default(), read_only: false })
    }

    /// This console, refusing every change (see [`Console::writable`]).
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Refuses `what` on a read-only console.
    pub(crate) fn writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly(what.to_string()));
        }
        Ok(())
    }

    pub(crate) fn profile_source(&self) -> &ProfileSource {
        &self.profiles
    }

    pub(crate) fn action_for(&self, action: &str, target: &str, details: serde_json::Value) -> Action {
        self.action(action, target, details, aws::new_op_id())
    }

    /// The store in the OS data directory (or VIGIL_DATA_DIR) with the standard AWS files.
    pub async fn open_default(client: &'static str) -> Result<Console> {
        Console::open(&crate::paths::store_path(), ProfileSource::standard(), client).await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn action(&self, action: &str, target: &str, details: serde_json::Value, op_id: String) -> Action {
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
        self.writable("adding an environment")?;
        let input = self.checked(input).await?;
        let mut tx = self.store.write().await?;
        let env = environments::insert(&mut tx, &input).await?;
        oplog::append(&mut tx, &self.action("environment.add", &env.name, json!({ "environment": input }), aws::new_op_id())).await?;
        tx.commit().await?;
        Ok(env)
    }

    /// Replaces the settings of environment `name` (which may be renamed by `input.name`).
    pub async fn update_environment(&self, name: &str, input: &EnvironmentInput) -> Result<Environment> {
        self.writable("editing an environment")?;
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
        if !before.name.eq_ignore_ascii_case(&input.name) {
            self.move_db_password(&before.name, &input.name);
        }
        self.environment(&input.name).await
    }

    /// Removes `name`; returns what it was, so the caller can offer undo (add it again).
    pub async fn remove_environment(&self, name: &str) -> Result<Environment> {
        self.writable("removing an environment")?;
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

    /// The deployment parameters the metric catalog uses, with what each names.
    pub fn deployment_parameters(&self) -> Vec<vigil_dto::DeploymentParameter> {
        crate::metrics::catalog::load()
            .parameters
            .into_iter()
            .chain(environments::EXTRA_PARAMETERS.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .map(|(name, description)| vigil_dto::DeploymentParameter { name, description })
            .collect()
    }

    /// The platform dashboard for the current environment: `selection` names components or
    /// charts (all when empty); the environment's deployment parameters fill the catalog,
    /// `params` adds to or overrides them (the platform environment name defaults to the
    /// Vigil environment's name).
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
        all.extend(env.deployment.clone());
        all.extend(params.clone());
        let (resolved, unavailable) = catalog.resolve(&all);
        let op_id = aws::new_op_id();
        let cfg = aws::sdk_config(&env, &self.profiles).await;
        let client = aws::cloudwatch::client(&cfg, &op_id);
        let mut data = crate::metrics::dashboard::fetch(&client, &resolved, selection, range, width, chrono::Utc::now().timestamp()).await;
        // Only what the selection would have shown.
        data.unavailable = unavailable
            .into_iter()
            .filter(|u| {
                let (comp, chart) = u.split_once(' ').map(|x| x.0).unwrap_or(u).split_once('/').unwrap_or((u, ""));
                selection.is_empty() || selection.iter().any(|s| s == comp || s == chart)
            })
            .collect();
        tracing::info!(environment = %env.name, charts = data.charts.len(), api_calls = data.api_calls, op_id = %op_id, "metrics refreshed");
        Ok(data)
    }

    /// The dashboard page: [`Console::metrics`] with every chart drawn as SVG, `width` pixels
    /// wide and `height` high, with its time axis in the local time zone.
    pub async fn dashboard(
        &self,
        selection: &[String],
        range: vigil_dto::TimeRange,
        width: u32,
        height: u32,
        dark: bool,
    ) -> Result<vigil_dto::DashboardView> {
        let data = self.metrics(selection, range, width, &Default::default()).await?;
        let components = crate::metrics::catalog::load().components.into_iter().map(|c| (c.id, c.title)).collect();
        let now = chrono::Utc::now().timestamp();
        Ok(crate::metrics::render::dashboard_view(data, components, width, height, dark, &chrono::Local, now))
    }

    /// Writes one chart to `path` as PNG, SVG (drawn in the local time zone) or CSV, and
    /// records the export in the operator log.
    pub async fn export_chart(
        &self,
        chart: &vigil_dto::ChartData,
        start: i64,
        end: i64,
        format: vigil_dto::ExportFormat,
        dark: bool,
        path: &Path,
    ) -> Result<()> {
        use crate::metrics::export;
        let bytes = export::bytes(chart, start, end, format, dark, &chrono::Local).map_err(|e| Error::validation("chart", e))?;
        export::write_atomically(path, &bytes)?;
        let details = json!({
            "format": format.extension(), "path": path.display().to_string(), "bytes": bytes.len(),
            "start": start, "end": end, "sha256": hex::encode(sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes))),
        });
        let mut tx = self.store.write().await?;
        oplog::append(&mut tx, &self.action("metrics.export", &format!("{}/{}", chart.component, chart.id), details, aws::new_op_id())).await?;
        tx.commit().await?;
        Ok(())
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
        self.writable("attaching the sandbox")?;
        let existing = match self.environment(SANDBOX_ENV).await {
            Ok(e) => Some(e),
            Err(Error::EnvironmentNotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let input = environments::validate(&EnvironmentInput {
            name: SANDBOX_ENV.into(),
            credentials: Credentials::Emulator,
            region: "us-east-1".into(),
            endpoint_url: Some(endpoint.into()),
            // Deployment parameters the user gave the sandbox are kept.
            deployment: existing.as_ref().map(|e| e.deployment.clone()).unwrap_or_default(),
            platform_db: existing.as_ref().and_then(|e| e.platform_db.clone()),
        })?;
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
        EnvironmentInput {
            name: name.into(),
            credentials: Credentials::Profile { name: "ops".into() },
            region: "eu-west-1".into(),
            endpoint_url: None,
            deployment: Default::default(),
            platform_db: None,
        }
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
        assert_eq!(
            actions(&c).await,
            vec!["environment.add prod", "environment.select prod", "environment.edit prod", "environment.remove prod-eu",]
        );
        assert!(c.current_environment().await.unwrap().is_none());
        assert!(c.verify_oplog().await.unwrap().ok);
        let last = &c.oplog(1, None).await.unwrap()[0];
        assert!(last.details.contains(r#""client":"test""#), "{}", last.details);
        assert!(last.details.contains(r#""was_current":true"#), "{}", last.details);
    }

    #[tokio::test]
    async fn a_chart_export_is_written_and_logged_and_a_failed_one_is_not() {
        let (d, c) = console().await;
        let chart = vigil_dto::ChartData {
            component: "platform".into(),
            id: "documents".into(),
            title: "Documents".into(),
            unit: "Count".into(),
            period: 60,
            threshold: None,
            series: vec![vigil_dto::SeriesData { label: "ingested".into(), points: vec![(1_795_507_200, Some(3.0))] }],
            error: None,
        };
        let path = d.path().join("docs.csv");
        c.export_chart(&chart, 1_795_507_200, 1_795_510_800, vigil_dto::ExportFormat::Csv, false, &path).await.unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("platform,documents,ingested,Count,2026-11-24T08:00:00Z,3"));
        let log = c.oplog(10, None).await.unwrap();
        assert_eq!((log[0].action.as_str(), log[0].target.as_str()), ("metrics.export", "platform/documents"));
        let details: serde_json::Value = serde_json::from_str(&log[0].details).unwrap();
        assert!(details["path"].as_str().unwrap().ends_with("docs.csv"));
        assert_eq!(details["sha256"].as_str().unwrap().len(), 64);
        // Into a directory that does not exist: an error, no record.
        assert!(c.export_chart(&chart, 0, 60, vigil_dto::ExportFormat::Csv, false, &d.path().join("no/such.csv")).await.is_err());
        assert_eq!(c.oplog(10, None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn deployment_parameters_are_kept_edited_and_restored_with_the_environment() {
        let (_d, c) = console().await;
        let mut i = input("prod");
        i.deployment.insert("cluster_name".into(), "pj-prod".into());
        let env = c.add_environment(&i).await.unwrap();
        assert_eq!(env.deployment["cluster_name"], "pj-prod");
        // An edit that changes something else keeps them; one that empties a value drops it.
        let mut edit = environments::to_input(&env);
        edit.region = "eu-central-1".into();
        assert_eq!(c.update_environment("prod", &edit).await.unwrap().deployment["cluster_name"], "pj-prod");
        edit.deployment.insert("cluster_name".into(), "".into());
        edit.deployment.insert("bucket".into(), "pj-docs".into());
        let env = c.update_environment("prod", &edit).await.unwrap();
        assert_eq!(env.deployment.keys().collect::<Vec<_>>(), ["bucket"]);
        // Removal logs the whole input, so undo (adding it again) brings them back.
        let removed = c.remove_environment("prod").await.unwrap();
        let again = c.add_environment(&environments::to_input(&removed)).await.unwrap();
        assert_eq!(again.deployment["bucket"], "pj-docs");
        assert!(c.deployment_parameters().iter().any(|p| p.name == "db_cluster_id"));
    }

    #[tokio::test]
    async fn a_read_only_console_refuses_every_change_and_logs_nothing() {
        let (d, c) = console().await;
        c.add_environment(&input("prod")).await.unwrap();
        let ro = Console::open(&d.path().join("vigil.db"), ProfileSource::from_contents(CONFIG, ""), "test").await.unwrap().read_only(true);
        let before = ro.oplog(100, None).await.unwrap().len();
        let refused = |r: Result<()>| assert!(matches!(r, Err(Error::ReadOnly(_))), "{r:?}");
        refused(ro.add_environment(&input("other")).await.map(|_| ()));
        refused(ro.update_environment("prod", &input("prod2")).await.map(|_| ()));
        refused(ro.remove_environment("prod").await.map(|_| ()));
        refused(ro.ensure_sandbox("http://127.0.0.1:1").await.map(|_| ()));
        refused(ro.set_platform_db("prod", None).await.map(|_| ()));
        refused(ro.set_db_password("prod", "secret").await);
        refused(ro.forget_db_password("prod").await);
        refused(ro.retry_jobs(None, Some("corrupt")).await.map(|_| ()));
        assert_eq!(ro.oplog(100, None).await.unwrap().len(), before, "nothing logged, nothing changed");
        assert_eq!(ro.environments().await.unwrap().len(), 1);
        // Looking around stays possible: choosing the environment to read, the theme.
        ro.select_environment("prod").await.unwrap();
        ro.set_theme(Theme::Dark).await.unwrap();
        assert!(ro.verify_oplog().await.unwrap().ok);
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
