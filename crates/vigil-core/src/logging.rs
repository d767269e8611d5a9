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
    let file = crate::paths::private_dir(log_dir).ok().and_then(|_| {
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

/// Text from outside (the webview) made safe for one log line: control characters (newlines
/// and terminal escapes included) are shown as `\u{..}` escapes, and it is cut at `max` chars.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn webview_text_cannot_forge_log_lines_or_escape_the_terminal() {
        let line = super::one_line("boom\n2026-01-01 INFO forged\u{1b}[31mred\r", 2000);
        assert!(!line.chars().any(char::is_control), "{line}");
        assert_eq!(line, "boom\\u{a}2026-01-01 INFO forged\\u{1b}[31mred\\u{d}");
        assert_eq!(super::one_line(&"x".repeat(5000), 2000).chars().count(), 2001);
    }
}
