//! The job ledger: jobs newest first in keyset pages, failures grouped by error class with the
//! latest example, one job, and which failures a retry can help (the contract's classes).

use crate::audit::query::parse_time;
use crate::error::{Error, Result};
use crate::platform_db::connect::query_error;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;
use vigil_dto::{FailureGroup, JobFilter, JobPage, JobRow};

pub const STATUSES: [&str; 4] = ["queued", "running", "succeeded", "failed"];
const COLUMNS: &str = "id, kind, source_uri, status, attempts, max_attempts, error_class, error_message, permanent, created_at, \
                       started_at, finished_at, duration_ms, worker_id, document_id, retried_by";

/// What an error class means and whether a retry can help (the contract, `pj_contract::jobs`).
pub fn meaning(class: &str) -> &'static str {
    pj_contract::jobs::meaning(class)
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// A checked filter.
#[derive(Debug, Clone, Default)]
pub struct Query {
    status: Option<String>,
    kind: Option<String>,
    error_class: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

pub fn parse(f: &JobFilter) -> Result<Query> {
    let q = Query {
        status: text(&f.status),
        kind: text(&f.kind),
        error_class: text(&f.error_class),
        from: parse_time("from", &f.from)?,
        to: parse_time("to", &f.to)?,
    };
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Error::validation("status", format!("`{s}` is not a job status; use one of {}", STATUSES.join(", "))));
        }
    }
    for (field, v) in [("kind", &q.kind), ("error_class", &q.error_class)] {
        if let Some(v) = v {
            if v.len() > 64 || !v.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(Error::validation(field, format!("`{v}` is not a {field} name (lower-case letters and _)")));
            }
        }
    }
    Ok(q)
}

fn push_where<'a>(qb: &mut QueryBuilder<'a, Postgres>, q: &'a Query) {
    qb.push(" WHERE true");
    if let Some(v) = &q.status {
        qb.push(" AND status = ").push_bind(v.as_str());
    }
    if let Some(v) = &q.kind {
        qb.push(" AND kind = ").push_bind(v.as_str());
    }
    if let Some(v) = &q.error_class {
        qb.push(" AND error_class = ").push_bind(v.as_str());
    }
    if let Some(v) = &q.from {
        qb.push(" AND created_at >= ").push_bind(*v);
    }
    if let Some(v) = &q.to {
        qb.push(" AND created_at < ").push_bind(*v);
    }
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn row(r: &PgRow) -> std::result::Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        id: r.try_get::<Uuid, _>(0)?.hyphenated().to_string(),
        kind: r.try_get(1)?,
        source_uri: r.try_get(2)?,
        status: r.try_get(3)?,
        attempts: r.try_get(4)?,
        max_attempts: r.try_get(5)?,
        error_class: r.try_get(6)?,
        error_message: r.try_get(7)?,
        permanent: r.try_get(8)?,
        created_at: rfc(r.try_get(9)?),
        started_at: r.try_get::<Option<DateTime<Utc>>, _>(10)?.map(rfc),
        finished_at: r.try_get::<Option<DateTime<Utc>>, _>(11)?.map(rfc),
        duration_ms: r.try_get(12)?,
        worker_id: r.try_get(13)?,
        document_id: r.try_get::<Option<Uuid>, _>(14)?.map(|u| u.hyphenated().to_string()),
        retried_by: r.try_get::<Option<Uuid>, _>(15)?.map(|u| u.hyphenated().to_string()),
    })
}

/// A page of jobs, newest first, after `cursor` (created_at, id).
pub async fn list(pool: &PgPool, q: &Query, cursor: Option<&(String, String)>, limit: u32) -> Result<JobPage> {
    let limit = limit.clamp(1, 500);
    let after = cursor
        .map(|(at, id)| -> Result<(DateTime<Utc>, Uuid)> {
            let at = parse_time("cursor", &Some(at.clone()))?.ok_or_else(|| Error::validation("cursor", "no time"))?;
            Ok((at, Uuid::parse_str(id).map_err(|_| Error::validation("cursor", "not a job id"))?))
        })
        .transpose()?;
    let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM jobs"));
    push_where(&mut qb, q);
    if let Some((at, id)) = &after {
        qb.push(" AND (created_at, id) < (").push_bind(*at).push(", ").push_bind(*id).push(")");
    }
    qb.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit as i64 + 1);
    let rows = qb.build().fetch_all(pool).await.map_err(query_error)?;
    let mut jobs = rows.iter().map(row).collect::<std::result::Result<Vec<_>, _>>().map_err(query_error)?;
    let more = jobs.len() > limit as usize;
    jobs.truncate(limit as usize);
    let next = if more { jobs.last().map(|j| (j.created_at.clone(), j.id.clone())) } else { None };
    Ok(JobPage { rows: jobs, next })
}

/// Failed jobs grouped by error class (most first), each with its latest failure.
pub async fn failure_groups(pool: &PgPool, q: &Query) -> Result<Vec<FailureGroup>> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT DISTINCT ON (error_class) {COLUMNS}, count(*) OVER (PARTITION BY error_class), bool_and(permanent) OVER (PARTITION BY error_class) FROM jobs"
    ));
    push_where(&mut qb, q);
    // A failure already retried is no longer waiting for anyone: it leaves these groups.
    qb.push(" AND status = 'failed' AND retried_by IS NULL ORDER BY error_class, finished_at DESC NULLS LAST, id DESC");
    let rows = qb.build().fetch_all(pool).await.map_err(query_error)?;
    let mut out = Vec::new();
    for r in &rows {
        let latest = row(r).map_err(query_error)?;
        let class = latest.error_class.clone().unwrap_or_default();
        out.push(FailureGroup {
            count: r.try_get(16).map_err(query_error)?,
            permanent: r.try_get(17).map_err(query_error)?,
            meaning: meaning(&class).to_string(),
            error_class: class,
            latest,
        });
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.error_class.cmp(&b.error_class)));
    Ok(out)
}

pub async fn get(pool: &PgPool, id: &str) -> Result<JobRow> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| Error::validation("job", format!("`{id}` is not a job id")))?;
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")).bind(id).fetch_optional(pool).await.map_err(query_error)?;
    match r {
        Some(r) => row(&r).map_err(query_error),
        None => Err(Error::PlatformDb {
            kind: "not_found",
            message: format!("no job {id} in the ledger"),
            hint: "list jobs with `vigil jobs list`".into(),
        }),
    }
}

/// The failed jobs of `class` not yet retried, split into those a retry can help and those it
/// cannot (see [`not_retryable`]).
pub async fn retryable_of_class(pool: &PgPool, class: &str) -> Result<(Vec<JobRow>, Vec<JobRow>)> {
    let rows =
        sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE status = 'failed' AND error_class = $1 AND retried_by IS NULL ORDER BY finished_at"))
            .bind(class)
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
    let jobs = rows.iter().map(row).collect::<std::result::Result<Vec<_>, _>>().map_err(query_error)?;
    Ok(jobs.into_iter().partition(|j| not_retryable(j).is_none()))
}

/// `s3://bucket/key` → (bucket, key).
pub fn s3_parts(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_string(), key.to_string()))
}

/// Why `job` cannot be retried, if it cannot.
pub fn not_retryable(job: &JobRow) -> Option<String> {
    if job.status != "failed" {
        return Some(format!("the job is {}, not failed", job.status));
    }
    if let Some(by) = &job.retried_by {
        return Some(format!("it was retried already, as job {by}"));
    }
    if job.permanent {
        let class = job.error_class.as_deref().unwrap_or("unknown");
        return Some(format!("it failed for good ({class}): {}", meaning(class)));
    }
    if s3_parts(&job.source_uri).is_none() {
        return Some(format!("its source `{}` is not an s3:// object", job.source_uri));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_retry_rules() {
        assert!(parse(&JobFilter { status: Some("failed".into()), ..Default::default() }).is_ok());
        assert!(parse(&JobFilter { status: Some("done".into()), ..Default::default() }).unwrap_err().to_string().contains("queued"));
        assert!(parse(&JobFilter { error_class: Some("x'; --".into()), ..Default::default() }).is_err());
        assert_eq!(s3_parts("s3://pj-docs/input/a b.pdf"), Some(("pj-docs".into(), "input/a b.pdf".into())));
        assert_eq!(s3_parts("file:///x"), None);
        let mut j = JobRow {
            id: "j".into(),
            kind: "deidentify".into(),
            source_uri: "s3://b/input/x.pdf".into(),
            status: "failed".into(),
            attempts: 1,
            max_attempts: 3,
            error_class: Some("corrupt".into()),
            error_message: None,
            permanent: true,
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            worker_id: None,
            document_id: None,
            retried_by: None,
        };
        assert!(not_retryable(&j).unwrap().contains("upload a good copy"));
        j.permanent = false;
        j.error_class = Some("ocr_timeout".into());
        assert_eq!(not_retryable(&j), None);
        j.retried_by = Some("k".into());
        assert!(not_retryable(&j).unwrap().contains("retried already, as job k"));
        j.retried_by = None;
        j.status = "succeeded".into();
        assert!(not_retryable(&j).unwrap().contains("succeeded"));
    }
}
