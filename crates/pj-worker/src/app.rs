//! The commands: `run` (the worker), `migrate`, `verify-audit` and `keygen`; configuration of
//! the database connection, keys, logging, signals and the health server.

use crate::aws::{self, cloudwatch::CloudWatch, s3::S3, sqs::Sqs};
use crate::config::{Cli, Command, Common, Dates, LogFormat, Replace, RunArgs};
use crate::db::Db;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::pipeline::{Context, Layout};
use crate::worker::{LoopSettings, Worker};
use crate::{deid, extract, keys};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::sync::watch;
use tracing::{info, warn};

/// JSON lines (one object per event, with the job's span fields such as `job_id`): on stdout
/// for `run` (the cluster's log agent reads it), on stderr for the other commands, whose stdout
/// is their result.
pub fn init_logging(format: LogFormat, to_stdout: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,sqlx=warn"));
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    let writer = if to_stdout { BoxMakeWriter::new(std::io::stdout) } else { BoxMakeWriter::new(std::io::stderr) };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

pub async fn main(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Some(Command::Keygen { put_secret }) => {
            let (json, public) = keys::generate()?;
            let key_id = pj_audit::key_id(&pj_audit::verifying_key_from_hex(&public)?);
            match put_secret {
                Some(id) => {
                    aws::secrets::put_string(&aws::sdk_config().await, &id, &json).await?;
                    println!("{}", serde_json::json!({"secret": id, "audit_public_key": public, "key_id": key_id}));
                }
                None => {
                    let mut v: serde_json::Value = serde_json::from_str(&json).expect("generated JSON");
                    v["audit_public_key"] = public.into();
                    v["key_id"] = key_id.into();
                    println!("{v}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Migrate) => {
            let db = Db::new(connect_options(&cli.common).await?, 2);
            db.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
            info!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::VerifyAudit { public_keys, json }) => {
            let db = Db::new(connect_options(&cli.common).await?, 2);
            let mut trusted = HashMap::new();
            for k in &public_keys {
                let k = pj_audit::verifying_key_from_hex(k)?;
                trusted.insert(pj_audit::key_id(&k), k);
            }
            let reports = db.verify_audit(&trusted).await.map_err(|e| format!("reading the audit log failed: {e}"))?;
            let broken = reports.iter().any(|r| r.first_break.is_some());
            for r in &reports {
                let b = r.first_break.as_ref();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"stream": r.stream_id, "records": r.records, "checkpoints": r.checkpoints, "last_seq": r.last_seq,
                            "unsigned_tail": r.unsigned_tail, "ok": b.is_none(), "break": b.map(|b| serde_json::json!({"seq": b.seq, "kind": b.kind.as_str(), "detail": b.detail}))})
                    );
                } else if let Some(b) = b {
                    println!("{}: BROKEN at record {}: {} ({})", r.stream_id, b.seq, b.kind.as_str(), b.detail);
                } else {
                    println!(
                        "{}: ok, {} records, {} signed checkpoints, {} records after the last checkpoint",
                        r.stream_id, r.records, r.checkpoints, r.unsigned_tail
                    );
                }
            }
            Ok(if broken { ExitCode::from(5) } else { ExitCode::SUCCESS })
        }
        Some(Command::Run(args)) => run(&cli.common, *args, aws::sdk_config().await).await,
        None => Err("no command: use `pj-worker run` (see --help)".into()),
    }
}

/// The connection from DATABASE_URL and/or the RDS secret; TLS is verified when the secret
/// is used (Aurora), unless the URL says otherwise.
async fn connect_options(common: &Common) -> Result<PgConnectOptions, String> {
    let mut opts = match &common.database_url {
        Some(u) => u.parse::<PgConnectOptions>().map_err(|e| format!("DATABASE_URL is not a PostgreSQL URL ({e})"))?,
        None if common.database_secret_id.is_some() => PgConnectOptions::new_without_pgpass().ssl_mode(PgSslMode::VerifyFull),
        None => return Err("no database: set DATABASE_URL or PJ_DATABASE_SECRET_ID".into()),
    };
    if let Some(id) = &common.database_secret_id {
        let sdk = aws::sdk_config().await;
        let s: serde_json::Value =
            serde_json::from_str(&aws::secrets::get_string(&sdk, id).await?).map_err(|e| format!("secret {id} is not JSON ({e})"))?;
        let get = |k: &str| s.get(k).and_then(|v| v.as_str()).map(str::to_string);
        opts = opts.username(&get("username").ok_or(format!("secret {id} has no username"))?);
        opts = opts.password(&get("password").ok_or(format!("secret {id} has no password"))?);
        if let Some(h) = get("host") {
            opts = opts.host(&h);
        }
        if let Some(p) = s.get("port").and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok())) {
            opts = opts.port(p as u16);
        }
        if let Some(d) = get("dbname") {
            opts = opts.database(&d);
        }
    }
    if let Some(ca) = &common.database_ca_file {
        opts = opts.ssl_root_cert(ca);
    }
    Ok(opts.application_name("pj-worker"))
}

fn worker_id(args: &RunArgs) -> String {
    args.worker_id.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "worker".into());
        format!("{host}-{}", std::process::id())
    })
}

async fn run(common: &Common, args: RunArgs, sdk: aws_config::SdkConfig) -> Result<ExitCode, String> {
    let keys_json = match (&args.keys_secret_id, &args.keys_file) {
        (Some(id), _) => aws::secrets::get_string(&sdk, id).await.map_err(|e| format!("reading the keys from Secrets Manager ({id}) failed: {e}"))?,
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| format!("reading the keys file {} failed: {e}", f.display()))?,
        (None, None) => return Err("no keys: set PJ_KEYS_SECRET_ID (or PJ_KEYS_FILE in the sandbox)".into()),
    };
    let keys = keys::parse(&keys_json)?;
    let db = Db::new(connect_options(common).await?, (args.concurrency.unwrap_or(4) as u32 + 2).max(4));
    let sqs = Sqs::new(&sdk);
    let max_attempts = match sqs.max_receive_count(&args.queue_url).await {
        Ok(Some(n)) => n,
        Ok(None) => {
            warn!(max_attempts = args.max_attempts, "the queue has no dead-letter queue (redrive policy); failed messages stay in it");
            args.max_attempts
        }
        Err(e) => return Err(format!("cannot read the queue {}: {e}", args.queue_url)),
    };
    let id = worker_id(&args);
    let concurrency = args.concurrency.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let ctx = Arc::new(Context {
        s3: S3::new(&sdk, args.s3_path_style),
        db,
        metrics: Arc::new(Metrics::new(&args.environment)),
        layout: Layout {
            input_prefix: args.input_prefix.clone(),
            output_bucket: args.output_bucket.clone(),
            output_prefix: args.output_prefix.clone(),
            quarantine_prefix: args.quarantine_prefix.clone(),
            max_bytes: args.max_file_mib * 1024 * 1024,
        },
        ocr: extract::Ocr { command: args.ocr_command.clone(), language: args.ocr_language.clone(), timeout: args.ocr_timeout },
        deid: deid::Options {
            replace: match args.replace {
                Replace::Tag => deid::ReplaceMode::Tag,
                Replace::Surrogate => deid::ReplaceMode::Surrogate,
            },
            dates: match args.dates {
                Dates::Shift => deid::DateMode::Shift,
                Dates::Year => deid::DateMode::Year,
                Dates::Tag => deid::DateMode::Tag,
            },
            key: keys.deid.clone(),
        },
        worker_id: id.clone(),
        stream_id: id,
        appended: AtomicU64::new(0),
    });
    let health = Arc::new(Health::default());
    health.beat();
    let (stop_tx, stop_rx) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| format!("cannot listen on {} ({e})", args.listen))?;
    info!(listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "health endpoints up");
    let mut server_stop = stop_rx.clone();
    let router = crate::health::router(health.clone());
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = server_stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
            warn!(error = %e, "the health server stopped");
        }
    });
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("stop requested");
        let _ = stop_tx.send(true);
    });
    let worker = Worker {
        ctx,
        sqs,
        cloudwatch: CloudWatch::new(&sdk),
        signing_key: keys.signing,
        health,
        settings: LoopSettings {
            queue_url: args.queue_url.clone(),
            concurrency,
            visibility: args.visibility_timeout,
            receive_wait: args.receive_wait,
            max_attempts,
            retry_base: args.retry_base_delay,
            shutdown_grace: args.shutdown_grace,
            checkpoint_interval: args.checkpoint_interval,
            checkpoint_every: args.checkpoint_every,
            metrics_interval: args.metrics_interval,
            metrics_namespace: args.metrics_namespace.clone(),
        },
    };
    worker.run(stop_rx).await;
    let _ = server.await;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
