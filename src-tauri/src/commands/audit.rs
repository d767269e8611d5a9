//! Audit page: the platform database's settings, search, a record, the summary, and the long
//! work (Verify, CSV export, PDF report) run as tasks whose progress is pushed to the page over
//! a channel.

use super::{pushed, Res, CHART_HEIGHT};
use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::{
    AuditCursor, AuditFilter, AuditPage, AuditRecordDetail, AuditSummary, AuditVerification, ChartView, DbCheck, Environment, PlatformDb,
    ReportSummary, WorkProgress,
};

#[tauri::command]
pub async fn set_platform_db(c: State<'_, App>, name: String, db: Option<PlatformDb>) -> Res<Environment> {
    Ok(c.platform_db().set(&name, db).await?)
}

/// The password goes straight to the OS keychain.
#[tauri::command]
pub async fn set_db_password(c: State<'_, App>, name: String, password: String) -> Res<()> {
    Ok(c.platform_db().set_password(&name, &password).await?)
}

#[tauri::command]
pub async fn check_platform_db(c: State<'_, App>) -> Res<DbCheck> {
    Ok(c.platform_db().check().await?)
}

#[tauri::command]
pub async fn audit_search(c: State<'_, App>, filter: AuditFilter, cursor: Option<AuditCursor>, limit: u32) -> Res<AuditPage> {
    Ok(c.audit().search(&filter, cursor.as_ref(), limit).await?)
}

#[tauri::command]
pub async fn audit_record(c: State<'_, App>, stream: String, seq: i64) -> Res<AuditRecordDetail> {
    Ok(c.audit().record(&stream, seq).await?)
}

#[tauri::command]
pub async fn audit_summary(c: State<'_, App>, filter: AuditFilter, width: u32, dark: bool) -> Res<(AuditSummary, ChartView)> {
    Ok(c.audit().summary_view(&filter, width, CHART_HEIGHT, dark).await?)
}

#[tauri::command]
pub async fn verify_audit(c: State<'_, App>, since: Option<String>, on_progress: Channel<WorkProgress>) -> Res<AuditVerification> {
    let app = c.inner();
    Ok(app.tasks().run("verify", pushed(on_progress), |p| async move { app.audit().verify(since.as_deref(), p).await }).await?)
}

/// Asks where to save, then writes the filtered audit records as CSV; `None` when cancelled.
#[tauri::command]
pub async fn export_audit_csv(
    app: tauri::AppHandle,
    c: State<'_, App>,
    filter: AuditFilter,
    on_progress: Channel<WorkProgress>,
) -> Res<Option<vigil_core::audit::export::Written>> {
    let name = format!("audit-evidence-{}.csv", vigil_core::audit::query::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, "csv").await else { return Ok(None) };
    let app = c.inner();
    Ok(Some(app.tasks().run("export_csv", pushed(on_progress), |p| async move { app.audit().export_csv(&filter, &path, &p).await }).await?))
}

/// Asks where to save, then writes the PDF evidence report of the filtered records; `None`
/// when the dialog is cancelled.
#[tauri::command]
pub async fn export_audit_pdf(
    app: tauri::AppHandle,
    c: State<'_, App>,
    filter: AuditFilter,
    on_progress: Channel<WorkProgress>,
) -> Res<Option<ReportSummary>> {
    let name = format!("audit-report-{}.pdf", vigil_core::audit::query::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, "pdf").await else { return Ok(None) };
    let app = c.inner();
    Ok(Some(app.tasks().run("report", pushed(on_progress), |p| async move { app.audit().export_pdf(&filter, &path, p).await }).await?))
}
