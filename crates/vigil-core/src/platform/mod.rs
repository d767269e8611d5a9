//! The platform's own PostgreSQL database, read by the compliance and operations screens:
//! `connect` (settings, TLS, authentication, classified failures), `audit` (the de-ID audit
//! log: filtered search with keyset pages, record detail, summary) and `verify` (each
//! stream's hash chain and signed checkpoints, streamed, with progress and cancel) and
//! `export` (evidence: the filtered records as CSV, streamed, with their SHA-256), and `jobs`
//! (the job ledger: lists, failures by class, which a retry can help).

pub mod audit;
pub mod connect;
pub mod export;
pub mod jobs;
pub mod verify;
