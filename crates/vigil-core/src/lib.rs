//! Vigil's domain core, shared by the desktop shell (`src-tauri`) and the `vigil` CLI.
//! No Tauri or web types: everything here runs and is tested as plain Rust.
//!
//! [`App`] is what a front end opens: a thin router to the areas, each owning its validation,
//! errors, operator-log actions and tests —
//!
//! | area | module | what |
//! | --- | --- | --- |
//! | `app.environments()` | [`environments`] | AWS accounts + regions, Check connection, profiles |
//! | `app.metrics()` | [`metrics`] | the platform's CloudWatch dashboard, chart exports |
//! | `app.alarms()` | [`alarms`] | the platform's alarms and their history |
//! | `app.platform_db()` | [`platform_db`] | where the platform's PostgreSQL is, its password, pools |
//! | `app.audit()` | [`audit`] | the de-ID audit log: search, verify, evidence exports |
//! | `app.jobs()` | [`jobs`] | the job ledger: failures by class, log lines, retries |
//! | `app.oplog()` | [`oplog`] | the operator log (a hash chain) |
//! | `app.settings()` | [`settings`] | the theme |
//! | `app.deploy()` | [`deploy`] | the platform bundle: publishers, preflight, tier and cost, plan, apply, status |
//! | `app.backups()` | [`backup`] | AWS Backup: each component's coverage against the RPO, vaults, plans, jobs, recovery points |
//! | `app.dr()` | [`dr`] | the bundle's DR runbooks; the environment's DR lease |
//!
//! Shared by all: [`core`] (the store, AWS contexts, keychain, policy; committing a change with
//! its operator-log record), [`policy`] (who may change what), [`store`], [`secrets`],
//! [`progress`] and [`tasks`] (long work: progress, cancel, several at once), [`paths`], [`logging`], [`error`]. AWS is reached only through [`aws`] (the
//! `vigil-aws` crate).

pub mod alarms;
pub mod app;
pub mod audit;
pub mod backup;
pub mod core;
pub mod deploy;
pub mod dr;
pub mod eks;
pub mod environments;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod oplog;
pub mod paths;
pub mod platform_db;
pub mod policy;
pub mod progress;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod tasks;
#[cfg(test)]
mod testing;
pub mod timeline;

pub use app::App;
pub use error::{Error, Result};
pub use vigil_aws as aws;
