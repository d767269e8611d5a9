//! The ui's commands: each one forwards to `vigil_core::Console` and maps errors to `ErrorInfo`.

use std::sync::Arc;
use tauri::State;
use vigil_core::platform::Progress;
use vigil_core::Console;
use vigil_dto::{
    AlarmHistoryEntry, AlarmInfo, AppInfo, AuditCursor, AuditFilter, AuditPage, AuditRecordDetail, AuditSummary, AuditVerification, ChartData,
    CheckReport, DashboardView, DeploymentParameter, Environment, EnvironmentInput, ErrorInfo, ExportFormat, OplogEntry, PlatformDb, ProfileList,
    Theme, TimeRange, VerifyReport,
};

type Res<T> = Result<T, ErrorInfo>;

#[tauri::command]
pub fn app_info(c: State<'_, Console>, sandbox: State<'_, crate::Sandbox>) -> AppInfo {
    AppInfo {
        read_only: c.is_read_only(),
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: vigil_core::paths::data_dir().display().to_string(),
        log_dir: vigil_core::paths::log_dir().display().to_string(),
        sandbox: sandbox.0,
    }
}

/// The ui calls this once it is interactive; scripts/run waits for the log line.
#[tauri::command]
pub fn ui_ready() {
    tracing::info!("ui ready");
}

/// Errors from the webview (load failures, panics) go to the log; the text is capped.
#[tauri::command]
pub fn report_ui_error(message: String) {
    tracing::error!(target: "vigil_ui", "{}", message.chars().take(2000).collect::<String>());
}

#[tauri::command]
pub async fn list_environments(c: State<'_, Console>) -> Res<Vec<Environment>> {
    Ok(c.environments().await?)
}

#[tauri::command]
pub async fn add_environment(c: State<'_, Console>, input: EnvironmentInput) -> Res<Environment> {
    Ok(c.add_environment(&input).await?)
}

#[tauri::command]
pub async fn update_environment(c: State<'_, Console>, name: String, input: EnvironmentInput) -> Res<Environment> {
    Ok(c.update_environment(&name, &input).await?)
}

#[tauri::command]
pub async fn remove_environment(c: State<'_, Console>, name: String) -> Res<Environment> {
    Ok(c.remove_environment(&name).await?)
}

#[tauri::command]
pub async fn select_environment(c: State<'_, Console>, name: String) -> Res<Environment> {
    Ok(c.select_environment(&name).await?)
}

#[tauri::command]
pub async fn check_environment(c: State<'_, Console>, name: String) -> Res<CheckReport> {
    Ok(c.check_environment(&name).await?)
}

#[tauri::command]
pub async fn list_profiles(c: State<'_, Console>) -> Res<ProfileList> {
    Ok(c.profiles().await)
}

#[tauri::command]
pub async fn list_oplog(c: State<'_, Console>, limit: u32, before: Option<i64>) -> Res<Vec<OplogEntry>> {
    Ok(c.oplog(limit, before).await?)
}

#[tauri::command]
pub async fn verify_oplog(c: State<'_, Console>) -> Res<VerifyReport> {
    Ok(c.verify_oplog().await?)
}

#[tauri::command]
pub async fn get_theme(c: State<'_, Console>) -> Res<Theme> {
    Ok(c.theme().await?)
}

#[tauri::command]
pub async fn set_theme(c: State<'_, Console>, theme: Theme) -> Res<Theme> {
    Ok(c.set_theme(theme).await?)
}

#[tauri::command]
pub fn deployment_parameters(c: State<'_, Console>) -> Vec<DeploymentParameter> {
    c.deployment_parameters()
}

/// Chart height in the ui, in CSS pixels.
const CHART_HEIGHT: u32 = 210;

#[tauri::command]
pub async fn metrics_dashboard(c: State<'_, Console>, selection: Vec<String>, range: TimeRange, width: u32, dark: bool) -> Res<DashboardView> {
    Ok(c.dashboard(&selection, range, width, CHART_HEIGHT, dark).await?)
}

/// Asks where to save (a native dialog), then writes the export; `None` when cancelled.
#[tauri::command]
pub async fn export_chart(
    app: tauri::AppHandle,
    c: State<'_, Console>,
    chart: ChartData,
    start: i64,
    end: i64,
    format: ExportFormat,
    dark: bool,
) -> Res<Option<String>> {
    let name = vigil_core::metrics::export::file_name(&chart, start, format);
    let Some(path) = crate::save_dialog::ask(&app, &name, format.extension()).await else { return Ok(None) };
    c.export_chart(&chart, start, end, format, dark, &path).await?;
    Ok(Some(path.display().to_string()))
}

#[tauri::command]
pub async fn list_alarms(c: State<'_, Console>, state: Option<String>) -> Res<Vec<AlarmInfo>> {
    Ok(c.alarms(state.as_deref()).await?)
}

#[tauri::command]
pub async fn alarm_history(c: State<'_, Console>, name: String) -> Res<Vec<AlarmHistoryEntry>> {
    Ok(c.alarm_history(&name, 100).await?)
}

#[tauri::command]
pub async fn set_platform_db(c: State<'_, Console>, name: String, db: Option<PlatformDb>) -> Res<Environment> {
    Ok(c.set_platform_db(&name, db).await?)
}

/// The password goes straight to the OS keychain.
#[tauri::command]
pub async fn set_db_password(c: State<'_, Console>, name: String, password: String) -> Res<()> {
    Ok(c.set_db_password(&name, &password).await?)
}

#[tauri::command]
pub async fn check_platform_db(c: State<'_, Console>) -> Res<vigil_dto::DbCheck> {
    Ok(c.check_platform_db().await?)
}

#[tauri::command]
pub async fn audit_search(c: State<'_, Console>, filter: AuditFilter, cursor: Option<AuditCursor>, limit: u32) -> Res<AuditPage> {
    Ok(c.audit_search(&filter, cursor.as_ref(), limit).await?)
}

#[tauri::command]
pub async fn audit_record(c: State<'_, Console>, stream: String, seq: i64) -> Res<AuditRecordDetail> {
    Ok(c.audit_record(&stream, seq).await?)
}

#[tauri::command]
pub async fn audit_summary(c: State<'_, Console>, filter: AuditFilter, width: u32, dark: bool) -> Res<(AuditSummary, vigil_dto::ChartView)> {
    Ok(c.audit_summary_view(&filter, width, CHART_HEIGHT, dark).await?)
}

/// The long audit work under way (verify, export, report; one at a time), for progress and cancel.
#[derive(Default)]
pub struct AuditWork(std::sync::Mutex<Option<Arc<Progress>>>);

impl AuditWork {
    /// Runs `work` with a fresh progress that `audit_progress` and `cancel_audit_work` see.
    async fn run<T, F: std::future::Future<Output = T>>(&self, work: impl FnOnce(Arc<Progress>) -> F) -> T {
        let progress = Arc::new(Progress::default());
        *self.0.lock().expect("audit work") = Some(progress.clone());
        let result = work(progress).await;
        *self.0.lock().expect("audit work") = None;
        result
    }
}

#[tauri::command]
pub async fn verify_audit(c: State<'_, Console>, w: State<'_, AuditWork>, since: Option<String>) -> Res<AuditVerification> {
    Ok(w.run(|p| c.verify_audit(since.as_deref(), p)).await?)
}

/// The stage and records done of the audit work under way, if any.
#[tauri::command]
pub fn audit_progress(w: State<'_, AuditWork>) -> Option<vigil_dto::WorkProgress> {
    w.0.lock().expect("audit work").as_ref().map(|p| p.view())
}

#[tauri::command]
pub fn cancel_audit_work(w: State<'_, AuditWork>) {
    if let Some(p) = w.0.lock().expect("audit work").as_ref() {
        p.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Asks where to save, then writes the filtered audit records as CSV; `None` when cancelled.
#[tauri::command]
pub async fn export_audit_csv(
    app: tauri::AppHandle,
    c: State<'_, Console>,
    w: State<'_, AuditWork>,
    filter: AuditFilter,
) -> Res<Option<vigil_core::platform::export::Written>> {
    let name = format!("audit-evidence-{}.csv", vigil_core::platform::audit::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, "csv").await else { return Ok(None) };
    Ok(Some(w.run(|p| async move { c.export_audit_csv(&filter, &path, &p).await }).await?))
}

/// Asks where to save, then writes the PDF evidence report of the filtered records; `None`
/// when the dialog is cancelled.
#[tauri::command]
pub async fn export_audit_pdf(
    app: tauri::AppHandle,
    c: State<'_, Console>,
    w: State<'_, AuditWork>,
    filter: AuditFilter,
) -> Res<Option<vigil_dto::ReportSummary>> {
    let name = format!("audit-report-{}.pdf", vigil_core::platform::audit::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, "pdf").await else { return Ok(None) };
    Ok(Some(w.run(|p| c.export_audit_pdf(&filter, &path, p)).await?))
}

#[tauri::command]
pub async fn jobs_list(c: State<'_, Console>, filter: vigil_dto::JobFilter, cursor: Option<(String, String)>, limit: u32) -> Res<vigil_dto::JobPage> {
    Ok(c.jobs_list(&filter, cursor.as_ref(), limit).await?)
}

#[tauri::command]
pub async fn job_failures(c: State<'_, Console>, filter: vigil_dto::JobFilter) -> Res<Vec<vigil_dto::FailureGroup>> {
    Ok(c.job_failures(&filter).await?)
}

#[tauri::command]
pub async fn job_detail(c: State<'_, Console>, id: String) -> Res<vigil_dto::JobDetail> {
    Ok(c.job_detail(&id).await?)
}

/// The ui asks for confirmation before calling this.
#[tauri::command]
pub async fn retry_jobs(c: State<'_, Console>, job: Option<String>, class: Option<String>) -> Res<vigil_dto::RetryReport> {
    Ok(c.retry_jobs(job.as_deref(), class.as_deref()).await?)
}
