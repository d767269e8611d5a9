//! Services page: the platform's EKS cluster and a refresh of its upgrade insights; its
//! workloads (rollout, history, cause, pods, events), their logs (a window, or followed as a
//! task), the events watched as a task, and restart / rollback / scale; the upgrade cockpit's
//! plan and the upgrade (the bundle's runbook, as a task with progress).

use super::deploy::{opened, OpenedBundle};
use super::{pushed, Res};
use tauri::ipc::Channel;
use tauri::State;
use vigil_core::App;
use vigil_dto::dr::RunView;
use vigil_dto::eks::{ClusterOverview, KubeEvent, LogLine, UpgradePlan, WorkloadAction, WorkloadChange, Workloads};
use vigil_dto::WorkProgress;

#[tauri::command]
pub async fn eks_overview(c: State<'_, App>) -> Res<ClusterOverview> {
    Ok(c.eks().overview().await?)
}

#[tauri::command]
pub async fn eks_refresh_insights(c: State<'_, App>) -> Res<bool> {
    Ok(c.eks().refresh_insights().await?)
}

#[tauri::command]
pub async fn eks_workloads(c: State<'_, App>) -> Res<Workloads> {
    Ok(c.eks().workloads().await?)
}

#[tauri::command]
pub async fn eks_logs(c: State<'_, App>, since_seconds: Option<i64>, tail: Option<i64>) -> Res<Vec<LogLine>> {
    Ok(c.eks().logs(since_seconds, tail).await?)
}

/// Follows the worker's logs until cancelled (`cancel_task`); each line goes to `on_line`.
#[tauri::command]
pub async fn eks_follow_logs(c: State<'_, App>, tail: Option<i64>, on_line: Channel<LogLine>, on_progress: Channel<WorkProgress>) -> Res<()> {
    let app = c.inner();
    let send = move |l: LogLine| {
        let _ = on_line.send(l);
    };
    Ok(app.tasks().run("logs", pushed(on_progress), |p| async move { app.eks().follow_logs(tail, &send, p).await }).await?)
}

/// Watches the namespace's events until cancelled (`cancel_task`); each goes to `on_event`.
#[tauri::command]
pub async fn eks_watch_events(c: State<'_, App>, on_event: Channel<KubeEvent>, on_progress: Channel<WorkProgress>) -> Res<()> {
    let app = c.inner();
    let send = move |e: KubeEvent| {
        let _ = on_event.send(e);
    };
    Ok(app.tasks().run("events", pushed(on_progress), |p| async move { app.eks().watch_events(&send, p).await }).await?)
}

#[tauri::command]
pub async fn eks_act(c: State<'_, App>, action: WorkloadAction, confirm: String) -> Res<WorkloadChange> {
    Ok(c.eks().act(&action, &confirm).await?)
}

#[tauri::command]
pub async fn eks_upgrade_plan(c: State<'_, App>, b: State<'_, OpenedBundle>, to: Option<String>) -> Res<UpgradePlan> {
    Ok(c.eks().upgrade_plan(opened(&b).as_deref(), to.as_deref()).await?)
}

/// Starts the upgrade runbook and approves it with `confirm`; goes on as the task "runbook".
#[tauri::command]
pub async fn eks_upgrade(
    c: State<'_, App>,
    b: State<'_, OpenedBundle>,
    to: String,
    confirm: String,
    on_progress: Channel<WorkProgress>,
) -> Res<RunView> {
    let (app, dir) = (c.inner(), opened(&b));
    Ok(app.tasks().run("runbook", pushed(on_progress), |p| async move { app.eks().upgrade(dir.as_deref(), &to, &confirm, &p).await }).await?)
}
