//! Vigil's domain core, shared by the desktop shell (`src-tauri`) and the `vigil` CLI.
//! No Tauri or web types: everything here runs and is tested as plain Rust.
//!
//! - [`console::Console`]: the facade both front ends call.
//! - [`environments`], [`oplog`], [`store`]: the local SQLite store and what lives in it.
//! - [`aws`]: SDK configuration per environment, one module per AWS service, profile files.
//! - [`metrics`]: the platform dashboard; [`platform`]: the platform's database (audit log,
//!   job ledger); [`secrets`]: the OS keychain.

pub mod aws;
pub mod console;
pub mod environments;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod oplog;
pub mod paths;
pub mod platform;
mod platform_console;
pub mod secrets;
pub mod store;

pub use console::Console;
pub use error::{Error, Result};
