//! The platform's own PostgreSQL database, read by the compliance and operations screens:
//! `connect` (settings, TLS, authentication, classified failures), `audit` (the de-ID audit
//! log: filtered search with keyset pages, record detail, summary) and `verify` (each
//! stream's hash chain and signed checkpoints, streamed, with progress and cancel) and
//! `export` (evidence: the filtered records as CSV, streamed, with their SHA-256).

pub mod audit;
pub mod connect;
pub mod export;
pub mod verify;
