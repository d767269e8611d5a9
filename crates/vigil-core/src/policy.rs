//! Who may do what: every change the console makes asks [`Policy::require`] first. Today there
//! are two roles (an operator's console and a compliance officer's read-only one); a DR approver
//! who may approve runbook steps fits here as a third.

use crate::error::{Error, Result};

/// The role this console runs as (chosen when it starts: VIGIL_READ_ONLY / --read-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Changes environments, settings and the platform.
    #[default]
    Operator,
    /// Reads, verifies and exports evidence; changes nothing.
    ReadOnly,
}

/// A change the console can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    AddEnvironment,
    EditEnvironment,
    RemoveEnvironment,
    AttachSandbox,
    SetPlatformDb,
    StorePassword,
    ForgetPassword,
    RetryJobs,
    TrustPublisher,
    Deploy,
    Backup,
    Restore,
    RestoreTest,
    UseCluster,
    /// Taking the DR lease to run a runbook, or breaking a stale one.
    RunRunbook,
    BreakLease,
    ChangeWorkload,
}

impl Change {
    /// What it is, as refusals say it.
    pub fn describe(self) -> &'static str {
        match self {
            Change::AddEnvironment => "adding an environment",
            Change::EditEnvironment => "editing an environment",
            Change::RemoveEnvironment => "removing an environment",
            Change::AttachSandbox => "attaching the sandbox",
            Change::SetPlatformDb => "changing the platform database settings",
            Change::StorePassword => "storing a database password",
            Change::ForgetPassword => "removing a database password",
            Change::RetryJobs => "retrying jobs",
            Change::TrustPublisher => "changing the trusted bundle publishers",
            Change::Deploy => "deploying the platform",
            Change::Backup => "starting a backup",
            Change::Restore => "restoring a recovery point",
            Change::RestoreTest => "running a restore test",
            Change::UseCluster => "pointing the platform at another database cluster",
            Change::RunRunbook => "running a DR runbook",
            Change::BreakLease => "breaking another console's DR lease",
            Change::ChangeWorkload => "restarting, rolling back or scaling a platform service",
        }
    }
}

/// A yes/no setting such as `VIGIL_READ_ONLY`: 1, true, yes, on (or 0, false, no, off, empty),
/// in any case; anything else is `None`.
pub fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" => Some(true),
        "" | "0" | "false" | "no" | "off" | "n" => Some(false),
        _ => None,
    }
}

/// The policy of one console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub role: Role,
}

impl Policy {
    /// Whether this role may make `change` (today a role may make all changes or none; rules
    /// per change, such as a DR approval, go here).
    pub fn allows(&self, _change: Change) -> bool {
        match self.role {
            Role::Operator => true,
            Role::ReadOnly => false,
        }
    }

    /// Refuses `change` (with what it was) unless the role allows it.
    pub fn require(&self, change: Change) -> Result<()> {
        if self.allows(change) {
            Ok(())
        } else {
            Err(Error::ReadOnly(change.describe().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_the_cli_reads_them() {
        for v in ["1", "true", "YES", "on"] {
            assert_eq!(parse_flag(v), Some(true), "{v}");
        }
        for v in ["", "0", "false", "No", "off"] {
            assert_eq!(parse_flag(v), Some(false), "{v}");
        }
        assert_eq!(parse_flag("maybe"), None);
    }

    #[test]
    fn a_read_only_role_is_refused_every_change_and_says_which() {
        let all = [
            Change::AddEnvironment,
            Change::EditEnvironment,
            Change::RemoveEnvironment,
            Change::AttachSandbox,
            Change::SetPlatformDb,
            Change::StorePassword,
            Change::ForgetPassword,
            Change::RetryJobs,
            Change::TrustPublisher,
            Change::Deploy,
            Change::Backup,
            Change::Restore,
            Change::RestoreTest,
            Change::UseCluster,
            Change::RunRunbook,
            Change::BreakLease,
            Change::ChangeWorkload,
        ];
        let ro = Policy { role: Role::ReadOnly };
        for c in all {
            assert!(Policy::default().require(c).is_ok());
            let e = ro.require(c).unwrap_err();
            assert_eq!(e.kind(), "read_only");
            assert!(e.to_string().contains(c.describe()), "{e}");
        }
    }
}
