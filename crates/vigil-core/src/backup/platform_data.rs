//! What a platform database holds, read over a connection to an Aurora cluster as the worker's
//! own login (its secret read into memory only): the schema's migrations, the job ledger's and
//! the audit log's rows. A restore test validates the restored cluster with it, and pointing the
//! platform at a cluster checks it first; both compare with the cluster the platform uses now.

use crate::deploy::setup::{database_secret, unreachable_hint};
use crate::error::{Error, Result};
use crate::platform_db::connect;
use serde_json::Value;
use std::time::Duration;
use vigil_aws::rds::ClusterInfo;
use vigil_aws::secretsmanager::SecretsManager;
use vigil_dto::backup::RestoreCheck;
use vigil_dto::{DbAuth, PlatformDb};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The worker's login and the secret's other fields.
pub struct WorkerSecret {
    pub name: String,
    pub value: Value,
}

impl WorkerSecret {
    pub async fn read(sm: &SecretsManager, platform: &str) -> Result<WorkerSecret> {
        let name = database_secret(platform);
        let value = sm.value(&name).await?.and_then(|s| serde_json::from_str::<Value>(&s).ok()).ok_or_else(|| Error::Backup {
            kind: "no_worker_secret",
            message: format!("the worker's database secret {name} is missing or not RDS's format"),
            hint: "resume the platform's deploy (Deploy page): its database step makes the secret".into(),
        })?;
        Ok(WorkerSecret { name, value })
    }

    fn user(&self) -> &str {
        self.value["username"].as_str().unwrap_or_default()
    }

    fn password(&self) -> &str {
        self.value["password"].as_str().unwrap_or_default()
    }

    /// The secret pointed at `cluster` (its endpoint, port, database); the login unchanged.
    pub fn pointed_at(&self, cluster: &ClusterInfo) -> String {
        let mut v = self.value.clone();
        v["host"] = Value::from(cluster.endpoint.clone());
        v["port"] = Value::from(cluster.port);
        v["dbname"] = Value::from(database_of(cluster));
        v["dbClusterIdentifier"] = Value::from(cluster.id.clone());
        v.to_string()
    }

    /// The cluster the secret names now.
    pub fn cluster(&self) -> Option<&str> {
        self.value["dbClusterIdentifier"].as_str()
    }
}

pub fn database_of(cluster: &ClusterInfo) -> String {
    cluster.database.clone().unwrap_or_else(|| "postgres".into())
}

/// What the platform's tables hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contents {
    /// The newest migration applied, and how many failed.
    pub schema_version: Option<i64>,
    pub migrations: i64,
    pub failed_migrations: i64,
    pub jobs: i64,
    pub audit_records: i64,
}

/// The connection settings for `cluster` as the worker signs in (TLS verified off this machine,
/// with the console's CA file when it has one).
pub fn settings(cluster: &ClusterInfo, secret: &WorkerSecret, ca_file: Option<String>) -> PlatformDb {
    PlatformDb {
        host: cluster.endpoint.clone(),
        port: cluster.port,
        database: database_of(cluster),
        user: secret.user().to_string(),
        auth: DbAuth::Password,
        ca_file,
    }
}

/// Reads what `cluster`'s platform database holds.
pub async fn read(cluster: &ClusterInfo, secret: &WorkerSecret, ca_file: Option<String>) -> Result<Contents> {
    use sqlx::{ConnectOptions, Connection};
    let db = settings(cluster, secret, ca_file);
    let options = connect::options(&db, Some(secret.password())).disable_statement_logging();
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&options)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(unreachable_hint(connect::classify(&e, &db))),
        Err(_) => return Err(unreachable_hint(connect::classify(&sqlx::Error::PoolTimedOut, &db))),
    };
    let row: (Option<i64>, i64, i64) = sqlx::query_as(
        "SELECT max(version) FILTER (WHERE success), count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success) FROM _sqlx_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| not_platform(e, &db))?;
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&mut conn).await.map_err(|e| not_platform(e, &db))?;
    let audit_records: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&mut conn).await.map_err(|e| not_platform(e, &db))?;
    let _ = conn.close().await;
    Ok(Contents { schema_version: row.0, migrations: row.1, failed_migrations: row.2, jobs, audit_records })
}

/// Whether the database the worker's secret names takes writes, signed in as the worker: Err
/// with the database's answer when it refuses (a reader, a read-only replica).
pub async fn writable(secret: &WorkerSecret, ca_file: Option<String>) -> Result<std::result::Result<(), String>> {
    use sqlx::{ConnectOptions, Connection};
    let db = PlatformDb {
        host: secret.value["host"].as_str().unwrap_or_default().to_string(),
        port: secret.value["port"].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(5432),
        database: secret.value["dbname"].as_str().unwrap_or("postgres").to_string(),
        user: secret.user().to_string(),
        auth: DbAuth::Password,
        ca_file,
    };
    let options = connect::options(&db, Some(secret.password())).disable_statement_logging();
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&options)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(unreachable_hint(connect::classify(&e, &db))),
        Err(_) => return Err(unreachable_hint(connect::classify(&sqlx::Error::PoolTimedOut, &db))),
    };
    let mut tx = conn.begin().await.map_err(connect::query_error)?;
    // txid_current() needs a writable primary: a reader refuses it.
    let r: std::result::Result<i64, sqlx::Error> =
        sqlx::query_scalar("SELECT txid_current()::bigint + (SELECT count(*) FROM jobs WHERE false)").fetch_one(&mut *tx).await;
    let _ = tx.rollback().await;
    let _ = conn.close().await;
    Ok(r.map(|_| ()).map_err(|e| format!("{e} (at {}:{}/{})", db.host, db.port, db.database)))
}

fn not_platform(e: sqlx::Error, db: &PlatformDb) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => Error::Backup {
            kind: "not_platform",
            message: format!("{} at {} has no platform tables ({})", db.database, db.host, d.message()),
            hint: "the recovery point is of another database, or one taken before the platform's migrations ran".into(),
        },
        _ => connect::query_error(e),
    }
}

/// The restored data against the data the platform has now (`source`, or why it could not be read).
pub fn checks(restored: &Contents, source: &std::result::Result<Contents, String>) -> Vec<RestoreCheck> {
    let version = |c: &Contents| match c.schema_version {
        Some(v) => format!(
            "{v} ({} migrations{})",
            c.migrations,
            if c.failed_migrations > 0 { format!(", {} failed", c.failed_migrations) } else { String::new() }
        ),
        None => "no migrations".into(),
    };
    let unread = |why: &String| format!("not read: {why}");
    let rows = |name: &str, r: i64, s: Option<i64>| RestoreCheck {
        name: name.into(),
        source: s.map(|n| format!("{n} rows now")).unwrap_or_else(|| source.as_ref().err().map(unread).unwrap_or_default()),
        restored: format!("{r} rows"),
        // Nothing restored is wrong only where there is something now.
        matches: r > 0 || s == Some(0),
    };
    let ok = restored.schema_version.is_some() && restored.failed_migrations == 0;
    let s = source.as_ref().ok();
    vec![
        RestoreCheck {
            name: "schema_version".into(),
            source: s.map(version).unwrap_or_else(|| source.as_ref().err().map(unread).unwrap_or_default()),
            restored: version(restored),
            matches: ok && s.is_none_or(|s| s.schema_version == restored.schema_version),
        },
        rows("job_ledger", restored.jobs, s.map(|c| c.jobs)),
        rows("audit_log", restored.audit_records, s.map(|c| c.audit_records)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(version: i64, jobs: i64, audit: i64) -> Contents {
        Contents { schema_version: Some(version), migrations: 3, failed_migrations: 0, jobs, audit_records: audit }
    }

    #[test]
    fn restored_data_is_judged_against_the_running_databases() {
        let all = |c: &[RestoreCheck]| c.iter().all(|c| c.matches);
        assert!(all(&checks(&contents(3, 10, 40), &Ok(contents(3, 12, 50)))));
        // An older schema, empty tables where the running one has rows, a failed migration.
        let c = checks(&contents(2, 0, 40), &Ok(contents(3, 12, 50)));
        assert_eq!(c.iter().filter(|c| !c.matches).map(|c| c.name.as_str()).collect::<Vec<_>>(), ["schema_version", "job_ledger"]);
        assert!(all(&checks(&contents(3, 0, 0), &Ok(contents(3, 0, 0)))));
        let failed = Contents { failed_migrations: 1, ..contents(3, 1, 1) };
        assert!(!checks(&failed, &Ok(contents(3, 1, 1)))[0].matches);
        assert!(checks(&failed, &Ok(contents(3, 1, 1)))[0].restored.contains("1 failed"));
        // The running database unread: the restored one is judged alone, and it says so.
        let c = checks(&contents(3, 5, 5), &Err("refused".into()));
        assert!(all(&c) && c[0].source == "not read: refused", "{c:?}");
        assert!(!checks(&contents(3, 0, 5), &Err("refused".into()))[1].matches);
        assert!(!checks(&Contents::default(), &Err("x".into()))[0].matches);
    }

    #[test]
    fn the_secret_is_pointed_at_the_cluster_with_the_login_kept() {
        let s = WorkerSecret {
            name: "pj-prod/aurora-worker".into(),
            value: serde_json::json!({"username": "pj_worker", "password": "p", "host": "old", "port": 5432, "dbname": "pj", "dbClusterIdentifier": "pj-db"}),
        };
        let c = ClusterInfo { id: "pj-db-r".into(), endpoint: "new".into(), port: 5433, database: Some("pj".into()), ..Default::default() };
        let v: Value = serde_json::from_str(&s.pointed_at(&c)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"username": "pj_worker", "password": "p", "host": "new", "port": 5433, "dbname": "pj", "dbClusterIdentifier": "pj-db-r"})
        );
        assert_eq!(s.cluster(), Some("pj-db"));
    }
}
