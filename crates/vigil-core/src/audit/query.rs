//! The de-ID audit log: filtered search in newest-first keyset pages, one record whole with
//! its chain links checked, and the totals of a filtered set. Every filter value is a bound
//! parameter; inputs are checked first so a bad one gets a clear error, not an empty page.

use crate::error::{Error, Result};
use crate::platform_db::connect::query_error;
use chrono::{DateTime, Utc};
use pj_audit::pg::{record_from_row, RECORD_COLUMNS};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use std::collections::BTreeMap;
use uuid::Uuid;
use vigil_dto::{AuditCursor, AuditFilter, AuditPage, AuditRecordDetail, AuditRow, AuditSummary};

pub const ACTIONS: [&str; 4] = ["deidentify", "view", "export", "reidentify_request"];
pub const MAX_PAGE: u32 = 500;
const MAX_TEXT: usize = 200;

/// A filter after checking: typed, trimmed, empty fields dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub document_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub category: Option<String>,
    pub stream: Option<String>,
}

fn text(field: &'static str, v: &Option<String>) -> Result<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > MAX_TEXT => Err(Error::validation(field, format!("use at most {MAX_TEXT} characters"))),
        Some(s) if s.chars().any(char::is_control) => Err(Error::validation(field, "remove the control characters")),
        Some(s) => Ok(Some(s.to_string())),
    }
}

pub fn parse_time(field: &'static str, v: &Option<String>) -> Result<Option<DateTime<Utc>>> {
    text(field, v)?
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| Error::validation(field, format!("`{s}` is not a time like 2026-11-24T08:00:00Z ({e})")))
        })
        .transpose()
}

fn uuid(field: &'static str, v: &Option<String>) -> Result<Option<Uuid>> {
    text(field, v)?.map(|s| Uuid::parse_str(&s).map_err(|_| Error::validation(field, format!("`{s}` is not an id like 3f2b…-…")))).transpose()
}

/// Checks a filter; `to` before `from` and unknown actions are refused with the reason.
pub fn parse(f: &AuditFilter) -> Result<Query> {
    let q = Query {
        from: parse_time("from", &f.from)?,
        to: parse_time("to", &f.to)?,
        actor: text("actor", &f.actor)?,
        action: text("action", &f.action)?,
        document_id: uuid("document_id", &f.document_id)?,
        job_id: uuid("job_id", &f.job_id)?,
        category: text("category", &f.category)?,
        stream: text("stream", &f.stream)?,
    };
    if let (Some(a), Some(b)) = (q.from, q.to) {
        if b <= a {
            return Err(Error::validation("to", "the range ends before it starts"));
        }
    }
    if let Some(a) = &q.action {
        if !ACTIONS.contains(&a.as_str()) {
            return Err(Error::validation("action", format!("`{a}` is not an audit action; use one of {}", ACTIONS.join(", "))));
        }
    }
    if let Some(c) = &q.category {
        if !c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') {
            return Err(Error::validation("category", format!("`{c}` is not a PHI category name (lower-case letters and _, e.g. name, date, ssn)")));
        }
    }
    Ok(q)
}

/// Appends ` WHERE …` for `q` with every value bound.
pub(crate) fn push_filter<'a>(qb: &mut QueryBuilder<'a, Postgres>, q: &'a Query) {
    push_where(qb, q, None)
}

/// Appends ` WHERE …` for `q` (and the keyset position) with every value bound.
fn push_where<'a>(qb: &mut QueryBuilder<'a, Postgres>, q: &'a Query, after: Option<&'a (DateTime<Utc>, String, i64)>) {
    qb.push(" WHERE true");
    if let Some(v) = &q.from {
        qb.push(" AND at >= ").push_bind(*v);
    }
    if let Some(v) = &q.to {
        qb.push(" AND at < ").push_bind(*v);
    }
    if let Some(v) = &q.actor {
        qb.push(" AND actor = ").push_bind(v.as_str());
    }
    if let Some(v) = &q.action {
        qb.push(" AND action = ").push_bind(v.as_str());
    }
    if let Some(v) = &q.document_id {
        qb.push(" AND document_id = ").push_bind(*v);
    }
    if let Some(v) = &q.job_id {
        qb.push(" AND job_id = ").push_bind(*v);
    }
    if let Some(v) = &q.category {
        qb.push(" AND category_counts ? ").push_bind(v.as_str());
    }
    if let Some(v) = &q.stream {
        qb.push(" AND stream_id = ").push_bind(v.as_str());
    }
    if let Some((at, stream, seq)) = after {
        qb.push(" AND (at, stream_id, seq) < (").push_bind(*at).push(", ").push_bind(stream.as_str()).push(", ").push_bind(*seq).push(")");
    }
}

fn row_of(r: &pj_audit::AuditRecord) -> AuditRow {
    AuditRow {
        stream_id: r.stream_id.clone(),
        seq: r.seq,
        id: r.body.id.hyphenated().to_string(),
        at: pj_audit::format_at(&r.body.at),
        actor: r.body.actor.clone(),
        action: r.body.action.clone(),
        document_id: r.body.document_id.map(|u| u.hyphenated().to_string()),
        job_id: r.body.job_id.map(|u| u.hyphenated().to_string()),
        detector_version: r.body.detector_version.clone(),
        category_counts: r.body.category_counts.clone(),
    }
}

/// One page, newest first, after `cursor` (the previous page's `next`).
pub async fn search(pool: &PgPool, q: &Query, cursor: Option<&AuditCursor>, limit: u32) -> Result<AuditPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let after = cursor
        .map(|c| -> Result<(DateTime<Utc>, String, i64)> {
            let at = parse_time("cursor", &Some(c.at.clone()))?.ok_or_else(|| Error::validation("cursor", "the page position has no time"))?;
            Ok((at, c.stream_id.clone(), c.seq))
        })
        .transpose()?;
    let mut qb = QueryBuilder::new(format!("SELECT {RECORD_COLUMNS} FROM audit_log"));
    push_where(&mut qb, q, after.as_ref());
    qb.push(" ORDER BY at DESC, stream_id DESC, seq DESC LIMIT ").push_bind(limit as i64 + 1);
    let rows = qb.build().fetch_all(pool).await.map_err(query_error)?;
    let mut records = rows.iter().map(record_from_row).collect::<Result<Vec<_>, _>>().map_err(query_error)?;
    let more = records.len() > limit as usize;
    records.truncate(limit as usize);
    let next = if more {
        records.last().map(|r| AuditCursor { at: pj_audit::format_at(&r.body.at), stream_id: r.stream_id.clone(), seq: r.seq })
    } else {
        None
    };
    Ok(AuditPage { rows: records.iter().map(row_of).collect(), next })
}

/// One record whole, its hash recomputed, and its links to the records before and after.
pub async fn record(pool: &PgPool, stream: &str, seq: i64) -> Result<AuditRecordDetail> {
    let rows = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM audit_log WHERE stream_id = $1 AND seq BETWEEN $2 - 1 AND $2 + 1 ORDER BY seq"))
        .bind(stream)
        .bind(seq)
        .fetch_all(pool)
        .await
        .map_err(query_error)?;
    let recs = rows.iter().map(record_from_row).collect::<Result<Vec<_>, _>>().map_err(query_error)?;
    let Some(r) = recs.iter().find(|r| r.seq == seq) else {
        return Err(Error::PlatformDb {
            kind: "not_found",
            message: format!("no audit record {stream}#{seq}"),
            hint: "search again: the record is not in the audit log".into(),
        });
    };
    let prev = recs.iter().find(|x| x.seq == seq - 1);
    let next = recs.iter().find(|x| x.seq == seq + 1);
    Ok(AuditRecordDetail {
        row: row_of(r),
        spans: r.body.spans.iter().map(|s| (s.0, s.1, s.2.clone())).collect(),
        input_sha256: r.body.input_sha256.map(hex::encode),
        output_sha256: r.body.output_sha256.map(hex::encode),
        prev_hash: hex::encode(r.prev_hash),
        hash: hex::encode(r.hash),
        hash_ok: r.hash_matches(),
        prev_link_ok: if seq == 1 { Some(r.prev_hash == pj_audit::GENESIS) } else { prev.map(|p| p.hash == r.prev_hash) },
        next_link_ok: next.map(|n| n.prev_hash == r.hash),
    })
}

/// `20261124T0812Z`: the current time for export file names.
pub fn file_stamp() -> String {
    Utc::now().format("%Y%m%dT%H%MZ").to_string()
}

/// The size of the buckets of the summary chart for a time span: about 60 bars.
pub fn bucket_seconds(span: i64) -> i64 {
    const STEPS: [i64; 10] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400];
    STEPS.iter().copied().find(|s| span / s <= 60).unwrap_or(365 * 86_400)
}

/// Totals per category and action, and records over time, for the filtered set.
pub async fn summary(pool: &PgPool, q: &Query) -> Result<AuditSummary> {
    let mut qb = QueryBuilder::new("SELECT count(*), min(at), max(at) FROM audit_log");
    push_where(&mut qb, q, None);
    let row = qb.build().fetch_one(pool).await.map_err(query_error)?;
    let (records, first, last): (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        (row.try_get(0).map_err(query_error)?, row.try_get(1).map_err(query_error)?, row.try_get(2).map_err(query_error)?);
    let mut by_action = BTreeMap::new();
    let mut qb = QueryBuilder::new("SELECT action, count(*) FROM audit_log");
    push_where(&mut qb, q, None);
    qb.push(" GROUP BY action");
    for r in qb.build().fetch_all(pool).await.map_err(query_error)? {
        by_action.insert(r.try_get::<String, _>(0).map_err(query_error)?, r.try_get::<i64, _>(1).map_err(query_error)?);
    }
    let mut by_category = BTreeMap::new();
    let mut qb = QueryBuilder::new("SELECT c.key, sum(c.value::bigint)::bigint FROM audit_log, jsonb_each_text(category_counts) AS c");
    push_where(&mut qb, q, None);
    qb.push(" GROUP BY c.key");
    for r in qb.build().fetch_all(pool).await.map_err(query_error)? {
        by_category.insert(r.try_get::<String, _>(0).map_err(query_error)?, r.try_get::<Option<i64>, _>(1).map_err(query_error)?.unwrap_or(0));
    }
    let start = q.from.or(first).map(|d| d.timestamp()).unwrap_or(0);
    let end = q.to.or(last).map(|d| d.timestamp() + 1).unwrap_or(start + 1);
    let bucket = bucket_seconds(end - start);
    let mut over_time = Vec::new();
    if records > 0 {
        let mut qb = QueryBuilder::new("SELECT (floor(extract(epoch FROM at) / ");
        qb.push_bind(bucket as f64).push(") * ").push_bind(bucket as f64).push(")::bigint AS b, count(*) FROM audit_log");
        push_where(&mut qb, q, None);
        qb.push(" GROUP BY b ORDER BY b");
        for r in qb.build().fetch_all(pool).await.map_err(query_error)? {
            over_time.push((r.try_get::<i64, _>(0).map_err(query_error)?, r.try_get::<i64, _>(1).map_err(query_error)?));
        }
    }
    Ok(AuditSummary { records, by_category, by_action, over_time, bucket_seconds: bucket })
}

/// The summary's records over time as a chart (one point per bucket; empty buckets are 0,
/// since no record is a count, not a gap), and the range it spans.
pub fn summary_chart(s: &AuditSummary) -> (vigil_dto::ChartData, i64, i64) {
    let b = s.bucket_seconds.max(1);
    let (start, end) = match (s.over_time.first(), s.over_time.last()) {
        (Some(f), Some(l)) => (f.0, l.0 + b),
        _ => {
            let now = Utc::now().timestamp();
            (now - 3600, now)
        }
    };
    let counts: std::collections::HashMap<i64, i64> = s.over_time.iter().copied().collect();
    let points = (0..((end - start) / b)).map(|i| start + i * b).map(|t| (t, Some(*counts.get(&t).unwrap_or(&0) as f64))).collect();
    let chart = vigil_dto::ChartData {
        component: "audit".into(),
        id: "records".into(),
        title: "Audit records".into(),
        unit: "Count".into(),
        period: b as u32,
        threshold: None,
        series: vec![vigil_dto::SeriesData { label: "records".into(), points }],
        error: None,
    };
    (chart, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_with_reasons() {
        let mut f = AuditFilter { actor: Some("  worker:a ".into()), category: Some("name".into()), ..Default::default() };
        let q = parse(&f).unwrap();
        assert_eq!(q.actor.as_deref(), Some("worker:a"));
        f.document_id = Some("'; DROP TABLE audit_log; --".into());
        assert!(parse(&f).unwrap_err().to_string().contains("not an id"));
        f.document_id = None;
        f.action = Some("delete".into());
        assert!(parse(&f).unwrap_err().to_string().contains("deidentify"));
        f.action = None;
        f.actor = Some("x".repeat(201));
        assert!(parse(&f).unwrap_err().to_string().contains("200"));
        f.actor = None;
        f.from = Some("2026-11-24T09:00:00Z".into());
        f.to = Some("2026-11-24T08:00:00Z".into());
        assert!(parse(&f).unwrap_err().to_string().contains("before"));
        f.to = Some("yesterday".into());
        assert!(parse(&f).unwrap_err().to_string().contains("not a time"));
        f.to = None;
        f.category = Some("name' OR '1'='1".into());
        assert!(parse(&f).unwrap_err().to_string().contains("category"));
    }

    #[test]
    fn the_summary_chart_has_a_point_per_bucket_and_zero_for_empty_ones() {
        let s = AuditSummary {
            records: 5,
            by_category: Default::default(),
            by_action: Default::default(),
            over_time: vec![(600, 2), (780, 3)],
            bucket_seconds: 60,
        };
        let (c, start, end) = summary_chart(&s);
        assert_eq!((start, end), (600, 840));
        assert_eq!(c.series[0].points, vec![(600, Some(2.0)), (660, Some(0.0)), (720, Some(0.0)), (780, Some(3.0))]);
    }

    #[test]
    fn buckets_give_about_sixty_bars() {
        assert_eq!(bucket_seconds(3600), 60);
        assert_eq!(bucket_seconds(86_400), 3600);
        assert_eq!(bucket_seconds(30 * 86_400), 86_400);
    }
}
