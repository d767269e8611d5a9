//! Backups page: each component against the RPO with the vaults and plans, jobs and their events,
//! recovery points;
//! an on-demand backup, a restore (its progress pushed over a channel) and the restores made;
//! the platform pointed at a restored cluster; restore tests; the compliance controls and their export (through the save dialog).

use super::{pushed, Res};
use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::backup::{
    BackupJobEvents, BackupJobView, BackupOverview, BackupRequest, ComplianceExport, ComplianceReport, RecoveryPointView, RestoreRecord,
    RestoreRequest, RestoreTestReport, RestoreTestRequest, UseClusterRequest, UseClusterResult,
};
use vigil_dto::WorkProgress;

#[tauri::command]
pub async fn backup_overview(c: State<'_, App>) -> Res<BackupOverview> {
    Ok(c.backups().overview().await?)
}

#[tauri::command]
pub async fn backup_jobs(c: State<'_, App>, kind: String, state: Option<String>, days: i64) -> Res<Vec<BackupJobView>> {
    Ok(c.backups().jobs(&kind, state.as_deref(), days, 500).await?)
}

#[tauri::command]
pub async fn backup_job_events(c: State<'_, App>, job: String, since_ms: Option<i64>) -> Res<BackupJobEvents> {
    Ok(c.backups().job_events(&job, since_ms).await?)
}

#[tauri::command]
pub async fn backup_points(c: State<'_, App>, vault: Option<String>, resource: Option<String>) -> Res<Vec<RecoveryPointView>> {
    Ok(c.backups().recovery_points(vault.as_deref(), resource.as_deref()).await?)
}

#[tauri::command]
pub async fn backup_start(c: State<'_, App>, request: BackupRequest) -> Res<BackupJobView> {
    Ok(c.backups().start_backup(&request).await?)
}

#[tauri::command]
pub async fn backup_restore(c: State<'_, App>, request: RestoreRequest, on_progress: Channel<WorkProgress>) -> Res<RestoreRecord> {
    let app = c.inner();
    Ok(app.tasks().run("restore", pushed(on_progress), |p| async move { app.backups().restore(&request, &p).await }).await?)
}

#[tauri::command]
pub async fn backup_use_cluster(c: State<'_, App>, request: UseClusterRequest, on_progress: Channel<WorkProgress>) -> Res<UseClusterResult> {
    let app = c.inner();
    Ok(app.tasks().run("use_cluster", pushed(on_progress), |p| async move { app.backups().use_cluster(&request, &p).await }).await?)
}

#[tauri::command]
pub async fn backup_restore_test(c: State<'_, App>, request: RestoreTestRequest, on_progress: Channel<WorkProgress>) -> Res<RestoreTestReport> {
    let app = c.inner();
    Ok(app.tasks().run("restore_test", pushed(on_progress), |p| async move { app.backups().restore_test(&request, &p).await }).await?)
}

#[tauri::command]
pub async fn backup_restores(c: State<'_, App>) -> Res<Vec<RestoreRecord>> {
    Ok(c.backups().restores(100).await?)
}

#[tauri::command]
pub async fn backup_compliance(c: State<'_, App>) -> Res<ComplianceReport> {
    Ok(c.backups().compliance().await?)
}

/// Asks where to save, then writes the compliance report as `format` (pdf or csv); `None` when
/// the dialog is cancelled.
#[tauri::command]
pub async fn export_backup_compliance(app: tauri::AppHandle, c: State<'_, App>, format: String) -> Res<Option<ComplianceExport>> {
    let ext = if format == "csv" { "csv" } else { "pdf" };
    let name = format!("backup-compliance-{}.{ext}", vigil_core::audit::query::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, ext).await else { return Ok(None) };
    Ok(Some(c.backups().export_compliance(&path, &format).await?))
}
