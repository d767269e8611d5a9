//! The contract between the platform's worker and Vigil, as code both sides compile against
//! (the prose is deploy-bundles/CONTRACT.md). A change here is a change of the contract: the
//! worker writes what these types say and Vigil reads it the same way.

pub mod alarms;
pub mod jobs;
pub mod metrics;
pub mod queue;
