//! Progress of long work (audit verification, exports, reports, restores), shared with whoever shows it:
//! the stage, the records done of the total, and the switch to stop.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

/// Long work on the audit log (verify, export, report), shared with whoever shows its
/// progress: the stage, records done of the total, and the switch to stop.
#[derive(Debug, Default)]
pub struct Progress {
    stage: AtomicU8,
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub cancel: AtomicBool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Verifying = 0,
    Exporting = 1,
    Summarising = 2,
    /// A restore job (AWS Backup) running.
    Restoring = 3,
    /// A restored cluster's instances being made.
    Instances = 4,
    /// A restored resource checked against its source.
    Checking = 5,
    /// A restored database read (schema, rows).
    Validating = 6,
    /// A restore test's resources deleted.
    Cleaning = 7,
    /// The worker restarted and rolled out.
    Worker = 8,
    /// A DR runbook's steps (done of total).
    Runbook = 9,
    /// Logs or events followed as they come (done: how many so far).
    Following = 10,
}

impl Progress {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Moves to `stage` with `total` records to go.
    pub fn start(&self, stage: Stage, total: u64) {
        self.stage.store(stage as u8, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// What the work is doing now, for a progress line.
    pub fn view(&self) -> vigil_dto::WorkProgress {
        let stage = match self.stage.load(Ordering::Relaxed) {
            0 => "verifying",
            1 => "exporting",
            2 => "summarising",
            3 => "restoring",
            4 => "instances",
            5 => "checking",
            6 => "validating",
            7 => "cleaning",
            8 => "worker",
            9 => "runbook",
            _ => "following",
        };
        vigil_dto::WorkProgress {
            task: 0,
            kind: String::new(),
            stage: stage.into(),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}
