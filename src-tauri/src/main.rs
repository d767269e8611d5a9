//! Vigil desktop console: opens the store, registers the commands, shows the window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod save_dialog;

/// Whether the app was started by scripts/run against the local sandbox.
pub struct Sandbox(pub bool);

fn main() {
    let _log = vigil_core::logging::init(&vigil_core::paths::log_dir(), "vigil-app", "info", true);
    // VIGIL_READ_ONLY=1: a compliance officer's console (see Console::read_only).
    let read_only = std::env::var("VIGIL_READ_ONLY").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false" | "no"));
    let console = match tauri::async_runtime::block_on(vigil_core::Console::open_default("app")) {
        Ok(c) => c.read_only(read_only),
        Err(e) => {
            let info = e.info();
            tracing::error!("cannot open the store at {}: {info}", vigil_core::paths::store_path().display());
            eprintln!("Vigil cannot start: {info}");
            std::process::exit(1);
        }
    };
    tracing::info!(data_dir = %vigil_core::paths::data_dir().display(), "Vigil {} starting", env!("CARGO_PKG_VERSION"));
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(console)
        .manage(commands::AuditWork::default())
        .manage(Sandbox(std::env::var_os("VIGIL_SANDBOX").is_some()))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::ui_ready,
            commands::report_ui_error,
            commands::list_environments,
            commands::add_environment,
            commands::update_environment,
            commands::remove_environment,
            commands::select_environment,
            commands::check_environment,
            commands::list_profiles,
            commands::list_oplog,
            commands::verify_oplog,
            commands::get_theme,
            commands::set_theme,
            commands::deployment_parameters,
            commands::metrics_dashboard,
            commands::export_chart,
            commands::list_alarms,
            commands::alarm_history,
            commands::set_platform_db,
            commands::set_db_password,
            commands::check_platform_db,
            commands::audit_search,
            commands::audit_record,
            commands::audit_summary,
            commands::verify_audit,
            commands::audit_progress,
            commands::cancel_audit_work,
            commands::export_audit_pdf,
            commands::export_audit_csv,
            commands::jobs_list,
            commands::job_failures,
            commands::job_detail,
            commands::retry_jobs,
        ])
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed");
}
