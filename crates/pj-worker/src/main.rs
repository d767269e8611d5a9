//! `pj-worker`: see `pj_worker::app` for the commands.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = pj_worker::config::Cli::parse();
    let is_run = matches!(cli.command, Some(pj_worker::config::Command::Run(_)));
    pj_worker::app::init_logging(cli.common.log_format, is_run);
    match pj_worker::app::main(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "pj-worker failed");
            ExitCode::from(1)
        }
    }
}
