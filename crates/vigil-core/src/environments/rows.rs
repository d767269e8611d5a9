//! The rows of environments in the local store, and the validation of what the user typed.

use crate::aws::{is_loopback_url, regions};
use crate::error::{Error, Result};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::collections::BTreeMap;
use vigil_dto::{Credentials, Environment, EnvironmentInput};

pub const CURRENT_KEY: &str = "current_environment";

/// Trims and checks an input; returns it normalised. Profile existence is checked by the caller.
pub fn validate(input: &EnvironmentInput) -> Result<EnvironmentInput> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(Error::validation("name", "give the environment a name, e.g. prod-eu"));
    }
    if name.chars().count() > 64 {
        return Err(Error::validation("name", "use at most 64 characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))) {
        return Err(Error::validation("name", format!("'{c}' is not allowed; use letters, digits, spaces, '-', '_' and '.'")));
    }
    let region = input.region.trim().to_string();
    if !regions::is_well_formed(&region) {
        return Err(Error::validation("region", format!("'{region}' is not a region name like eu-west-1")));
    }
    let endpoint_url = match input.endpoint_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(validate_endpoint(raw)?),
    };
    let credentials = match &input.credentials {
        Credentials::Profile { name } if name.trim().is_empty() => {
            return Err(Error::validation("profile", "choose a profile, or use the default credential chain"))
        }
        Credentials::Profile { name } => Credentials::Profile { name: name.trim().to_string() },
        Credentials::Emulator => {
            if !endpoint_url.as_deref().is_some_and(is_loopback_url) {
                return Err(Error::validation(
                    "credentials",
                    "emulator keys are only sent to an endpoint on this machine; set the endpoint URL to http://127.0.0.1:<port>",
                ));
            }
            Credentials::Emulator
        }
        Credentials::DefaultChain => Credentials::DefaultChain,
    };
    let deployment = validate_deployment(&input.deployment)?;
    let platform_db = input.platform_db.as_ref().map(crate::platform_db::connect::validate).transpose()?;
    Ok(EnvironmentInput { name, credentials, region, endpoint_url, deployment, platform_db })
}

/// Deployment parameters beyond the metric catalog's.
pub const EXTRA_PARAMETERS: [(&str, &str); 12] = [
    (
        "audit_public_keys",
        "the platform's audit checkpoint public keys, hex, comma-separated (pj-worker keygen prints them); Verify trusts only these",
    ),
    ("queue_url", "the platform's work queue (SQS URL): job retries are sent there"),
    ("log_group", "the CloudWatch Logs group with the worker's JSON lines: a job's log lines are read there"),
    ("backup_events", "the CloudWatch Logs group with AWS Backup's job events (the backup stack's): a backup job's events are read there"),
    ("global_cluster_id", "the Aurora global database the platform's cluster belongs to (DR runbooks: switchover, failover)"),
    ("secondary_region", "the DR region: where the global database's secondary cluster and the standby worker run"),
    ("secondary_cluster_arn", "the ARN of the global database's secondary cluster, in the DR region"),
    ("secondary_queue_url", "the work queue in the DR region (SQS URL): the worker's failover moves waiting work there"),
    (
        "dr_four_eyes",
        "on: a destructive runbook step also needs a second person's approval (a one-time code from `vigil dr second-approve` on another console, signed in as another AWS identity)",
    ),
    (
        "dr_lease_bucket",
        "the bucket of the platform's account that holds the DR lease (one console at a time runs a runbook); the documents bucket when not set",
    ),
    (
        "home_region",
        "the region of the platform's stacks while it runs in its DR region (set by a regional DR runbook, cleared by its failback); a deploy waits for the switch back",
    ),
    (
        "db_cluster_stack",
        "the Aurora cluster the database stack made, while the platform runs on a restored one (set by Backups → Point the platform here)",
    ),
];

/// Deployment parameters: names the metric catalog knows, values trimmed (empty ones dropped),
/// printable and at most 1000 characters (a few public keys).
fn validate_deployment(d: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut known = crate::metrics::catalog::load().parameters;
    for (k, v) in EXTRA_PARAMETERS {
        known.insert(k.to_string(), v.to_string());
    }
    let mut out = BTreeMap::new();
    for (k, v) in d {
        let k = k.trim();
        if !known.contains_key(k) {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(Error::validation("deployment", format!("`{k}` is not a deployment parameter; use one of {}", names.join(", "))));
        }
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if v.chars().count() > 1000 || v.chars().any(char::is_control) {
            return Err(Error::validation("deployment", format!("{k}: use at most 1000 printable characters")));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn validate_endpoint(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw)
        .map_err(|e| Error::validation("endpoint_url", format!("'{raw}' is not a URL ({e}); write it like https://sts.eu-west-1.amazonaws.com")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::validation("endpoint_url", "use an http:// or https:// URL"));
    }
    if url.host().is_none() {
        return Err(Error::validation("endpoint_url", "the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::validation("endpoint_url", "remove the user name and password from the URL; Vigil never stores credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::validation("endpoint_url", "remove the query string or fragment from the URL"));
    }
    if url.scheme() == "http" && !is_loopback_url(raw) {
        return Err(Error::validation("endpoint_url", "plain http is only allowed for endpoints on this machine; use https"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

type Row = (i64, String, String, Option<String>, String, Option<String>, String, String, String, Option<String>);

const COLUMNS: &str = "id, name, credentials, profile, region, endpoint_url, created_at, updated_at, deployment, platform_db";

/// A stored row as an environment. Nothing is guessed: a credential source this Vigil does not
/// know (written by a newer one, or changed outside Vigil) is an error, never the default chain,
/// which could act in another account.
fn from_row(r: Row, current: Option<&str>) -> Result<Environment> {
    let bad = |detail: String| Error::StoredEnvironment { name: r.1.clone(), detail };
    let credentials = match (r.2.as_str(), r.3.as_deref()) {
        ("profile", Some(name)) if !name.is_empty() => Credentials::Profile { name: name.to_string() },
        ("emulator", _) => Credentials::Emulator,
        ("default_chain", _) => Credentials::DefaultChain,
        ("profile", _) => return Err(bad("its credentials name a profile but not which".into())),
        (kind, _) => return Err(bad(format!("its credential source `{kind}` is not one this Vigil knows"))),
    };
    let is_current = current.is_some_and(|c| c.eq_ignore_ascii_case(&r.1));
    let deployment = serde_json::from_str(&r.8).map_err(|e| bad(format!("its deployment parameters cannot be read ({e})")))?;
    let platform_db = match &r.9 {
        None => None,
        Some(j) => Some(serde_json::from_str(j).map_err(|e| bad(format!("its platform database settings cannot be read ({e})")))?),
    };
    Ok(Environment {
        id: r.0,
        name: r.1,
        credentials,
        region: r.4,
        endpoint_url: r.5,
        created_at: r.6,
        updated_at: r.7,
        current: is_current,
        deployment,
        platform_db,
    })
}

fn split(c: &Credentials) -> (&'static str, Option<&str>) {
    match c {
        Credentials::DefaultChain => ("default_chain", None),
        Credentials::Profile { name } => ("profile", Some(name.as_str())),
        Credentials::Emulator => ("emulator", None),
    }
}

async fn current_name(ex: impl sqlx::SqliteExecutor<'_>) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(CURRENT_KEY).fetch_optional(ex).await?)
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<Environment>> {
    let current = current_name(pool).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM environments ORDER BY name COLLATE NOCASE")).fetch_all(pool).await?;
    rows.into_iter().map(|r| from_row(r, current.as_deref())).collect()
}

pub async fn get(ex: &mut sqlx::SqliteConnection, name: &str) -> Result<Environment> {
    let current = current_name(&mut *ex).await?;
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM environments WHERE name = ?")).bind(name.trim()).fetch_optional(&mut *ex).await?;
    row.map(|r| from_row(r, current.as_deref())).unwrap_or_else(|| Err(Error::EnvironmentNotFound(name.trim().to_string())))
}

/// Whether an environment of this name (any case) is stored.
pub async fn exists(pool: &SqlitePool, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM environments WHERE name = ? COLLATE NOCASE").bind(name.trim()).fetch_one(pool).await? > 0)
}

pub async fn current(pool: &SqlitePool) -> Result<Option<Environment>> {
    let mut conn = pool.acquire().await?;
    let Some(name) = current_name(&mut *conn).await? else { return Ok(None) };
    match get(&mut conn, &name).await {
        Ok(e) => Ok(Some(e)),
        Err(Error::EnvironmentNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn deployment_json(d: &BTreeMap<String, String>) -> String {
    serde_json::Value::from_iter(d.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))).to_string()
}

fn platform_db_json(d: &Option<vigil_dto::PlatformDb>) -> Option<String> {
    d.as_ref().and_then(|d| serde_json::to_string(d).ok())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub async fn insert(tx: &mut Transaction<'static, Sqlite>, input: &EnvironmentInput) -> Result<Environment> {
    let (kind, profile) = split(&input.credentials);
    let ts = now();
    sqlx::query(
        "INSERT INTO environments (name, credentials, profile, region, endpoint_url, created_at, updated_at, deployment, platform_db) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&input.name)
    .bind(kind)
    .bind(profile)
    .bind(&input.region)
    .bind(&input.endpoint_url)
    .bind(&ts)
    .bind(&ts)
    .bind(deployment_json(&input.deployment))
    .bind(platform_db_json(&input.platform_db))
    .execute(&mut **tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { Error::EnvironmentExists(input.name.clone()) } else { e.into() })?;
    get(tx, &input.name).await
}

pub async fn update(tx: &mut Transaction<'static, Sqlite>, id: i64, input: &EnvironmentInput) -> Result<Environment> {
    let (kind, profile) = split(&input.credentials);
    sqlx::query(
        "UPDATE environments SET name = ?, credentials = ?, profile = ?, region = ?, endpoint_url = ?, updated_at = ?, deployment = ?, platform_db = ? WHERE id = ?",
    )
        .bind(&input.name)
        .bind(kind)
        .bind(profile)
        .bind(&input.region)
        .bind(&input.endpoint_url)
        .bind(now())
        .bind(deployment_json(&input.deployment))
        .bind(platform_db_json(&input.platform_db))
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { Error::EnvironmentExists(input.name.clone()) } else { e.into() })?;
    get(tx, &input.name).await
}

/// The stored columns of `name` as they are, read without interpreting them (for removing an
/// environment that cannot be read).
pub async fn raw(ex: &mut sqlx::SqliteConnection, name: &str) -> Result<(i64, serde_json::Value)> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM environments WHERE name = ?")).bind(name.trim()).fetch_optional(&mut *ex).await?;
    let r = row.ok_or_else(|| Error::EnvironmentNotFound(name.trim().to_string()))?;
    let raw = serde_json::json!({
        "name": r.1, "credentials": r.2, "profile": r.3, "region": r.4, "endpoint_url": r.5, "deployment": r.8, "platform_db": r.9,
    });
    Ok((r.0, raw))
}

pub async fn delete(tx: &mut Transaction<'static, Sqlite>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM environments WHERE id = ?").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// The environment as an input again (for edits, undo and operator-log details).
pub fn to_input(e: &Environment) -> EnvironmentInput {
    e.to_input()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, region: &str, endpoint: Option<&str>, credentials: Credentials) -> EnvironmentInput {
        EnvironmentInput {
            name: name.into(),
            credentials,
            region: region.into(),
            endpoint_url: endpoint.map(String::from),
            deployment: Default::default(),
            platform_db: None,
        }
    }

    fn field_of(r: Result<EnvironmentInput>) -> &'static str {
        match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn deployment_parameters_are_checked_and_trimmed() {
        let mut i = input("a", "us-east-1", None, Credentials::DefaultChain);
        i.deployment =
            [("cluster_name", " pj-prod "), ("bucket", "  "), ("db_cluster_id", "pj-db")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let ok = validate(&i).unwrap();
        assert_eq!(ok.deployment.len(), 2, "an empty value is dropped");
        assert_eq!(ok.deployment["cluster_name"], "pj-prod");
        i.deployment = [("clustername".to_string(), "x".to_string())].into_iter().collect();
        assert!(matches!(validate(&i), Err(Error::Validation { field: "deployment", ref message }) if message.contains("cluster_name")));
        i.deployment = [("bucket".to_string(), "a\nb".to_string())].into_iter().collect();
        assert_eq!(field_of(validate(&i)), "deployment");
        i.deployment = [("bucket".to_string(), "x".repeat(1001))].into_iter().collect();
        assert_eq!(field_of(validate(&i)), "deployment");
    }

    #[test]
    fn valid_input_is_normalised() {
        let ok = validate(&input(
            "  prod eu ",
            " eu-west-1 ",
            Some("https://sts.eu-west-1.amazonaws.com/"),
            Credentials::Profile { name: " ops ".into() },
        ))
        .unwrap();
        assert_eq!(ok.name, "prod eu");
        assert_eq!(ok.region, "eu-west-1");
        assert_eq!(ok.endpoint_url.as_deref(), Some("https://sts.eu-west-1.amazonaws.com"));
        assert_eq!(ok.credentials, Credentials::Profile { name: "ops".into() });
        let blank_endpoint = validate(&input("a", "us-east-1", Some("  "), Credentials::DefaultChain)).unwrap();
        assert_eq!(blank_endpoint.endpoint_url, None);
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(field_of(validate(&input("", "us-east-1", None, Credentials::DefaultChain))), "name");
        assert_eq!(field_of(validate(&input("a/b", "us-east-1", None, Credentials::DefaultChain))), "name");
        assert_eq!(field_of(validate(&input(&"x".repeat(65), "us-east-1", None, Credentials::DefaultChain))), "name");
        assert_eq!(field_of(validate(&input("a", "Europe", None, Credentials::DefaultChain))), "region");
        assert_eq!(field_of(validate(&input("a", "us-east-1", Some("not a url"), Credentials::DefaultChain))), "endpoint_url");
        assert_eq!(field_of(validate(&input("a", "us-east-1", Some("ftp://x.example"), Credentials::DefaultChain))), "endpoint_url");
        assert_eq!(field_of(validate(&input("a", "us-east-1", Some("https://u:p@x.example"), Credentials::DefaultChain))), "endpoint_url");
        assert_eq!(field_of(validate(&input("a", "us-east-1", Some("http://sts.example.com"), Credentials::DefaultChain))), "endpoint_url");
        assert_eq!(field_of(validate(&input("a", "us-east-1", None, Credentials::Profile { name: " ".into() }))), "profile");
    }

    #[test]
    fn emulator_keys_only_go_to_this_machine() {
        assert!(validate(&input("s", "us-east-1", Some("http://127.0.0.1:5000"), Credentials::Emulator)).is_ok());
        assert!(validate(&input("s", "us-east-1", Some("http://localhost:5000"), Credentials::Emulator)).is_ok());
        assert_eq!(field_of(validate(&input("s", "us-east-1", None, Credentials::Emulator))), "credentials");
        assert_eq!(field_of(validate(&input("s", "us-east-1", Some("https://sts.amazonaws.com"), Credentials::Emulator))), "credentials");
    }
}
