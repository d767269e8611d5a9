//! The ui's commands, one module per area (each a few lines forwarding to `vigil_core::App`,
//! errors mapped to `ErrorInfo`): the ui page → this command → the core's area.

pub mod alarms;
pub mod audit;
pub mod backup;
pub mod deploy;
pub mod dr;
pub mod eks;
pub mod environments;
pub mod jobs;
pub mod metrics;
pub mod settings;
pub mod timeline;
pub mod update;

use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::{AppInfo, ErrorInfo, WorkProgress};

pub type Res<T> = Result<T, ErrorInfo>;

/// Pushes a task's progress to the page (a closed page is no error).
pub fn pushed(channel: Channel<WorkProgress>) -> impl Fn(WorkProgress) {
    move |w| {
        let _ = channel.send(w);
    }
}

/// Chart height in the ui, in CSS pixels.
pub const CHART_HEIGHT: u32 = 210;

#[tauri::command]
pub fn app_info(app: tauri::AppHandle, c: State<'_, App>, sandbox: State<'_, crate::Sandbox>) -> AppInfo {
    AppInfo {
        read_only: c.is_read_only(),
        version: app.package_info().version.to_string(),
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

/// Errors from the webview (load failures, panics) go to the log: one line, control characters
/// escaped, capped.
#[tauri::command]
pub fn report_ui_error(message: String) {
    tracing::error!(target: "vigil_ui", "{}", vigil_core::logging::one_line(&message, 2000));
}

/// Asks a running task (verify, export, report) to stop; false when it is no longer running.
#[tauri::command]
pub fn cancel_task(c: State<'_, App>, task: u64) -> bool {
    c.tasks().cancel(task)
}
