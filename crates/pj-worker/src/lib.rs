//! The Patient Journey platform's headless worker, as a library so its parts can be tested
//! and benchmarked: text extraction, de-identification, the platform database (job ledger,
//! documents, audit log), the AWS clients, metrics, health endpoints and the processing loop.

pub mod app;
pub mod aws;
pub mod config;
pub mod db;
/// De-identification lives in its own crate (pj-deid): no AWS or database in its build.
pub use pj_deid as deid;
pub mod extract;
pub mod health;
/// The worker's keys live with the audit signing they serve (pj-audit).
pub use pj_audit::keys;
pub mod metrics;
pub mod pipeline;
pub mod worker;
