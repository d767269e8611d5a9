//! `vigil db …` (where the platform's database is, its password, the check) and
//! `vigil audit …` (search, show, summary, export as CSV or PDF, verify) over the same
//! `App` methods as the app.

use crate::{confirm, print_json, usage, Failure};
use clap::{Args, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::sync::Arc;
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_dto::units::counted;
use vigil_dto::{AuditCursor, AuditFilter, DbAuth, PlatformDb};

#[derive(Subcommand)]
pub enum DbCommand {
    /// Set where an environment's platform database is (the current environment by default).
    Set {
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 5432)]
        port: u16,
        #[arg(long, default_value = "patient_journey")]
        database: String,
        #[arg(long)]
        user: String,
        /// password (kept in the OS keychain), iam (RDS IAM token), trust (this machine only).
        #[arg(long, value_enum, default_value = "password")]
        auth: AuthArg,
        /// CA bundle to verify the server with (e.g. the RDS global-bundle.pem).
        #[arg(long)]
        ca_file: Option<String>,
    },
    /// Remove the database settings of an environment (asks first; --yes on scripts).
    Unset {
        #[arg(long)]
        env: Option<String>,
        #[arg(long, short)]
        yes: bool,
    },
    /// Store the database password in the OS keychain (asked without echo, or read from stdin).
    Password {
        #[arg(long)]
        env: Option<String>,
    },
    /// Remove the stored password from the OS keychain (asks first; --yes on scripts).
    ForgetPassword {
        #[arg(long)]
        env: Option<String>,
        #[arg(long, short)]
        yes: bool,
    },
    /// Connect and show the server, TLS, and what the user may read. Exit 4 when it fails.
    Check,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Pdf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AuthArg {
    Password,
    Iam,
    Trust,
}

#[derive(Args, Default)]
pub struct FilterArgs {
    /// RFC 3339, records at or after.
    #[arg(long)]
    from: Option<String>,
    /// RFC 3339, records before.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    actor: Option<String>,
    /// deidentify, view, export or reidentify_request.
    #[arg(long)]
    action: Option<String>,
    #[arg(long = "document")]
    document_id: Option<String>,
    #[arg(long = "job")]
    job_id: Option<String>,
    /// A PHI category (name, date, ssn, …).
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    stream: Option<String>,
}

impl FilterArgs {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            from: self.from.clone(),
            to: self.to.clone(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            document_id: self.document_id.clone(),
            job_id: self.job_id.clone(),
            category: self.category.clone(),
            stream: self.stream.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Records newest first, filtered; prints the --after value of the next page.
    Search {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after this position (`AT,STREAM,SEQ`, as the previous page printed).
        #[arg(long)]
        after: Option<String>,
    },
    /// One record whole: spans, hashes, chain links.
    Show { stream: String, seq: i64 },
    /// Totals per category and action for the filtered set.
    Summary {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Write the filtered records as evidence, with the file's SHA-256 printed and in the
    /// operator log. CSV: every column, chain fields included, oldest first. PDF: a report
    /// (filters, totals, chart, a fresh chain verification, the SHA-256 of the records' CSV,
    /// when and by whom); exit 5 when the chains are broken.
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormatArg,
        /// The file to write (replaced only once the export is complete).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Verify every stream's hash chain and signed checkpoints. Exit 5 when broken.
    Verify {
        /// Only records from this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
    },
}

async fn env_name(console: &App, env: Option<String>) -> Result<String, Failure> {
    match env {
        Some(e) => Ok(e),
        None => Ok(console.environments().current().await?.ok_or(vigil_core::Error::NoCurrentEnvironment)?.name),
    }
}

pub async fn db(console: &App, cmd: DbCommand, json: bool) -> Result<u8, Failure> {
    match cmd {
        DbCommand::Set { env, host, port, database, user, auth, ca_file } => {
            let name = env_name(console, env).await?;
            let auth = match auth {
                AuthArg::Password => DbAuth::Password,
                AuthArg::Iam => DbAuth::Iam,
                AuthArg::Trust => DbAuth::Trust,
            };
            let e = console.platform_db().set(&name, Some(PlatformDb { host, port, database, user, auth, ca_file })).await?;
            if json {
                print_json(&e);
            } else {
                println!("platform database of {} set", e.name);
                if auth == DbAuth::Password {
                    println!("store its password with `vigil db password --env {}`", e.name);
                }
            }
            Ok(0)
        }
        DbCommand::Unset { env, yes } => {
            let name = env_name(console, env).await?;
            if !yes && !confirm(&format!("Remove the platform database settings of {name}?"))? {
                return Ok(0);
            }
            console.platform_db().set(&name, None).await?;
            println!("platform database of {name} removed");
            Ok(0)
        }
        DbCommand::Password { env } => {
            let name = env_name(console, env).await?;
            let password = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("Password for {name}'s platform database: "))
                    .map_err(|e| usage(&format!("the password could not be read: {e}"), "type it at the prompt, or pipe it on stdin"))?
            } else {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map_err(|e| usage(&format!("stdin could not be read: {e}"), "pipe the password on stdin"))?;
                line.trim_end_matches(['\r', '\n']).to_string()
            };
            console.platform_db().set_password(&name, &password).await?;
            println!("password stored in the OS keychain");
            Ok(0)
        }
        DbCommand::ForgetPassword { env, yes } => {
            let name = env_name(console, env).await?;
            if !yes && !confirm(&format!("Remove {name}'s database password from the OS keychain?"))? {
                return Ok(0);
            }
            console.platform_db().forget_password(&name).await?;
            println!("password removed from the OS keychain");
            Ok(0)
        }
        DbCommand::Check => match console.platform_db().check().await {
            Ok(c) => {
                if json {
                    print_json(&c);
                } else {
                    println!("connected as {} to PostgreSQL {} ({})", c.user, c.server_version, if c.tls { "TLS" } else { "no TLS: this machine" });
                    println!("audit log: {}", if c.can_read_audit { "readable" } else { "not readable (needs pj_auditor)" });
                    println!("job ledger: {}", if c.can_read_jobs { "readable" } else { "not readable" });
                }
                Ok(0)
            }
            Err(e) if e.kind().starts_with("db_") => Err(Failure { code: 4, info: e.info() }),
            Err(e) => Err(e.into()),
        },
    }
}

fn parse_cursor(s: &str) -> Result<AuditCursor, Failure> {
    let mut parts = s.rsplitn(3, ',');
    let (seq, stream, at) = (parts.next(), parts.next(), parts.next());
    match (at, stream, seq.and_then(|x| x.parse().ok())) {
        (Some(at), Some(stream), Some(seq)) => Ok(AuditCursor { at: at.into(), stream_id: stream.into(), seq }),
        _ => Err(usage(&format!("`{s}` is not a page position"), "pass --after exactly as the previous page printed it (AT,STREAM,SEQ)")),
    }
}

pub async fn audit(console: &App, cmd: AuditCommand, json: bool) -> Result<u8, Failure> {
    match cmd {
        AuditCommand::Search { filter, limit, after } => {
            let cursor = after.as_deref().map(parse_cursor).transpose()?;
            let page = console.audit().search(&filter.filter(), cursor.as_ref(), limit).await?;
            if json {
                print_json(&page);
                return Ok(0);
            }
            for r in &page.rows {
                let cats: Vec<String> = r.category_counts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                println!("{}  {}#{:<8} {:<24} {:<11} {}", r.at, r.stream_id, r.seq, r.actor, r.action, cats.join(" "));
            }
            match &page.next {
                Some(n) => println!("more: --after {},{},{}", n.at, n.stream_id, n.seq),
                None if page.rows.is_empty() => println!("no records match"),
                None => {}
            }
            Ok(0)
        }
        AuditCommand::Show { stream, seq } => {
            let d = console.audit().record(&stream, seq).await?;
            if json {
                print_json(&d);
            } else {
                let r = &d.row;
                println!("{}#{}  {}  {} by {}", r.stream_id, r.seq, r.at, r.action, r.actor);
                println!("document {}  job {}", r.document_id.as_deref().unwrap_or("-"), r.job_id.as_deref().unwrap_or("-"));
                println!("counts   {}", r.category_counts.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(" "));
                println!("spans    {}", d.spans.iter().map(|s| format!("{}..{} {}", s.0, s.1, s.2)).collect::<Vec<_>>().join(", "));
                println!("input    {}", d.input_sha256.as_deref().unwrap_or("-"));
                println!("output   {}", d.output_sha256.as_deref().unwrap_or("-"));
                println!("prev     {}  link {}", d.prev_hash, link(d.prev_link_ok));
                println!("hash     {}  {}", d.hash, if d.hash_ok { "matches the content" } else { "DOES NOT match the content" });
                println!("next     link {}", link(d.next_link_ok));
            }
            Ok(if d.hash_ok && d.prev_link_ok != Some(false) && d.next_link_ok != Some(false) { 0 } else { 5 })
        }
        AuditCommand::Summary { filter } => {
            let s = console.audit().summary(&filter.filter()).await?;
            if json {
                print_json(&s);
            } else {
                println!("{} records", s.records);
                for (k, v) in &s.by_action {
                    println!("  action {k:<20} {v}");
                }
                for (k, v) in &s.by_category {
                    println!("  phi    {k:<20} {v}");
                }
            }
            Ok(0)
        }
        AuditCommand::Export { filter, format: ExportFormatArg::Csv, out } => {
            let progress = Arc::new(Progress::default());
            let ticker = show_progress(&progress);
            let w = console.audit().export_csv(&filter.filter(), &out, &progress).await;
            stop(ticker);
            let w = w?;
            if json {
                print_json(&w);
            } else {
                println!("{} records written to {} ({} bytes)\nSHA-256 {}", w.rows, out.display(), w.bytes, w.sha256);
            }
            Ok(0)
        }
        AuditCommand::Export { filter, format: ExportFormatArg::Pdf, out } => {
            let progress = Arc::new(Progress::default());
            let ticker = show_progress(&progress);
            let r = console.audit().export_pdf(&filter.filter(), &out, progress).await;
            stop(ticker);
            let r = r?;
            if json {
                print_json(&r);
            } else {
                println!("report on {} records written to {} ({} pages, {} bytes)", r.records, out.display(), r.pages, r.bytes);
                println!("verification  {}", r.verification.replace('_', " "));
                println!("records up to {}", r.to);
                println!("data SHA-256  {} (the CSV of the same records)", r.data_sha256);
                println!("PDF SHA-256   {}", r.sha256);
            }
            Ok(if r.verification == "broken" { 5 } else { 0 })
        }
        AuditCommand::Verify { since } => {
            let progress = Arc::new(Progress::default());
            let ticker = show_progress(&progress);
            let result = console.audit().verify(since.as_deref(), progress).await;
            stop(ticker);
            let v = result?;
            if json {
                print_json(&v);
            } else {
                for s in &v.streams {
                    match &s.first_break {
                        None => println!(
                            "OK      {}: {} records #{}..#{}, {} checkpoints, {} after the last one",
                            s.stream_id, s.records, s.first_seq, s.last_seq, s.checkpoints, s.unsigned_tail
                        ),
                        Some(b) => println!("BROKEN  {}: at #{} ({}): {}", s.stream_id, b.seq, b.kind, b.detail),
                    }
                }
                println!(
                    "{}: {} in {}",
                    if v.ok { "intact" } else { "NOT intact" },
                    counted(v.records, "record"),
                    counted(v.streams.len() as u64, "stream")
                );
            }
            Ok(if v.ok { 0 } else { 5 })
        }
    }
}

/// On a terminal, a line on stderr that says how far long work has come.
fn show_progress(progress: &Arc<Progress>) -> Option<tokio::task::JoinHandle<()>> {
    std::io::stderr().is_terminal().then(|| {
        let p = progress.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                every.tick().await;
                let v = p.view();
                match v.total {
                    0 => eprint!("\r{} {} records   ", v.stage, v.done),
                    t => eprint!("\r{} {} of {t} records   ", v.stage, v.done),
                }
            }
        })
    })
}

fn stop(ticker: Option<tokio::task::JoinHandle<()>>) {
    if let Some(t) = ticker {
        t.abort();
        eprintln!();
    }
}

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Jobs of the ledger, newest first; with --failed, the failures grouped by error class.
    List {
        /// Only failed jobs, grouped by error class with counts and the latest example.
        #[arg(long, conflicts_with = "status")]
        failed: bool,
        /// queued, running, succeeded or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long = "class")]
        error_class: Option<String>,
        /// RFC 3339: jobs created at or after.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One job: its timeline, attempts, error, and its lines from the platform's log group.
    Show { id: String },
    /// Re-queue one failed job, or every failed job of one error class (asks first; --yes on
    /// scripts). Failures a retry cannot help are refused with the reason.
    Retry {
        #[arg(required_unless_present = "class", conflicts_with = "class")]
        id: Option<String>,
        #[arg(long)]
        class: Option<String>,
        #[arg(long, short)]
        yes: bool,
    },
}

pub async fn jobs(console: &App, cmd: JobsCommand, json: bool) -> Result<u8, Failure> {
    match cmd {
        JobsCommand::List { failed, status, kind, error_class, from, to, limit } => {
            let filter = vigil_dto::JobFilter { status: if failed { Some("failed".into()) } else { status }, kind, error_class, from, to };
            if failed {
                let groups = console.jobs().failures(&filter).await?;
                if json {
                    print_json(&groups);
                } else if groups.is_empty() {
                    println!("no failed jobs");
                } else {
                    for g in &groups {
                        println!(
                            "{:<18} {:>6}  {}{}",
                            g.error_class,
                            g.count,
                            g.meaning,
                            if g.permanent { "" } else { "  [retry: vigil jobs retry --class …]" }
                        );
                        println!("{:<18} latest {} {} {}", "", g.latest.finished_at.as_deref().unwrap_or("-"), g.latest.id, g.latest.source_uri);
                    }
                }
                return Ok(0);
            }
            let page = console.jobs().list(&filter, None, limit).await?;
            if json {
                print_json(&page);
            } else {
                for j in &page.rows {
                    println!(
                        "{}  {}  {:<9} {}/{}  {}  {}",
                        j.created_at,
                        j.id,
                        j.status,
                        j.attempts,
                        j.max_attempts,
                        j.error_class.as_deref().unwrap_or("-"),
                        j.source_uri
                    );
                }
            }
            Ok(0)
        }
        JobsCommand::Show { id } => {
            let d = console.jobs().detail(&id).await?;
            if json {
                print_json(&d);
                return Ok(0);
            }
            let j = &d.job;
            println!("job {}  {}  {}", j.id, j.kind, j.source_uri);
            println!("status {}  attempts {}/{}  worker {}", j.status, j.attempts, j.max_attempts, j.worker_id.as_deref().unwrap_or("-"));
            println!(
                "created {}  started {}  finished {}  ({} ms)",
                j.created_at,
                j.started_at.as_deref().unwrap_or("-"),
                j.finished_at.as_deref().unwrap_or("-"),
                j.duration_ms.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
            );
            if let Some(c) = &j.error_class {
                println!("error {c}{}: {}", if j.permanent { " (permanent)" } else { "" }, j.error_message.as_deref().unwrap_or(""));
                println!("      {}", vigil_core::jobs::ledger::meaning(c));
            }
            match &d.logs_error {
                Some(e) => println!("logs: {e}"),
                None => {
                    for l in &d.logs {
                        println!("{} {} {}", l.at, l.stream, l.message);
                    }
                }
            }
            Ok(0)
        }
        JobsCommand::Retry { id, class, yes } => {
            let what = match (&id, &class) {
                (Some(i), _) => format!("job {i}"),
                (None, Some(c)) => format!("every failed job of class {c} that a retry can help"),
                _ => unreachable!("clap requires one"),
            };
            if !yes && !confirm(&format!("Re-queue {what} through the platform's work queue?"))? {
                println!("nothing re-queued");
                return Ok(0);
            }
            let r = console.jobs().retry(id.as_deref(), class.as_deref()).await?;
            if json {
                print_json(&r);
            } else {
                for (job, msg) in &r.requeued {
                    println!("re-queued {job} (message {msg})");
                }
                for (job, why) in &r.skipped {
                    println!("skipped   {job}: {why}");
                }
            }
            Ok(0)
        }
    }
}

fn link(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "holds",
        Some(false) => "BROKEN",
        None => "-",
    }
}
