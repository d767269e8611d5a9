//! tracing set-up: daily rolling files in the log directory plus stderr, filtered by RUST_LOG.

use std::io::IsTerminal;
use std::path::Path;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// Keeps the background file writer alive; drop it last so buffered lines are flushed.
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Starts logging for a binary. `file_prefix` names the files (`vigil-app.2026-11-23`).
/// `default_filter` applies when RUST_LOG is unset. Files keep 14 days.
pub fn init(log_dir: &Path, file_prefix: &str, default_filter: &str, stderr: bool) -> Option<LogGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let file = std::fs::create_dir_all(log_dir).ok().and_then(|_| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(file_prefix)
            .filename_suffix("log")
            .max_log_files(14)
            .build(log_dir)
            .ok()
    });
    let (file_layer, guard) = match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(fmt::layer().with_ansi(false).with_writer(writer)), Some(LogGuard(guard)))
        }
        None => (None, None),
    };
    let stderr_layer = stderr.then(|| fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr));
    let _ = tracing_subscriber::registry().with(filter).with(file_layer).with(stderr_layer).try_init();
    guard
}
