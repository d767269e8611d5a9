//! Environments: the AWS account + region (and the platform's resources in it) the console
//! works on. Add, edit, remove (with undo and the environment's keychain password), select, the
//! AWS profiles to choose from, and "Check connection". Operator-log actions: `environment.add`,
//! `environment.edit`, `environment.remove`, `environment.purge`, `environment.select`.

pub mod rows;

pub use rows::{to_input, validate, CURRENT_KEY, EXTRA_PARAMETERS};

use crate::app::area;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::store;
use serde_json::json;
use vigil_dto::{CheckReport, Credentials, Environment, EnvironmentInput, ProfileList};

/// The environment `scripts/run` points at the local emulator.
pub const SANDBOX_ENV: &str = "sandbox";

area!(
    /// The environments area (`app.environments()`).
    Environments
);

impl Environments<'_> {
    pub async fn list(&self) -> Result<Vec<Environment>> {
        rows::list(self.store().pool()).await
    }

    pub async fn get(&self, name: &str) -> Result<Environment> {
        self.environment(name).await
    }

    pub async fn current(&self) -> Result<Option<Environment>> {
        self.current_environment().await
    }

    async fn checked(&self, input: &EnvironmentInput) -> Result<EnvironmentInput> {
        let input = rows::validate(input)?;
        if let Credentials::Profile { name } = &input.credentials {
            self.profiles().require(name).await?;
        }
        Ok(input)
    }

    fn platform_db(&self) -> crate::platform_db::PlatformDb<'_> {
        crate::platform_db::PlatformDb::new(self.core)
    }

    pub async fn add(&self, input: &EnvironmentInput) -> Result<Environment> {
        self.policy().require(Change::AddEnvironment)?;
        let input = self.checked(input).await?;
        if rows::exists(self.store().pool(), &input.name).await? {
            return Err(Error::EnvironmentExists(input.name));
        }
        // A new environment starts without a password, whatever an earlier one of that name
        // left in the keychain.
        self.platform_db().put_password(&input.name, None).await?;
        let mut tx = self.begin().await?;
        let env = rows::insert(&mut tx, &input).await?;
        self.commit(tx, Record::new("environment.add", &env.name, json!({ "environment": input }))).await?;
        Ok(env)
    }

    /// Replaces the settings of environment `name` (which may be renamed by `input.name`). A
    /// renamed environment keeps its database password: it is moved in the keychain before the
    /// change commits, and moved back if the change fails, so a failure changes nothing.
    pub async fn update(&self, name: &str, input: &EnvironmentInput) -> Result<Environment> {
        self.policy().require(Change::EditEnvironment)?;
        let input = self.checked(input).await?;
        let before = self.environment(name).await?;
        let renamed = !before.name.eq_ignore_ascii_case(&input.name);
        if renamed && rows::exists(self.store().pool(), &input.name).await? {
            return Err(Error::EnvironmentExists(input.name));
        }
        let keys = self.platform_db();
        let password = if renamed { keys.password(&before.name).await? } else { None };
        if let Some(p) = &password {
            keys.put_password(&input.name, Some(p)).await?;
        }
        let committed = async {
            let mut tx = self.begin().await?;
            let current = rows::get(&mut tx, name).await?;
            let after = rows::update(&mut tx, current.id, &input).await?;
            if current.current && current.name != after.name {
                store::set_setting(&mut tx, CURRENT_KEY, &after.name).await?;
            }
            let details = json!({ "before": rows::to_input(&current), "after": input });
            self.commit(tx, Record::new("environment.edit", &current.name, details)).await
        }
        .await;
        match (committed, &password) {
            (Err(e), Some(_)) => {
                if let Err(undo) = keys.put_password(&input.name, None).await {
                    tracing::error!(environment = %input.name, "a password copied for a failed rename could not be removed: {undo}");
                }
                return Err(e);
            }
            (Err(e), None) => return Err(e),
            (Ok(()), Some(_)) => {
                if let Err(e) = keys.put_password(&before.name, None).await {
                    // The rename stands; the old entry is cleared again by any later add of that name.
                    tracing::error!(environment = %before.name, "the password under the old name could not be removed: {e}");
                    return Err(e);
                }
            }
            (Ok(()), None) => {}
        }
        self.forget_connections(&before.name).await;
        self.environment(&input.name).await
    }

    /// Drops what was cached for `name` (its AWS context, its database pool).
    async fn forget_connections(&self, name: &str) {
        self.pools.lock().await.remove(&name.to_lowercase());
        self.aws.forget(name);
    }

    /// Removes `name` and its keychain password; returns what it was, so the caller can offer
    /// undo (add it again; the password is not kept for that). The password goes first: if the
    /// keychain refuses, nothing is removed.
    pub async fn remove(&self, name: &str) -> Result<Environment> {
        self.policy().require(Change::RemoveEnvironment)?;
        let env = self.environment(name).await?;
        self.platform_db().put_password(&env.name, None).await?;
        let mut tx = self.begin().await?;
        let env = rows::get(&mut tx, name).await?;
        rows::delete(&mut tx, env.id).await?;
        if env.current {
            sqlx::query("DELETE FROM settings WHERE key = ?").bind(CURRENT_KEY).execute(&mut *tx).await?;
        }
        let details = json!({ "environment": rows::to_input(&env), "was_current": env.current });
        self.commit(tx, Record::new("environment.remove", &env.name, details)).await?;
        self.forget_connections(&env.name).await;
        Ok(env)
    }

    /// Removes an environment whose stored row cannot be read (see
    /// [`Error::StoredEnvironment`]), with its password; the operator log keeps the raw row.
    pub async fn purge(&self, name: &str) -> Result<()> {
        self.policy().require(Change::RemoveEnvironment)?;
        let mut conn = self.store().pool().acquire().await?;
        let (_, raw) = rows::raw(&mut conn, name).await?;
        drop(conn);
        let stored_name = raw["name"].as_str().unwrap_or(name).to_string();
        self.platform_db().put_password(&stored_name, None).await?;
        let mut tx = self.begin().await?;
        let (id, raw) = rows::raw(&mut tx, name).await?;
        rows::delete(&mut tx, id).await?;
        sqlx::query("DELETE FROM settings WHERE key = ? AND value = ? COLLATE NOCASE").bind(CURRENT_KEY).bind(&stored_name).execute(&mut *tx).await?;
        self.commit(tx, Record::new("environment.purge", &stored_name, json!({ "stored": raw }))).await?;
        self.forget_connections(&stored_name).await;
        Ok(())
    }

    /// Makes `name` the environment the whole app works on.
    pub async fn select(&self, name: &str) -> Result<Environment> {
        let mut tx = self.begin().await?;
        let env = rows::get(&mut tx, name).await?;
        store::set_setting(&mut tx, CURRENT_KEY, &env.name).await?;
        self.commit(tx, Record::new("environment.select", &env.name, json!({}))).await?;
        self.environment(&env.name).await
    }

    /// The deployment parameters the metric catalog uses, with what each names.
    pub fn deployment_parameters(&self) -> Vec<vigil_dto::DeploymentParameter> {
        crate::metrics::catalog::load()
            .parameters
            .into_iter()
            .chain(rows::EXTRA_PARAMETERS.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .map(|(name, description)| vigil_dto::DeploymentParameter { name, description })
            .collect()
    }

    /// The profiles of the AWS config and credentials files, explained.
    pub async fn profiles_list(&self) -> ProfileList {
        self.profiles().list().await
    }

    /// "Check connection": the profile, the credentials, then STS GetCallerIdentity.
    pub async fn check(&self, name: &str) -> Result<CheckReport> {
        let env = self.environment(name).await?;
        let op_id = aws::new_op_id();
        let outcome = aws::sts::check_connection(&self.aws_context(&env).await, &op_id).await.map_err(|e| e.info());
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

    /// Makes sure the local sandbox environment exists, points at `endpoint` and is current.
    /// Writes nothing when it already is so.
    pub async fn ensure_sandbox(&self, endpoint: &str) -> Result<Environment> {
        self.policy().require(Change::AttachSandbox)?;
        let existing = match self.environment(SANDBOX_ENV).await {
            Ok(e) => Some(e),
            Err(Error::EnvironmentNotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let input = rows::validate(&EnvironmentInput {
            name: SANDBOX_ENV.into(),
            credentials: Credentials::Emulator,
            region: "us-east-1".into(),
            endpoint_url: Some(endpoint.into()),
            // Deployment parameters the user gave the sandbox are kept.
            deployment: existing.as_ref().map(|e| e.deployment.clone()).unwrap_or_default(),
            platform_db: existing.as_ref().and_then(|e| e.platform_db.clone()),
        })?;
        let env = match existing {
            Some(e) if rows::to_input(&e) == input => e,
            Some(_) => self.update(SANDBOX_ENV, &input).await?,
            None => self.add(&input).await?,
        };
        if env.current {
            return Ok(env);
        }
        self.select(SANDBOX_ENV).await
    }
}

#[cfg(test)]
mod tests;
