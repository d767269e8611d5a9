//! `pj-worker`: see `pj_worker::app` for the commands.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = pj_worker::config::Cli::parse();
    pj_worker::app::init_logging(cli.common.log_format);
    match pj_worker::app::main(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "pj-worker failed");
            ExitCode::from(1)
        }
    }
}
