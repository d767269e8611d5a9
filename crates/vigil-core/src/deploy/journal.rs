//! The deployment journal (table `deployments`): each reviewed plan, the bundle it came from,
//! and where its apply stands per stack. Written as the apply goes, so a Vigil that was closed
//! or crashed mid-apply finds the plan it was applying and re-attaches to the stacks (which
//! remain the source of truth).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigil_dto::deploy::{DeployPlan, KeptResource, ResourceProgress, SetupStep};

/// Where one stack of an apply stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StackState {
    /// pending, applying, done, unchanged, failed.
    pub state: String,
    pub status: Option<String>,
    /// The last stack event seen (events after it are new).
    pub last_event: Option<String>,
    /// The change set being applied (a create makes its own).
    pub change_set: Option<String>,
    pub resources: BTreeMap<String, ResourceProgress>,
    /// Unix milliseconds of each resource's first event.
    pub first_seen_ms: BTreeMap<String, i64>,
    /// The stack's id (a deleted stack is found by its id, not its name).
    pub stack_id: Option<String>,
    /// Database clusters whose deletion protection a teardown turned off.
    pub unprotected: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub stacks: BTreeMap<String, StackState>,
    pub root_cause: Option<String>,
    pub next: Option<String>,
    pub started_at: Option<String>,
    /// A teardown's kept resources, its final snapshots included.
    pub kept: Vec<KeptResource>,
    /// A deploy's set-up after its stacks (see setup.rs).
    pub setup: Vec<SetupStep>,
    /// An upgrade's pre-upgrade database snapshot (see upgrade.rs).
    pub snapshot: Option<SetupStep>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub environment: String,
    pub state: String,
    pub plan: DeployPlan,
    pub progress: Progress,
    pub bundle_dir: String,
    pub updated_at: String,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

type Row = (String, String, String, String, String, String, String);

fn entry(row: Row) -> Result<Entry> {
    let (id, environment, state, plan, progress, bundle_dir, updated_at) = row;
    let plan = serde_json::from_str(&plan).map_err(|e| Error::validation("deployment journal", format!("plan {id}: {e}")))?;
    let progress = serde_json::from_str(&progress).map_err(|e| Error::validation("deployment journal", format!("progress of {id}: {e}")))?;
    Ok(Entry { id, environment, state, plan, progress, bundle_dir, updated_at })
}

const COLUMNS: &str = "id, environment, state, plan, progress, bundle_dir, updated_at";

pub async fn get(pool: &sqlx::SqlitePool, id: &str) -> Result<Option<Entry>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM deployments WHERE id = ?")).bind(id).fetch_optional(pool).await?;
    row.map(entry).transpose()
}

/// The newest entry of `environment`.
pub async fn latest(pool: &sqlx::SqlitePool, environment: &str) -> Result<Option<Entry>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE environment = ? COLLATE NOCASE ORDER BY created_at DESC, rowid DESC LIMIT 1"
    ))
    .bind(environment)
    .fetch_optional(pool)
    .await?;
    row.map(entry).transpose()
}

/// The newest deploy (not a teardown) of `environment` that succeeded.
pub async fn latest_deployed(pool: &sqlx::SqlitePool, environment: &str) -> Result<Option<Entry>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE environment = ? COLLATE NOCASE AND state = 'succeeded'
         AND COALESCE(json_extract(plan, '$.kind'), 'deploy') = 'deploy' ORDER BY created_at DESC, rowid DESC LIMIT 1"
    ))
    .bind(environment)
    .fetch_optional(pool)
    .await?;
    row.map(entry).transpose()
}

/// The newest entry of `environment` that finished, deploy or teardown: what stands now.
pub async fn latest_succeeded(pool: &sqlx::SqlitePool, environment: &str) -> Result<Option<Entry>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE environment = ? COLLATE NOCASE AND state = 'succeeded' ORDER BY updated_at DESC, rowid DESC LIMIT 1"
    ))
    .bind(environment)
    .fetch_optional(pool)
    .await?;
    row.map(entry).transpose()
}

/// Entries an apply was running when Vigil stopped.
pub async fn applying(pool: &sqlx::SqlitePool) -> Result<Vec<Entry>> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM deployments WHERE state = 'applying' ORDER BY created_at")).fetch_all(pool).await?;
    rows.into_iter().map(entry).collect()
}

pub async fn insert(tx: &mut crate::core::Tx, plan: &DeployPlan, bundle_dir: &str) -> Result<()> {
    // A newer plan replaces any unapplied one of the same environment.
    sqlx::query("UPDATE deployments SET state = 'superseded', updated_at = ? WHERE environment = ? COLLATE NOCASE AND state = 'planned'")
        .bind(now())
        .bind(&plan.environment)
        .execute(&mut **tx)
        .await?;
    let json = serde_json::to_string(plan).expect("a plan serialises");
    sqlx::query("INSERT INTO deployments (id, environment, state, plan, progress, bundle_dir, created_at, updated_at) VALUES (?, ?, 'planned', ?, '{}', ?, ?, ?)")
        .bind(&plan.id)
        .bind(&plan.environment)
        .bind(json)
        .bind(bundle_dir)
        .bind(&plan.created_at)
        .bind(now())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn update<'e>(db: impl sqlx::SqliteExecutor<'e>, id: &str, state: &str, progress: &Progress) -> Result<()> {
    let json = serde_json::to_string(progress).expect("progress serialises");
    sqlx::query("UPDATE deployments SET state = ?, progress = ?, updated_at = ? WHERE id = ?")
        .bind(state)
        .bind(json)
        .bind(now())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Saves where the apply stands (not an operator-log change: the apply's start and end are).
pub async fn save(pool: &sqlx::SqlitePool, id: &str, state: &str, progress: &Progress) -> Result<()> {
    update(pool, id, state, progress).await
}

/// The same, inside a change that commits with its operator-log record.
pub async fn set_state(tx: &mut crate::core::Tx, id: &str, state: &str, progress: &Progress) -> Result<()> {
    update(&mut **tx, id, state, progress).await
}
