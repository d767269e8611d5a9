//! Command line and environment: every setting has an environment variable (the Kubernetes
//! ConfigMap sets them) and a flag.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "pj-worker", version, about = "Patient Journey de-identification worker")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consume the queue and process documents (the default).
    Run(Box<RunArgs>),
    /// Apply the platform database migrations and exit.
    Migrate,
    /// Verify every audit stream's chain and signed checkpoints; exit 5 when one is broken.
    VerifyAudit {
        /// Trusted Ed25519 public keys (64 hex digits), as published with the deployment.
        #[arg(long = "public-key", env = "PJ_AUDIT_PUBLIC_KEYS", value_delimiter = ',', required = true)]
        public_keys: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Make new worker keys: stored in Secrets Manager with --put-secret (nothing touches the
    /// disk), else printed as JSON on stdout (the sandbox keeps them in a file).
    Keygen {
        /// The secret to create or update.
        #[arg(long)]
        put_secret: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// PostgreSQL URL; with --database-secret-id, only the options (e.g. sslmode) are taken from it.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Secrets Manager secret with the database credentials (RDS format: username, password, host, port, dbname).
    #[arg(long, env = "PJ_DATABASE_SECRET_ID", global = true)]
    pub database_secret_id: Option<String>,
    /// CA bundle for verifying the database's TLS certificate (e.g. the RDS global bundle).
    #[arg(long, env = "PJ_DATABASE_CA_FILE", global = true)]
    pub database_ca_file: Option<PathBuf>,
    /// Log format on stdout.
    #[arg(long, env = "PJ_LOG_FORMAT", default_value = "json", global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Replace {
    Tag,
    Surrogate,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Dates {
    Shift,
    Year,
    Tag,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The SQS queue that receives one message per uploaded object.
    #[arg(long, env = "PJ_QUEUE_URL")]
    pub queue_url: String,
    /// Secrets Manager secret holding the worker keys (JSON: audit_signing_key, deid_key).
    #[arg(long, env = "PJ_KEYS_SECRET_ID", conflicts_with = "keys_file")]
    pub keys_secret_id: Option<String>,
    /// The same JSON in a file (the sandbox's stand-in for Secrets Manager).
    #[arg(long, env = "PJ_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    #[arg(long, env = "PJ_ENVIRONMENT", default_value = "sandbox")]
    pub environment: String,
    /// This replica's id and audit stream (the pod name on Kubernetes).
    #[arg(long, env = "PJ_WORKER_ID")]
    pub worker_id: Option<String>,
    #[arg(long, env = "PJ_INPUT_PREFIX", default_value = "input/")]
    pub input_prefix: String,
    /// Bucket for output and quarantine (default: the source object's bucket).
    #[arg(long, env = "PJ_OUTPUT_BUCKET")]
    pub output_bucket: Option<String>,
    #[arg(long, env = "PJ_OUTPUT_PREFIX", default_value = "deidentified/")]
    pub output_prefix: String,
    #[arg(long, env = "PJ_QUARANTINE_PREFIX", default_value = "quarantine/")]
    pub quarantine_prefix: String,
    /// Largest source file accepted, in MiB.
    #[arg(long, env = "PJ_MAX_FILE_MIB", default_value_t = 100)]
    pub max_file_mib: u64,
    #[arg(long, env = "PJ_REPLACE", default_value = "surrogate")]
    pub replace: Replace,
    #[arg(long, env = "PJ_DATES", default_value = "shift")]
    pub dates: Dates,
    /// Jobs run at once (default: the number of CPUs).
    #[arg(long, env = "PJ_CONCURRENCY")]
    pub concurrency: Option<usize>,
    #[arg(long, env = "PJ_VISIBILITY_TIMEOUT", default_value = "5m", value_parser = humantime_like)]
    pub visibility_timeout: Duration,
    #[arg(long, env = "PJ_RECEIVE_WAIT", default_value = "20s", value_parser = humantime_like)]
    pub receive_wait: Duration,
    /// Attempt limit when the queue has no redrive policy (otherwise its maxReceiveCount).
    #[arg(long, env = "PJ_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: i32,
    #[arg(long, env = "PJ_RETRY_BASE_DELAY", default_value = "10s", value_parser = humantime_like)]
    pub retry_base_delay: Duration,
    #[arg(long, env = "PJ_SHUTDOWN_GRACE", default_value = "25s", value_parser = humantime_like)]
    pub shutdown_grace: Duration,
    #[arg(long, env = "PJ_CHECKPOINT_INTERVAL", default_value = "1m", value_parser = humantime_like)]
    pub checkpoint_interval: Duration,
    /// Also sign a checkpoint after this many new audit records.
    #[arg(long, env = "PJ_CHECKPOINT_EVERY", default_value_t = 1000)]
    pub checkpoint_every: u64,
    #[arg(long, env = "PJ_METRICS_NAMESPACE", default_value = pj_contract::metrics::NAMESPACE)]
    pub metrics_namespace: String,
    #[arg(long, env = "PJ_METRICS_INTERVAL", default_value = "1m", value_parser = humantime_like)]
    pub metrics_interval: Duration,
    #[arg(long, env = "PJ_OCR_COMMAND", default_value = "tesseract")]
    pub ocr_command: PathBuf,
    #[arg(long, env = "PJ_OCR_LANGUAGE", default_value = "eng")]
    pub ocr_language: String,
    #[arg(long, env = "PJ_OCR_TIMEOUT", default_value = "2m", value_parser = humantime_like)]
    pub ocr_timeout: Duration,
    /// Address for /healthz and /readyz.
    #[arg(long, env = "PJ_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: String,
    /// Path-style S3 addressing (emulators and some VPC endpoints need it).
    #[arg(long, env = "PJ_S3_PATH_STYLE")]
    pub s3_path_style: bool,
}

/// Durations as `250ms`, `20s`, `5m`, `1h` (a bare number is seconds).
pub fn humantime_like(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| format!("`{s}` is not a duration (e.g. 500ms, 20s, 5m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}` (use ms, s, m or h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(humantime_like("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(humantime_like("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(humantime_like("7"), Ok(Duration::from_secs(7)));
        assert!(humantime_like("5 parsecs").is_err());
    }

    /// Every setting the bundle's ConfigMap and tiers set is one the worker reads.
    #[test]
    fn the_bundle_sets_only_settings_the_worker_reads() {
        use clap::CommandFactory;
        let mut known: Vec<String> = vec!["RUST_LOG".into()];
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").expect("run exists").clone();
        for a in cmd.get_arguments().chain(run.get_arguments()) {
            if let Some(e) = a.get_env() {
                known.push(e.to_string_lossy().into_owned());
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/k8s/worker");
        let mut files = vec![root.join("base/configmap.yaml"), root.join("base/deployment.yaml")];
        files.extend(["small", "medium", "large"].map(|t| root.join(format!("tiers/{t}/kustomization.yaml"))));
        let key = regex::Regex::new(r"(?m)^\s*(?:- )?(?:name: )?((?:PJ|DATABASE)_[A-Z_]+|RUST_LOG)\s*[:=]?").unwrap();
        let mut seen = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for c in key.captures_iter(&text) {
                seen += 1;
                assert!(known.contains(&c[1].to_string()), "{} sets {}, which pj-worker does not read", f.display(), &c[1]);
            }
        }
        assert!(seen > 15, "only {seen} settings found: is the pattern still right?");
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
