//! Backups page: each component against the RPO with the vaults and plans, jobs, recovery points.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::backup::{BackupJobView, BackupOverview, RecoveryPointView};

#[tauri::command]
pub async fn backup_overview(c: State<'_, App>) -> Res<BackupOverview> {
    Ok(c.backups().overview().await?)
}

#[tauri::command]
pub async fn backup_jobs(c: State<'_, App>, kind: String, state: Option<String>, days: i64) -> Res<Vec<BackupJobView>> {
    Ok(c.backups().jobs(&kind, state.as_deref(), days, 500).await?)
}

#[tauri::command]
pub async fn backup_points(c: State<'_, App>, vault: Option<String>, resource: Option<String>) -> Res<Vec<RecoveryPointView>> {
    Ok(c.backups().recovery_points(vault.as_deref(), resource.as_deref()).await?)
}
