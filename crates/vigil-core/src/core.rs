//! What every area shares: the local store, the AWS contexts, the keychain, the policy, the
//! platform database pools, who acts; and the two helpers every area uses — finding an
//! environment, and committing a change together with its operator-log record
//! ([`Core::begin`], [`Core::commit`]).

use crate::aws::{self, profiles::ProfileSource};
use crate::environments::rows;
use crate::error::{Error, Result};
use crate::oplog::{self, Action};
use crate::policy::Policy;
use crate::store::Store;
use serde_json::json;
use sqlx::{Sqlite, Transaction};
use std::sync::Arc;
use vigil_dto::Environment;

/// A write transaction of the local store.
pub type Tx = Transaction<'static, Sqlite>;

/// The operator-log record of a change.
#[derive(Debug, Clone)]
pub struct Record {
    pub action: &'static str,
    pub target: String,
    pub details: serde_json::Value,
    /// The operation id, when requests to AWS already carried it (else a new one).
    pub op_id: Option<String>,
}

impl Record {
    pub fn new(action: &'static str, target: impl Into<String>, details: serde_json::Value) -> Self {
        Record { action, target: target.into(), details, op_id: None }
    }

    pub fn op(mut self, op_id: &str) -> Self {
        self.op_id = Some(op_id.to_string());
        self
    }
}

#[derive(Clone)]
pub struct Core {
    store: Store,
    /// One AWS context per environment, shared by every call (vigil-aws).
    pub(crate) aws: Arc<aws::AwsContexts>,
    pub(crate) actor: String,
    /// Which front end acts ("app", "cli").
    pub(crate) client: &'static str,
    pub(crate) secrets: Arc<dyn crate::secrets::SecretStore>,
    pub(crate) policy: Policy,
    /// Platform database pools per environment (see `platform_db`).
    pub(crate) pools: crate::platform_db::Pools,
    /// Long work under way (see `tasks`).
    pub(crate) tasks: crate::tasks::Tasks,
    /// How often a deploy asks CloudFormation while it works.
    pub(crate) deploy_poll: std::time::Duration,
    /// How long a validation's smoke test waits for the worker.
    pub(crate) smoke_limit: std::time::Duration,
    /// How often a runbook's waits poll, in place of each wait's own `every` (tests).
    pub(crate) dr_poll: Option<std::time::Duration>,
}

/// The OS user running Vigil, recorded as the actor of operator-log records.
pub fn os_user() -> String {
    whoami::username().unwrap_or_else(|_| "unknown".into())
}

impl Core {
    pub(crate) fn new(store: Store, profiles: ProfileSource, client: &'static str, secrets: Arc<dyn crate::secrets::SecretStore>) -> Self {
        Core {
            store,
            aws: Arc::new(aws::AwsContexts::new(profiles, aws::AwsSettings::default())),
            actor: os_user(),
            client,
            secrets,
            policy: Policy::default(),
            pools: Default::default(),
            tasks: Default::default(),
            deploy_poll: std::time::Duration::from_secs(5),
            smoke_limit: crate::deploy::validate::SMOKE_LIMIT,
            dr_poll: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn profiles(&self) -> &ProfileSource {
        self.aws.profiles()
    }

    /// The AWS context of `env` (cached while its AWS settings stay the same).
    pub async fn aws_context(&self, env: &Environment) -> aws::AwsContext {
        self.aws.get(&aws::Target::from(env)).await
    }

    /// The environment named `name` (any case).
    pub async fn environment(&self, name: &str) -> Result<Environment> {
        let mut conn = self.store.pool().acquire().await?;
        rows::get(&mut conn, name).await
    }

    /// The environment the app works on, if one is chosen.
    pub async fn current_environment(&self) -> Result<Option<Environment>> {
        rows::current(self.store.pool()).await
    }

    /// The environment the app works on, or why there is none.
    pub async fn current(&self) -> Result<Environment> {
        self.current_environment().await?.ok_or(Error::NoCurrentEnvironment)
    }

    fn action(&self, record: Record) -> Action {
        let mut details = record.details;
        details["client"] = json!(self.client);
        Action {
            actor: self.actor.clone(),
            action: record.action.into(),
            target: record.target,
            details,
            op_id: record.op_id.unwrap_or_else(aws::new_op_id),
        }
    }

    /// Starts a change: one write transaction of the store, taking the write lock up front
    /// (`BEGIN IMMEDIATE`). Dropped without [`Core::commit`], it changes nothing.
    pub async fn begin(&self) -> Result<Tx> {
        self.store.write().await
    }

    /// Appends the change's operator-log record to `tx` and commits both: the change and its
    /// record land together, or neither does. The only way anything reaches the operator log.
    pub async fn commit(&self, mut tx: Tx, record: Record) -> Result<()> {
        oplog::append(&mut tx, &self.action(record)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records something done outside the store (an export written, a password kept in the
    /// keychain).
    pub async fn log(&self, record: Record) -> Result<()> {
        let tx = self.begin().await?;
        self.commit(tx, record).await
    }
}
