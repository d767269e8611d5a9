//! Deploy page: the bundle (this console's, or a newer one the operator opens) and its
//! publishers, preflight, the plan, apply with its progress pushed over a channel, the
//! deployment's status, recovery of a failed stack, validation and the deployment record.

use super::Res;
use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::deploy::{
    BundleSummary, DeployPlan, DeployRequest, DeploymentRecord, DeploymentStatus, PreflightReport, Publisher, StackRecovery, ValidationReport,
};

/// The bundle the operator opened (None: this console's own); the webview never names it.
#[derive(Default)]
pub struct OpenedBundle(pub std::sync::Mutex<Option<std::path::PathBuf>>);

pub fn opened(b: &OpenedBundle) -> Option<std::path::PathBuf> {
    b.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Asks for a bundle folder and verifies it; plans and preflights use it from then on. `None`
/// when the dialog is cancelled.
#[tauri::command]
pub async fn deploy_open_bundle(app: tauri::AppHandle, c: State<'_, App>, b: State<'_, OpenedBundle>) -> Res<Option<BundleSummary>> {
    let Some(dir) = crate::save_dialog::pick_folder(&app, "Open a platform bundle").await else { return Ok(None) };
    let summary = c.deploy().bundle_summary(Some(&dir)).await?;
    *b.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
    Ok(Some(summary))
}

#[tauri::command]
pub async fn deploy_recoveries(c: State<'_, App>, environment: String) -> Res<Vec<StackRecovery>> {
    Ok(c.deploy().recoveries(&environment).await?)
}

/// Recovers a failed stack; the ui asks for the stack's name typed.
#[tauri::command]
pub async fn deploy_recover(c: State<'_, App>, environment: String, stack: String, confirmation: Option<String>) -> Res<StackRecovery> {
    Ok(c.deploy().recover(&environment, &stack, confirmation.as_deref()).await?)
}

/// This console's own bundle, verified.
#[tauri::command]
pub async fn deploy_bundle(c: State<'_, App>) -> Res<BundleSummary> {
    Ok(c.deploy().bundle_summary(None).await?)
}

#[tauri::command]
pub async fn deploy_publishers(c: State<'_, App>) -> Res<Vec<Publisher>> {
    Ok(c.deploy().publishers().await?)
}

/// The ui asks for confirmation before calling this.
#[tauri::command]
pub async fn trust_publisher(c: State<'_, App>, name: String, key: String) -> Res<Publisher> {
    Ok(c.deploy().trust(&name, &key).await?)
}

#[tauri::command]
pub async fn deploy_preflight(c: State<'_, App>, b: State<'_, OpenedBundle>, request: DeployRequest) -> Res<PreflightReport> {
    Ok(c.deploy().preflight(&request, opened(&b).as_deref()).await?)
}

#[tauri::command]
pub async fn deploy_plan(c: State<'_, App>, b: State<'_, OpenedBundle>, request: DeployRequest) -> Res<DeployPlan> {
    Ok(c.deploy().plan(&request, opened(&b).as_deref()).await?)
}

/// Applies a reviewed plan (a gated one with the environment's name typed), pushing where it
/// stands after every step.
#[tauri::command]
pub async fn deploy_apply(
    c: State<'_, App>,
    plan: String,
    confirmation: Option<String>,
    on_progress: Channel<DeploymentStatus>,
) -> Res<DeploymentStatus> {
    let push = move |s: &DeploymentStatus| {
        let _ = on_progress.send(s.clone());
    };
    Ok(c.deploy().apply(&plan, confirmation.as_deref(), &push).await?)
}

#[tauri::command]
pub async fn deploy_status(c: State<'_, App>, environment: String) -> Res<Option<DeploymentStatus>> {
    Ok(c.deploy().status(&environment).await?)
}

/// The teardown plan: what would be deleted and what kept. Applied with `deploy_apply` and
/// the environment's name typed.
#[tauri::command]
pub async fn deploy_teardown_plan(c: State<'_, App>, environment: String) -> Res<DeployPlan> {
    Ok(c.deploy().plan_teardown(&environment).await?)
}

#[tauri::command]
pub async fn deploy_validate(c: State<'_, App>, environment: String) -> Res<ValidationReport> {
    Ok(c.deploy().validate(&environment).await?)
}

/// Asks where to save, then validates and writes the deployment record (PDF); `None` when the
/// dialog is cancelled.
#[tauri::command]
pub async fn export_deployment_record(app: tauri::AppHandle, c: State<'_, App>, environment: String) -> Res<Option<DeploymentRecord>> {
    let name = format!("deployment-record-{}-{}.pdf", environment.replace(' ', "-"), vigil_core::audit::query::file_stamp());
    let Some(path) = crate::save_dialog::ask(&app, &name, "pdf").await else { return Ok(None) };
    Ok(Some(c.deploy().record(&environment, &path).await?))
}
