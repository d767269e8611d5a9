//! Long-running work as tasks: each has an id, a kind, its progress and a switch to cancel it;
//! several run at once, each in its own entry (a task that ends never touches another's), and a
//! task whose code panics ends with an error instead of taking the app down. While a task runs,
//! its progress is handed to a reporter a few times a second (the desktop shell pushes it to the
//! ui over a channel; the CLI draws a progress line), once more when it ends.
//!
//! Work that must survive a restart (deploys, runbooks) will journal its steps through the store
//! on top of this; verify and exports need not: cancelled or failed, they leave nothing behind.

use crate::error::{Error, Result};
use crate::progress::Progress;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_dto::WorkProgress;

pub type TaskId = u64;

/// How often a running task's progress is reported.
pub const REPORT_EVERY: Duration = Duration::from_millis(250);

#[derive(Clone)]
struct Entry {
    kind: &'static str,
    progress: Arc<Progress>,
}

/// The tasks running in this process.
#[derive(Clone, Default)]
pub struct Tasks {
    running: Arc<Mutex<HashMap<TaskId, Entry>>>,
    next: Arc<AtomicU64>,
}

/// Removes a task's entry when its run ends, however it ends (finished, failed, panicked, or
/// the caller dropped the future).
struct Registered<'a> {
    tasks: &'a Tasks,
    id: TaskId,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.tasks.lock().remove(&self.id);
    }
}

impl Tasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TaskId, Entry>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` as a task of `kind`. `report` gets the task's progress every
    /// [`REPORT_EVERY`] while it runs and once when it ends.
    pub async fn run<T, F, Fut>(&self, kind: &'static str, report: impl Fn(WorkProgress), work: F) -> Result<T>
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let progress = Arc::new(Progress::default());
        self.lock().insert(id, Entry { kind, progress: progress.clone() });
        let _registered = Registered { tasks: self, id };
        let view = |p: &Progress| WorkProgress { task: id, kind: kind.into(), ..p.view() };
        let outcome = AssertUnwindSafe(work(progress.clone())).catch_unwind();
        tokio::pin!(outcome);
        let mut tick = tokio::time::interval(REPORT_EVERY);
        let outcome = loop {
            tokio::select! {
                o = &mut outcome => break o,
                _ = tick.tick() => report(view(&progress)),
            }
        };
        report(view(&progress));
        match outcome {
            Ok(r) => r,
            Err(panic) => {
                let why = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
                tracing::error!(task = id, kind, "the task panicked: {why}");
                Err(Error::TaskFailed { kind, why })
            }
        }
    }

    /// Asks task `id` to stop; false when no such task runs.
    pub fn cancel(&self, id: TaskId) -> bool {
        match self.lock().get(&id) {
            Some(e) => {
                e.progress.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The tasks running now, oldest first.
    pub fn running(&self) -> Vec<WorkProgress> {
        let mut v: Vec<WorkProgress> =
            self.lock().iter().map(|(id, e)| WorkProgress { task: *id, kind: e.kind.into(), ..e.progress.view() }).collect();
        v.sort_by_key(|w| w.task);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Stage;

    #[tokio::test]
    async fn tasks_run_side_by_side_and_each_ends_alone() {
        let tasks = Tasks::default();
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let t = tasks.clone();
        // A long task waits on the gate; a short one runs and ends meanwhile.
        let long = tokio::spawn(async move {
            t.run(
                "verify",
                move |w| seen2.lock().unwrap().push(w),
                move |p: Arc<Progress>| async move {
                    p.start(Stage::Verifying, 10);
                    p.done.store(4, Ordering::Relaxed);
                    let _ = gate_rx.await;
                    Ok(p.cancelled())
                },
            )
            .await
        });
        while tasks.running().is_empty() {
            tokio::task::yield_now().await;
        }
        let short = tasks.run("export", |_| {}, |_| async { Ok(7) }).await.unwrap();
        assert_eq!(short, 7);
        let running = tasks.running();
        assert_eq!(running.len(), 1, "the short task's end left the long one alone: {running:?}");
        assert_eq!((running[0].kind.as_str(), running[0].stage.as_str(), running[0].done, running[0].total), ("verify", "verifying", 4, 10));
        assert!(tasks.cancel(running[0].task));
        assert!(!tasks.cancel(running[0].task + 100));
        gate_tx.send(()).unwrap();
        assert!(long.await.unwrap().unwrap(), "the long task saw its cancel");
        assert!(tasks.running().is_empty());
        let last = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.done, last.total), (4, 10), "the last report is the task's end state");
    }

    #[tokio::test]
    async fn a_panicking_task_is_an_error_and_leaves_the_registry() {
        let tasks = Tasks::default();
        let r: Result<()> = tasks.run("report", |_| {}, |_| async { panic!("broken layout") }).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), "task_failed");
        assert!(e.to_string().contains("broken layout"), "{e}");
        assert!(tasks.running().is_empty());
        // The registry still works.
        assert_eq!(tasks.run("report", |_| {}, |_| async { Ok(1) }).await.unwrap(), 1);
    }
}
