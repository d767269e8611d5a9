//! Audit inspector benchmarks on 10 M generated records in the machine's PostgreSQL, each
//! against a baseline in the same run: page 1 and page 10 000 (100 rows a page) with keyset
//! pagination vs OFFSET; verification throughput vs PostgreSQL's raw `COPY … TO STDOUT` of
//! the same rows; the CSV evidence export rate vs `COPY … TO STDOUT (FORMAT csv)`; the PDF
//! report's own drawing vs drawing its chart alone (its data work is the three above).
//! `cargo bench -p vigil-tests --bench audit` (AUDIT_BENCH_ROWS overrides the 10 M).

use futures_util::TryStreamExt;
use std::sync::Arc;
use std::time::Instant;
use vigil_core::audit::{export, query as audit, report, verify};
use vigil_core::metrics::render;
use vigil_core::progress::Progress;
use vigil_tests::platform_db::{generate, TestDb};

const PAGE: u32 = 100;

async fn copy_out(pool: &sqlx::PgPool, sql: &str) -> (f64, u64) {
    let mut conn = pool.acquire().await.unwrap();
    let t = Instant::now();
    let mut stream = conn.copy_out_raw(sql).await.unwrap();
    let mut bytes = 0u64;
    while let Some(chunk) = stream.try_next().await.unwrap() {
        bytes += chunk.len() as u64;
    }
    (t.elapsed().as_secs_f64(), bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: u64 = std::env::var("AUDIT_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let streams = 4;
    let db = TestDb::create("vigil_bench").await;
    let key = pj_audit::Ed25519SigningKey::from_bytes(&[3u8; 32]);
    let t = Instant::now();
    generate(&db.pool, streams, total / streams as u64, 10_000, &key).await;
    println!("generated {total} records in {:.0} s", t.elapsed().as_secs_f64());
    let pool = &db.pool;
    let q = audit::Query::default();

    // Pages: keyset vs OFFSET, first page and page 10 000.
    // Page 10 000 (a smaller run takes the middle page instead).
    let deep = 10_000u64.min(total / PAGE as u64 / 2);
    let (at, st, seq): (chrono::DateTime<chrono::Utc>, String, i64) =
        sqlx::query_as("SELECT at, stream_id, seq FROM audit_log ORDER BY at DESC, stream_id DESC, seq DESC OFFSET $1 LIMIT 1")
            .bind(((deep - 1) * PAGE as u64 - 1) as i64)
            .fetch_one(pool)
            .await
            .unwrap();
    let cursor = vigil_dto::AuditCursor { at: pj_audit::format_at(&at), stream_id: st, seq };
    let mut results = Vec::new();
    for (label, cur, offset) in [("page 1", None, 0u64), ("deep page", Some(cursor), (deep - 1) * PAGE as u64)] {
        let (mut k, mut o) = (f64::MAX, f64::MAX);
        let (mut kr, mut or) = (vec![], vec![]);
        for _ in 0..5 {
            let t = Instant::now();
            let p = audit::search(pool, &q, cur.as_ref(), PAGE).await.unwrap();
            k = k.min(t.elapsed().as_secs_f64());
            kr = p.rows.iter().map(|r| (r.stream_id.clone(), r.seq)).collect();
            // The same columns and decoding, paged with OFFSET.
            let t = Instant::now();
            let rows = sqlx::query(&format!(
                "SELECT {} FROM audit_log ORDER BY at DESC, stream_id DESC, seq DESC OFFSET $1 LIMIT $2",
                pj_audit::pg::RECORD_COLUMNS
            ))
            .bind(offset as i64)
            .bind(PAGE as i64)
            .fetch_all(pool)
            .await
            .unwrap();
            let recs: Vec<pj_audit::AuditRecord> = rows.iter().map(|r| pj_audit::pg::record_from_row(r).unwrap()).collect();
            o = o.min(t.elapsed().as_secs_f64());
            or = recs.iter().map(|r| (r.stream_id.clone(), r.seq)).collect();
        }
        assert_eq!(kr, or, "both give the same page");
        let label = if label == "deep page" { format!("page {deep}") } else { label.to_string() };
        results.push(format!("{label}: keyset {:.2} ms, OFFSET {:.2} ms, ratio {:.3}", k * 1e3, o * 1e3, k / o));
    }
    for r in &results {
        println!("{r}");
    }

    // Verification vs raw COPY of the same rows.
    let keys = verify::keys_from_hex(&hex::encode(key.verifying_key().to_bytes())).unwrap();
    let t = Instant::now();
    let v = verify::verify(pool, None, &keys, Arc::new(Progress::default())).await.unwrap();
    let tv = t.elapsed().as_secs_f64();
    assert!(v.ok && v.records == total, "{v:?}");
    let (tc, _) = copy_out(pool, &format!("COPY (SELECT {} FROM audit_log ORDER BY stream_id, seq) TO STDOUT", pj_audit::pg::RECORD_COLUMNS)).await;
    println!(
        "verify {total} records: {:.1} s ({:.0} records/s); raw COPY of the same rows {:.1} s ({:.0} rows/s); ratio {:.2}",
        tv,
        total as f64 / tv,
        tc,
        total as f64 / tc,
        tv / tc
    );

    // CSV export vs COPY … CSV.
    let (te, w) = {
        let t = Instant::now();
        let (w, _) = export::csv(pool, &q, std::io::sink(), &Progress::default()).await.unwrap();
        (t.elapsed().as_secs_f64(), w)
    };
    assert_eq!(w.rows, total);
    let (tcsv, bytes) =
        copy_out(pool, &format!("COPY (SELECT {} FROM audit_log ORDER BY at, stream_id, seq) TO STDOUT (FORMAT csv)", pj_audit::pg::RECORD_COLUMNS))
            .await;
    println!(
        "CSV export {total} rows: {:.1} s ({:.0} rows/s, {:.0} MB/s); COPY … CSV {:.1} s ({:.0} rows/s, {:.0} MB/s); ratio {:.2}",
        te,
        total as f64 / te,
        w.bytes as f64 / te / 1e6,
        tcsv,
        total as f64 / tcsv,
        bytes as f64 / tcsv / 1e6,
        te / tcsv
    );

    // The PDF report: summary, then drawing (its verification and CSV hash are measured above).
    let t = Instant::now();
    let summary = audit::summary(pool, &q).await.unwrap();
    let ts = t.elapsed().as_secs_f64();
    let (chart, start, end) = audit::summary_chart(&summary);
    let (mut tpng, mut tpdf, mut drawn) = (f64::MAX, f64::MAX, (vec![], 0));
    for _ in 0..5 {
        let t = Instant::now();
        let png = render::png(&chart, start, end, report::CHART_STYLE, &chrono::Utc).unwrap().image;
        tpng = tpng.min(t.elapsed().as_secs_f64());
        let r = report::Report {
            generated_at: chrono::Utc::now(),
            generated_by: "bench".into(),
            vigil_version: "bench".into(),
            environment: "bench".into(),
            region: "us-east-1".into(),
            database: "127.0.0.1:5432/bench as postgres".into(),
            filters: report::filter_lines(&q),
            summary: summary.clone(),
            data_sha256: w.sha256.clone(),
            reproduce: report::reproduce("bench", &q),
            verification: report::Verification::Done(v.clone()),
            chart_png: Some(png),
            bucket: report::bucket_label(chart.period as i64),
        };
        let t = Instant::now();
        drawn = report::pdf(&r).unwrap();
        tpdf = tpdf.min(t.elapsed().as_secs_f64());
    }
    println!(
        "PDF report of {total} records: summary {ts:.1} s, drawing {:.1} ms ({} pages, {:.0} KB); its chart's PNG alone {:.1} ms; ratio {:.2}; with verify and CSV hash about {:.0} s",
        tpdf * 1e3,
        drawn.1,
        drawn.0.len() as f64 / 1e3,
        tpng * 1e3,
        tpdf / tpng,
        ts + tv + te
    );
    db.drop_db().await;
}
