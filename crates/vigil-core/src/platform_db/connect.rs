//! The platform's PostgreSQL (Aurora): settings validation, connection and a check of what
//! the user may read. TLS with certificate verification (`verify-full`) is required unless the
//! database is on this machine (the sandbox, or an SSH tunnel). Authentication: a password from
//! the OS keychain, an RDS IAM token signed with the environment's AWS credentials, or — on
//! this machine only — none (trust). Failures are told apart: DNS, refused, timeout, TLS,
//! authentication, missing database, permission.

use crate::error::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use std::time::Duration;

/// An RDS IAM token is valid for 15 minutes; pooled connections are closed before that.
pub const IAM_CONNECTION_LIFE: Duration = Duration::from_secs(14 * 60);
use vigil_dto::{DbAuth, PlatformDb};

pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Trims and checks the settings; a CA file must exist and be readable.
pub fn validate(db: &PlatformDb) -> Result<PlatformDb> {
    let host = db.host.trim().to_string();
    if host.is_empty() || host.len() > 253 || host.contains(char::is_whitespace) || host.contains('/') {
        return Err(Error::validation("db_host", "give the database host name, e.g. pj-prod.cluster-abc.eu-west-1.rds.amazonaws.com"));
    }
    if db.port == 0 {
        return Err(Error::validation("db_port", "the port must be 1–65535 (PostgreSQL's is 5432)"));
    }
    let ident = |field: &'static str, v: &str, what: &str| -> Result<String> {
        let v = v.trim();
        if v.is_empty() || v.len() > 63 || v.chars().any(char::is_control) {
            return Err(Error::validation(field, format!("give the {what} (at most 63 characters)")));
        }
        Ok(v.to_string())
    };
    let database = ident("db_name", &db.database, "database name")?;
    let user = ident("db_user", &db.user, "database user")?;
    if db.auth == DbAuth::Trust && !is_loopback_host(&host) {
        return Err(Error::validation(
            "db_auth",
            "a database without a password is only accepted on this machine; use a password or IAM authentication",
        ));
    }
    let ca_file = match db.ca_file.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => {
            std::fs::File::open(p).map_err(|e| {
                Error::validation("db_ca_file", format!("{p} cannot be read ({e}); pick the CA bundle file, e.g. the RDS global-bundle.pem"))
            })?;
            Some(p.to_string())
        }
    };
    Ok(PlatformDb { host, port: db.port, database, user, auth: db.auth, ca_file })
}

/// How a connection is secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// TLS required, the certificate verified against `ca_file` (or the OS trust store when
    /// absent) and its name against the host.
    VerifyFull { ca_file: Option<String> },
    /// TLS when the server offers it, unverified: only for a database on this machine.
    Prefer,
}

/// Off this machine always `VerifyFull`; on it, `Prefer` unless a CA file asks for verification.
pub fn tls_for(db: &PlatformDb) -> Tls {
    if is_loopback_host(&db.host) && db.ca_file.is_none() {
        Tls::Prefer
    } else {
        Tls::VerifyFull { ca_file: db.ca_file.clone() }
    }
}

/// Connection options for `db` with `password` (a keychain password or an IAM token).
pub fn options(db: &PlatformDb, password: Option<&str>) -> PgConnectOptions {
    options_with(db, password, &tls_for(db))
}

/// As [`options`], secured as `tls` says.
pub fn options_with(db: &PlatformDb, password: Option<&str>, tls: &Tls) -> PgConnectOptions {
    let mut o =
        PgConnectOptions::new_without_pgpass().host(&db.host).port(db.port).database(&db.database).username(&db.user).application_name("vigil");
    if let Some(p) = password {
        o = o.password(p);
    }
    match tls {
        Tls::Prefer => o.ssl_mode(PgSslMode::Prefer),
        Tls::VerifyFull { ca_file: Some(ca) } => o.ssl_mode(PgSslMode::VerifyFull).ssl_root_cert(ca),
        Tls::VerifyFull { ca_file: None } => {
            let o = o.ssl_mode(PgSslMode::VerifyFull);
            match crate::platform_db::roots::system_pem() {
                Some(pem) => o.ssl_root_cert_from_pem(pem.to_vec()),
                None => o,
            }
        }
    }
}

/// A small pool, after one connection proved the settings: a pool alone would retry until
/// its timeout and hide why (DNS, refused, TLS, authentication) behind "timed out".
pub async fn pool(db: &PlatformDb, password: Option<&str>, timeout: Duration) -> Result<PgPool> {
    pool_with(db, password, timeout, &tls_for(db)).await
}

/// As [`pool`], secured as `tls` says. An IAM pool keeps no connection longer than the token
/// it signed in with lives (15 minutes), so a connection made later uses a fresh token
/// (see [`PgPool::set_connect_options`]).
pub async fn pool_with(db: &PlatformDb, password: Option<&str>, timeout: Duration, tls: &Tls) -> Result<PgPool> {
    use sqlx::Connection;
    if *tls == (Tls::VerifyFull { ca_file: None }) {
        // Reading the OS trust store touches files: once, off the async threads.
        let _ = tokio::task::spawn_blocking(crate::platform_db::roots::system_pem).await;
    }
    let opts = options_with(db, password, tls);
    match tokio::time::timeout(timeout, sqlx::PgConnection::connect_with(&opts)).await {
        Err(_) => return Err(classify(&sqlx::Error::PoolTimedOut, db)),
        Ok(Err(e)) => return Err(classify(&e, db)),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
    }
    let mut pool = PgPoolOptions::new().max_connections(4).acquire_timeout(timeout);
    if db.auth == DbAuth::Iam {
        pool = pool.max_lifetime(IAM_CONNECTION_LIFE);
    }
    Ok(pool.connect_lazy_with(opts))
}

fn failure(kind: &'static str, message: String, hint: String) -> Error {
    Error::PlatformDb { kind, message, hint }
}

/// A connection or query error as what failed and what to do.
pub fn classify(e: &sqlx::Error, db: &PlatformDb) -> Error {
    let at = format!("{}:{}", db.host, db.port);
    match e {
        sqlx::Error::Io(io) => {
            let text = io.to_string();
            if text.contains("lookup") || text.contains("resolve") || text.contains("Name or service not known") || text.contains("nodename") {
                failure(
                    "db_dns",
                    format!("the database host {} was not found ({text})", db.host),
                    "check the host name; a private Aurora endpoint resolves only inside its VPC (VPN, bastion or SSH tunnel)".into(),
                )
            } else if text.contains("certificate") || text.contains("handshake") || text.contains("TLS") {
                tls_failure(&at, &text, db)
            } else if io.kind() == std::io::ErrorKind::ConnectionRefused {
                failure(
                    "db_refused",
                    format!("nothing accepts connections at {at}"),
                    "check the port and that the database is running; a security group may also reject you".into(),
                )
            } else if io.kind() == std::io::ErrorKind::TimedOut {
                failure(
                    "db_timeout",
                    format!("connecting to {at} timed out"),
                    "the host is probably not reachable from here: check the VPN, the security group and the port".into(),
                )
            } else {
                failure("db_network", format!("connecting to {at} failed: {text}"), "check the network path to the database".into())
            }
        }
        sqlx::Error::PoolTimedOut => failure(
            "db_timeout",
            format!("connecting to {at} timed out"),
            "the host is probably not reachable from here: check the VPN, the security group and the port".into(),
        ),
        sqlx::Error::Tls(t) => tls_failure(&at, &t.to_string(), db),
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default().to_string();
            let msg = d.message().to_string();
            match code.as_str() {
                "28P01" | "28000" => failure(
                    "db_auth",
                    format!("{} could not sign in to {}: {msg}", db.user, db.database),
                    match db.auth {
                        DbAuth::Password => "check the user and set the password again (it is kept in the OS keychain)".into(),
                        DbAuth::Iam => {
                            "the user needs the rds_iam role and your AWS identity rds-db:connect on it; check the environment's region".into()
                        }
                        DbAuth::Trust => "this database wants a password: choose password authentication".into(),
                    },
                ),
                "3D000" => failure(
                    "db_missing",
                    format!("there is no database {} at {at}", db.database),
                    "check the database name (the platform's default is patient_journey)".into(),
                ),
                "42501" => failure(
                    "db_permission",
                    format!("{} may not read this: {msg}", db.user),
                    "the compliance role needs pj_auditor (audit tables); job failures need SELECT on jobs".into(),
                ),
                "53300" => failure("db_busy", format!("the database refuses more connections: {msg}"), "try again shortly".into()),
                _ => failure("db_error", format!("the database answered {code}: {msg}"), "see the message; the query is in the log".into()),
            }
        }
        sqlx::Error::Configuration(c) => {
            failure("db_config", format!("the connection settings are not usable: {c}"), "check the CA file and the host".into())
        }
        other => failure("db_error", format!("the database request failed: {other}"), "see the log file".into()),
    }
}

fn tls_failure(at: &str, why: &str, db: &PlatformDb) -> Error {
    let hint = if db.ca_file.is_none() {
        "Vigil verifies the server certificate and its host name; for RDS and Aurora pick the RDS CA bundle (global-bundle.pem) as the CA file"
    } else {
        "the certificate did not verify against the CA file: check it is the right bundle and that the host is the name on the certificate (the cluster endpoint, not an IP)"
    };
    failure("db_tls", format!("the TLS connection to {at} failed: {why}"), hint.into())
}

/// A failure of a query on an open pool (the connection itself succeeded earlier).
pub fn query_error(e: sqlx::Error) -> Error {
    match &e {
        // A new connection of the pool was refused (an IAM token expired, the password changed).
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("28P01" | "28000")) => failure(
            "db_auth",
            format!("the platform database refused the sign-in: {}", d.message()),
            "check the credentials (Audit → Database); an IAM token is made again on the next try".into(),
        ),
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => failure(
            "db_permission",
            format!("the database user may not read this: {}", d.message()),
            "the compliance role needs pj_auditor (audit tables); job failures need SELECT on jobs".into(),
        ),
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => {
            failure("db_timeout", format!("the query was cancelled: {}", d.message()), "narrow the filters (a time range helps most)".into())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
            failure("db_network", format!("the platform database stopped answering: {e}"), "check the connection and try again".into())
        }
        _ => failure("db_error", format!("the platform database query failed: {e}"), "see the log file".into()),
    }
}

pub use vigil_dto::DbCheck;

/// Server version, whether the session is encrypted, and what the user may read.
pub async fn check(pool: &PgPool, db: &PlatformDb) -> Result<DbCheck> {
    let row: (String, bool, String, Option<bool>, Option<bool>) = sqlx::query_as(
        "SELECT current_setting('server_version'), \
                coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), \
                current_user::text, \
                CASE WHEN to_regclass('audit_log') IS NULL THEN NULL ELSE has_table_privilege('audit_log', 'SELECT') END, \
                CASE WHEN to_regclass('jobs') IS NULL THEN NULL ELSE has_table_privilege('jobs', 'SELECT') END",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| classify(&e, db))?;
    if row.3.is_none() && row.4.is_none() {
        return Err(failure(
            "db_not_platform",
            format!("{} at {}:{} has no platform tables (audit_log, jobs)", db.database, db.host, db.port),
            "check the database name; the platform's migrations create these tables (pj-worker migrate)".into(),
        ));
    }
    Ok(DbCheck { server_version: row.0, tls: row.1, user: row.2, can_read_audit: row.3.unwrap_or(false), can_read_jobs: row.4.unwrap_or(false) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(host: &str, auth: DbAuth) -> PlatformDb {
        PlatformDb { host: host.into(), port: 5432, database: "patient_journey".into(), user: "auditor".into(), auth, ca_file: None }
    }

    #[test]
    fn settings_are_checked() {
        assert!(validate(&db(" 127.0.0.1 ", DbAuth::Trust)).is_ok());
        assert!(validate(&db("localhost", DbAuth::Trust)).is_ok());
        let remote_trust = validate(&db("pj.cluster-x.eu-west-1.rds.amazonaws.com", DbAuth::Trust)).unwrap_err();
        assert!(remote_trust.to_string().contains("only accepted on this machine"));
        assert!(validate(&db("", DbAuth::Password)).is_err());
        let mut d = db("h", DbAuth::Password);
        d.port = 0;
        assert!(validate(&d).unwrap_err().to_string().contains("port"));
        d.port = 5432;
        d.ca_file = Some("/no/such/bundle.pem".into());
        assert!(validate(&d).unwrap_err().to_string().contains("cannot be read"));
        d.ca_file = Some("  ".into());
        assert_eq!(validate(&d).unwrap().ca_file, None);
    }

    #[test]
    fn tls_is_verified_except_on_this_machine() {
        assert_eq!(tls_for(&db("pj.example.com", DbAuth::Password)), Tls::VerifyFull { ca_file: None });
        assert_eq!(tls_for(&db("127.0.0.1", DbAuth::Trust)), Tls::Prefer);
        assert_eq!(tls_for(&db("localhost", DbAuth::Trust)), Tls::Prefer);
        // A CA file asks for verification even on this machine (an SSH tunnel, a test server).
        let mut tunnel = db("localhost", DbAuth::Password);
        tunnel.ca_file = Some("/etc/ssl/rds.pem".into());
        assert_eq!(tls_for(&tunnel), Tls::VerifyFull { ca_file: Some("/etc/ssl/rds.pem".into()) });
    }
}
