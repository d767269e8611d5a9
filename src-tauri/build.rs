// Generates allow-/deny- permissions for each app command; capabilities/main.json grants them.
const COMMANDS: &[&str] = &[
    "app_info",
    "ui_ready",
    "report_ui_error",
    "cancel_task",
    "list_environments",
    "add_environment",
    "update_environment",
    "remove_environment",
    "select_environment",
    "check_environment",
    "list_profiles",
    "deployment_parameters",
    "list_oplog",
    "verify_oplog",
    "get_theme",
    "set_theme",
    "metrics_dashboard",
    "export_chart",
    "list_alarms",
    "alarm_history",
    "set_platform_db",
    "set_db_password",
    "check_platform_db",
    "audit_search",
    "audit_record",
    "audit_summary",
    "verify_audit",
    "export_audit_pdf",
    "export_audit_csv",
    "jobs_list",
    "job_failures",
    "job_detail",
    "retry_jobs",
];

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("tauri build step failed (is ui/dist built? run scripts/test or scripts/run)");
}
