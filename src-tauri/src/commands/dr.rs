//! DR page: the bundle's runbooks with their last runs, dry runs, runs (started, approved with
//! the text typed, resumed; progress pushed over a channel), the DR lease (a stale one broken
//! with the environment's name typed) and the drill report (through the save dialog).

use super::deploy::{opened, OpenedBundle};
use super::{pushed, Res};
use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::dr::{DrillReportFile, DryRunView, LeaseView, RunRequest, RunView, RunbookView};
use vigil_dto::WorkProgress;

#[tauri::command]
pub async fn dr_runbooks(c: State<'_, App>, b: State<'_, OpenedBundle>) -> Res<Vec<RunbookView>> {
    Ok(c.dr().runbooks(opened(&b).as_deref()).await?)
}

#[tauri::command]
pub async fn dr_runs(c: State<'_, App>) -> Res<Vec<RunView>> {
    Ok(c.dr().runs().await?)
}

#[tauri::command]
pub async fn dr_dry_run(c: State<'_, App>, b: State<'_, OpenedBundle>, request: RunRequest) -> Res<DryRunView> {
    Ok(c.dr().dry_run(opened(&b).as_deref(), &request).await?)
}

#[tauri::command]
pub async fn dr_start(c: State<'_, App>, b: State<'_, OpenedBundle>, request: RunRequest, on_progress: Channel<WorkProgress>) -> Res<RunView> {
    let (app, dir) = (c.inner(), opened(&b));
    Ok(app.tasks().run("runbook", pushed(on_progress), |p| async move { app.dr().start(dir.as_deref(), &request, &p).await }).await?)
}

#[tauri::command]
pub async fn dr_approve(
    c: State<'_, App>,
    b: State<'_, OpenedBundle>,
    run: String,
    confirm: String,
    on_progress: Channel<WorkProgress>,
) -> Res<RunView> {
    let (app, dir) = (c.inner(), opened(&b));
    Ok(app.tasks().run("runbook", pushed(on_progress), |p| async move { app.dr().approve(dir.as_deref(), &run, &confirm, &p).await }).await?)
}

#[tauri::command]
pub async fn dr_resume(c: State<'_, App>, b: State<'_, OpenedBundle>, run: String, on_progress: Channel<WorkProgress>) -> Res<RunView> {
    let (app, dir) = (c.inner(), opened(&b));
    Ok(app.tasks().run("runbook", pushed(on_progress), |p| async move { app.dr().resume(dir.as_deref(), &run, &p).await }).await?)
}

#[tauri::command]
pub async fn dr_lease(c: State<'_, App>) -> Res<Option<LeaseView>> {
    Ok(c.dr().lease().await?)
}

#[tauri::command]
pub async fn dr_break_lease(c: State<'_, App>, confirm: String) -> Res<LeaseView> {
    Ok(c.dr().break_lease(&confirm).await?)
}

/// Asks where to save, then writes run `run`'s report (PDF); `None` when the dialog is cancelled.
#[tauri::command]
pub async fn export_dr_report(app: tauri::AppHandle, c: State<'_, App>, run: String) -> Res<Option<DrillReportFile>> {
    let name = format!("drill-{run}.pdf");
    let Some(path) = crate::save_dialog::ask(&app, &name, "pdf").await else { return Ok(None) };
    Ok(Some(c.dr().write_report(&run, &path).await?))
}
