//! Vigil desktop console: opens the store, registers the commands, shows the window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod save_dialog;

/// Whether the app was started by scripts/run against the local sandbox.
pub struct Sandbox(pub bool);

fn main() {
    let context = tauri::generate_context!();
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("Vigil {}", context.package_info().version);
        return;
    }
    let _log = vigil_core::logging::init(&vigil_core::paths::log_dir(), "vigil-app", "info", true);
    // VIGIL_READ_ONLY=1: a compliance officer's console (see App::read_only). A value that is
    // neither yes nor no keeps it read-only (and says so).
    let read_only = match std::env::var("VIGIL_READ_ONLY") {
        Err(_) => false,
        Ok(v) => vigil_core::policy::parse_flag(&v).unwrap_or_else(|| {
            tracing::warn!("VIGIL_READ_ONLY={v:?} is neither yes nor no; starting read-only");
            true
        }),
    };
    let app = match tauri::async_runtime::block_on(vigil_core::App::open_default("app")) {
        Ok(c) => c.read_only(read_only),
        Err(e) => {
            let info = e.info();
            tracing::error!("cannot open the store at {}: {info}", vigil_core::paths::store_path().display());
            eprintln!("Vigil cannot start: {info}");
            std::process::exit(1);
        }
    };
    tracing::info!(data_dir = %vigil_core::paths::data_dir().display(), "Vigil {} starting", context.package_info().version);
    if !read_only {
        // A deploy that was running when Vigil stopped: follow it again (the Deploy page shows it).
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            match app.deploy().resume(&|_| {}).await {
                Ok(done) => done.iter().for_each(|s| tracing::info!(plan = %s.id, state = %s.state, "re-attached deployment ended")),
                Err(e) => tracing::warn!("re-attaching to an interrupted deployment failed: {}", e.info()),
            }
        });
    }
    // Updates only in a build made with an update key (the release workflow's, or a test's):
    // the plugin's configuration carries the key its downloads must be signed with.
    let updates = context.config().plugins.0.contains_key("updater");
    let mut builder = tauri::Builder::default().plugin(tauri_plugin_dialog::init());
    if updates {
        builder = builder.plugin(tauri_plugin_updater::Builder::new().build());
    }
    builder
        .manage(app)
        .manage(commands::update::Updates::new(updates))
        .manage(commands::deploy::OpenedBundle::default())
        .manage(Sandbox(std::env::var_os("VIGIL_SANDBOX").is_some()))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::ui_ready,
            commands::report_ui_error,
            commands::cancel_task,
            commands::environments::list_environments,
            commands::environments::add_environment,
            commands::environments::update_environment,
            commands::environments::remove_environment,
            commands::environments::select_environment,
            commands::environments::check_environment,
            commands::environments::list_profiles,
            commands::environments::deployment_parameters,
            commands::settings::list_oplog,
            commands::settings::verify_oplog,
            commands::settings::get_theme,
            commands::settings::set_theme,
            commands::update::update_check,
            commands::update::update_install,
            commands::update::update_skip,
            commands::metrics::metrics_dashboard,
            commands::metrics::export_chart,
            commands::alarms::list_alarms,
            commands::alarms::alarm_history,
            commands::backup::backup_overview,
            commands::backup::backup_jobs,
            commands::backup::backup_job_events,
            commands::backup::backup_points,
            commands::backup::backup_start,
            commands::backup::backup_restore,
            commands::backup::backup_restores,
            commands::backup::backup_use_cluster,
            commands::backup::backup_restore_test,
            commands::backup::backup_compliance,
            commands::backup::export_backup_compliance,
            commands::dr::dr_runbooks,
            commands::dr::dr_runs,
            commands::dr::dr_dry_run,
            commands::dr::dr_start,
            commands::dr::dr_approve,
            commands::dr::dr_resume,
            commands::dr::dr_lease,
            commands::dr::dr_break_lease,
            commands::dr::export_dr_report,
            commands::audit::set_platform_db,
            commands::audit::set_db_password,
            commands::audit::check_platform_db,
            commands::audit::audit_search,
            commands::audit::audit_record,
            commands::audit::audit_summary,
            commands::audit::verify_audit,
            commands::audit::export_audit_pdf,
            commands::audit::export_audit_csv,
            commands::eks::eks_overview,
            commands::eks::eks_refresh_insights,
            commands::eks::eks_workloads,
            commands::eks::eks_logs,
            commands::eks::eks_follow_logs,
            commands::eks::eks_watch_events,
            commands::eks::eks_act,
            commands::eks::eks_upgrade_plan,
            commands::eks::eks_upgrade,
            commands::timeline::timeline,
            commands::jobs::jobs_list,
            commands::jobs::job_failures,
            commands::jobs::job_detail,
            commands::jobs::retry_jobs,
            commands::deploy::deploy_bundle,
            commands::deploy::deploy_open_bundle,
            commands::deploy::deploy_recoveries,
            commands::deploy::deploy_recover,
            commands::deploy::deploy_publishers,
            commands::deploy::trust_publisher,
            commands::deploy::deploy_preflight,
            commands::deploy::deploy_plan,
            commands::deploy::deploy_apply,
            commands::deploy::deploy_status,
            commands::deploy::deploy_teardown_plan,
            commands::deploy::deploy_validate,
            commands::deploy::export_deployment_record,
        ])
        .run(context)
        .expect("the Tauri runtime failed");
}
