//! One module per sidebar page.
pub mod alarms;
pub mod audit;
pub mod backups;
pub mod deploy;
pub mod dr;
pub mod environments;
pub mod jobs;
pub mod metrics;
pub mod services;
pub mod settings;
pub mod timeline;
pub mod upgrade;
pub mod workloads;
