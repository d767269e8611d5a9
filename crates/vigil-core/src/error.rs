//! The core's error type. Every variant says what went wrong and, where there is one, what to do.

use vigil_dto::ErrorInfo;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },

    #[error("no environment named '{0}'")]
    EnvironmentNotFound(String),

    #[error("an environment named '{0}' already exists")]
    EnvironmentExists(String),

    #[error("no environment is selected")]
    NoCurrentEnvironment,

    #[error("profile '{name}' is not in the AWS config or credentials files")]
    UnknownProfile { name: String, available: Vec<String> },

    #[error("the AWS config files could not be read: {0}")]
    ProfileFile(String),

    #[error("the local store failed: {0}")]
    Store(#[from] sqlx::Error),

    #[error("the local store could not be migrated: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// A classified AWS failure (vigil-aws): its kind is the error's kind.
    #[error("{0}")]
    Aws(#[from] vigil_aws::AwsError),

    #[error("environment '{name}' cannot be read: {detail}")]
    StoredEnvironment { name: String, detail: String },

    #[error("the {kind} stopped on an internal error: {why}")]
    TaskFailed { kind: &'static str, why: String },

    #[error("Vigil is read-only here: {0} is not allowed")]
    ReadOnly(String),

    /// The platform's database: `kind` is db_dns, db_refused, db_timeout, db_tls, db_auth,
    /// db_missing, db_permission, ...
    #[error("{message}")]
    PlatformDb { kind: &'static str, message: String, hint: String },

    /// A refused or failed deploy step: `kind` is confirmation_required, deploy_busy,
    /// plan_stale, stack_not_ready, change_set_failed, …
    #[error("{message}")]
    Deploy { kind: &'static str, message: String, hint: String },

    /// A refused or failed backup or restore: `kind` is confirmation_required, target_exists,
    /// restore_failed, point_not_ready, no_backup_role, …
    #[error("{message}")]
    Backup { kind: &'static str, message: String, hint: String },

    /// A refused or failed DR step: `kind` is runbook_invalid, no_runbook, lease_held,
    /// lease_lost, lease_not_stale, confirmation_required, no_lease_bucket, …
    #[error("{message}")]
    Dr { kind: &'static str, message: String, hint: String },

    /// The platform's EKS cluster cannot be shown or changed: `kind` is not_deployed,
    /// cluster_missing, …
    #[error("{message}")]
    Eks { kind: &'static str, message: String, hint: String },

    /// The platform bundle is not one to deploy (untrusted, tampered, too new…).
    #[error("{0}")]
    Bundle(#[from] pj_bundle::BundleError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<vigil_aws::profiles::ProfileError> for Error {
    fn from(e: vigil_aws::profiles::ProfileError) -> Self {
        match e {
            vigil_aws::profiles::ProfileError::Unknown { name, available } => Error::UnknownProfile { name, available },
            vigil_aws::profiles::ProfileError::File(f) => Error::ProfileFile(f),
        }
    }
}

impl Error {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Error::Validation { field, message: message.into() }
    }

    /// Stable class name used by the ui and by `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::EnvironmentNotFound(_) => "not_found",
            Error::EnvironmentExists(_) => "conflict",
            Error::NoCurrentEnvironment => "no_current_environment",
            Error::UnknownProfile { .. } => "unknown_profile",
            Error::ProfileFile(_) => "profile_file",
            Error::Store(_) | Error::Migrate(_) => "store",
            Error::Io(_) => "io",
            Error::Aws(e) => e.kind.as_str(),
            Error::PlatformDb { kind, .. }
            | Error::Deploy { kind, .. }
            | Error::Backup { kind, .. }
            | Error::Dr { kind, .. }
            | Error::Eks { kind, .. } => kind,
            Error::Bundle(_) => "bundle",
            Error::ReadOnly(_) => "read_only",
            Error::StoredEnvironment { .. } => "store_corrupt",
            Error::TaskFailed { .. } => "task_failed",
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::EnvironmentNotFound(_) => Some("list environments with `vigil env list`".into()),
            Error::NoCurrentEnvironment => Some("choose one on the Environments page or with `vigil env select <name>`".into()),
            Error::UnknownProfile { available, .. } if available.is_empty() => Some(
                "no profiles were found; create one with `aws configure` or `aws configure sso`".into(),
            ),
            Error::UnknownProfile { available, .. } => Some(format!("profiles found: {}", available.join(", "))),
            Error::ProfileFile(_) => Some("fix the file (its line is named above) or point AWS_CONFIG_FILE elsewhere".into()),
            Error::Store(_) | Error::Migrate(_) => Some("see the log file; the store is in the Vigil data directory".into()),
            Error::PlatformDb { hint, .. } | Error::Deploy { hint, .. } | Error::Backup { hint, .. } | Error::Dr { hint, .. } | Error::Eks { hint, .. } => Some(hint.clone()),
            Error::Bundle(pj_bundle::BundleError::UntrustedSigner { .. }) => {
                Some("if you know this publisher, trust its key (`vigil deploy trust`, or Deploy → Publishers); otherwise do not deploy it".into())
            }
            Error::Bundle(_) => Some("nothing was deployed; use the bundle exactly as its publisher signed it".into()),
            Error::Aws(e) => e.hint.clone(),
            Error::StoredEnvironment { name, .. } => Some(format!(
                "it was written by a newer Vigil or changed outside Vigil; nothing is assumed for it. Use that Vigil again, or remove it with `vigil env remove {name}` and add it anew"
            )),
            Error::TaskFailed { .. } => Some("nothing was written; this is a fault in Vigil (the log file has it): try again, and report it if it repeats".into()),
            Error::ReadOnly(_) => Some("this Vigil was started read-only (VIGIL_READ_ONLY=1 or --read-only), as for a compliance officer; changes need a Vigil started without it".into()),
            _ => None,
        }
    }

    pub fn info(&self) -> ErrorInfo {
        ErrorInfo { kind: self.kind().into(), message: self.to_string(), hint: self.hint() }
    }
}

impl From<Error> for ErrorInfo {
    fn from(e: Error) -> Self {
        e.info()
    }
}

/// Runs blocking work (file writes, drawing, keychain calls) on a blocking thread, so no async
/// thread waits on it; a panic there becomes an error, not a crash. It starts when awaited.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Io(std::io::Error::other(format!("blocking work failed: {e}"))))?
}
