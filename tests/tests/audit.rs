//! The audit inspector against the machine's PostgreSQL with the bundle's migrations: a
//! million generated records verify; each kind of tampering is detected and located; hostile
//! filter input behaves; keyset pages walk the whole filtered set; connection failures are told
//! apart; the PDF evidence report holds the figures, and its data hash is the CSV's.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_dto::{AuditFilter, DbAuth, EnvironmentInput, PlatformDb};
use vigil_tests::platform_db::{generate, TestDb};

async fn console(dir: &tempfile::TempDir, db: &TestDb, public_key_hex: &str) -> App {
    let c = App::open_with_secrets(
        &dir.path().join("vigil.db"),
        vigil_core::aws::profiles::ProfileSource::from_contents("", ""),
        "test",
        Arc::new(vigil_core::secrets::MemoryStore::default()),
    )
    .await
    .unwrap();
    let base = db.options.clone();
    let input = EnvironmentInput {
        name: "audit".into(),
        credentials: vigil_dto::Credentials::DefaultChain,
        region: "us-east-1".into(),
        endpoint_url: None,
        deployment: [("audit_public_keys".to_string(), public_key_hex.to_string())].into_iter().collect(),
        platform_db: Some(PlatformDb {
            host: base.get_host().to_string(),
            port: base.get_port(),
            database: db.name.clone(),
            user: base.get_username().to_string(),
            auth: DbAuth::Trust,
            ca_file: None,
        }),
    };
    c.environments().add(&input).await.unwrap();
    c.environments().select("audit").await.unwrap();
    c
}

fn key() -> pj_audit::Ed25519SigningKey {
    pj_audit::Ed25519SigningKey::from_bytes(&[7u8; 32])
}

async fn verify(c: &App) -> vigil_dto::AuditVerification {
    c.audit().verify(None, Arc::new(Progress::default())).await.unwrap()
}

fn first_break(v: &vigil_dto::AuditVerification) -> (String, i64, String) {
    let s = v.streams.iter().find(|s| s.first_break.is_some()).unwrap_or_else(|| panic!("a break: {v:?}"));
    let b = s.first_break.clone().unwrap();
    (s.stream_id.clone(), b.seq, b.kind)
}

#[tokio::test]
async fn a_million_records_verify_and_every_tampering_is_found_where_it_is() {
    let db = TestDb::create("vigil_audit").await;
    let k = key();
    // Record i of each stream is at end - 250 000 s + i s: the window below is counted from the
    // generator's own end, not from the wall clock.
    let (_, end) = generate(&db.pool, 4, 250_000, 10_000, &k).await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &db, &hex::encode(k.verifying_key().to_bytes())).await;

    let progress = Arc::new(Progress::default());
    let v = c.audit().verify(None, progress.clone()).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.records, 1_000_000);
    assert_eq!(progress.done.load(Ordering::Relaxed), 1_000_000);
    assert_eq!(progress.total.load(Ordering::Relaxed), 1_000_000);
    assert!(v.streams.iter().all(|s| s.checkpoints == 25 && s.unsigned_tail == 0));

    let p = &db.pool;
    let s = "pj-worker-2";
    // Each tampering below is undone before the next; an undo that failed would show as an
    // earlier break than the one the next step expects.
    // Modify one byte of a record's content.
    sqlx::query("UPDATE audit_log SET actor = actor || 'x' WHERE stream_id = $1 AND seq = 123456").bind(s).execute(p).await.unwrap();
    assert_eq!(first_break(&verify(&c).await), (s.into(), 123_456, "modified".into()));
    sqlx::query("UPDATE audit_log SET actor = left(actor, -1) WHERE stream_id = $1 AND seq = 123456").bind(s).execute(p).await.unwrap();

    // Delete one.
    sqlx::query("CREATE TABLE kept AS SELECT * FROM audit_log WHERE stream_id = $1 AND seq = 200000").bind(s).execute(p).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE stream_id = $1 AND seq = 200000").bind(s).execute(p).await.unwrap();
    assert_eq!(first_break(&verify(&c).await), (s.into(), 200_000, "missing".into()));
    sqlx::query("INSERT INTO audit_log SELECT * FROM kept").execute(p).await.unwrap();

    // Reorder two neighbours (swap their positions).
    let swap = |a: i64, b: i64| {
        let p = p.clone();
        async move {
            // Through a free position (seq must stay positive and unique).
            for (from, to) in [(a, 10_000_000), (b, a), (10_000_000, b)] {
                sqlx::query("UPDATE audit_log SET seq = $3 WHERE stream_id = $1 AND seq = $2").bind(s).bind(from).bind(to).execute(&p).await.unwrap();
            }
        }
    };
    swap(50_000, 50_001).await;
    assert_eq!(first_break(&verify(&c).await), (s.into(), 50_000, "reordered".into()));
    swap(50_000, 50_001).await;

    // Insert a forged record between two, correctly hashed and linked to its predecessor, the
    // later ones renumbered and re-hashed to make room (near the head: a few records to redo).
    let at = 249_995i64;
    sqlx::query("CREATE TABLE kept_tail AS SELECT * FROM audit_log WHERE stream_id = $1 AND seq > $2").bind(s).bind(at).execute(p).await.unwrap();
    let rows = sqlx::query(&format!("SELECT {} FROM audit_log WHERE stream_id = $1 AND seq >= $2 ORDER BY seq DESC", pj_audit::pg::RECORD_COLUMNS))
        .bind(s)
        .bind(at)
        .fetch_all(p)
        .await
        .unwrap();
    let recs: Vec<pj_audit::AuditRecord> = rows.iter().map(|r| pj_audit::pg::record_from_row(r).unwrap()).collect();
    for r in recs.iter().filter(|r| r.seq > at) {
        let hash = pj_audit::record_hash(s, r.seq + 1, &r.body, &r.prev_hash);
        sqlx::query("UPDATE audit_log SET seq = $3, hash = $4 WHERE stream_id = $1 AND seq = $2")
            .bind(s)
            .bind(r.seq)
            .bind(r.seq + 1)
            .bind(&hash[..])
            .execute(p)
            .await
            .unwrap();
    }
    let before = recs.iter().find(|r| r.seq == at).unwrap();
    let mut forged_body = before.body.clone();
    forged_body.id = uuid::Uuid::new_v4();
    forged_body.actor = "user:mallory".into();
    let forged = pj_audit::chain_next(s, at, before.hash, forged_body);
    pj_audit::pg::insert_record(p, &forged).await.unwrap();
    assert_eq!(first_break(&verify(&c).await), (s.into(), at + 1, "inserted".into()));
    sqlx::query("DELETE FROM audit_log WHERE stream_id = $1 AND seq > $2").bind(s).bind(at).execute(p).await.unwrap();
    sqlx::query("INSERT INTO audit_log SELECT * FROM kept_tail").execute(p).await.unwrap();
    assert!(verify(&c).await.ok, "every tampering undone");

    // Forge a checkpoint: flip a byte of its signature.
    sqlx::query(
        "UPDATE audit_checkpoints SET signature = overlay(signature placing '\\x00'::bytea from 1 for 1) WHERE stream_id = $1 AND seq = 150000",
    )
    .bind(s)
    .execute(p)
    .await
    .unwrap();
    assert_eq!(first_break(&verify(&c).await), (s.into(), 150_000, "bad_signature".into()));

    // A range after the forged checkpoint verifies; cancel stops early and says so.
    let since = end - chrono::Duration::seconds(10_000);
    let v = c.audit().verify(Some(&since.to_rfc3339()), Arc::new(Progress::default())).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.records, 4 * 10_000, "the records of the last 10 000 s of each stream");
    let cancelled = Arc::new(Progress::default());
    cancelled.cancel.store(true, Ordering::Relaxed);
    let v = c.audit().verify(None, cancelled).await.unwrap();
    assert!(v.cancelled && !v.ok);
    db.drop_db().await;
}

#[tokio::test]
async fn hostile_filters_are_bound_or_refused_and_pages_walk_the_whole_set() {
    let db = TestDb::create("vigil_audit").await;
    let k = key();
    generate(&db.pool, 2, 3_000, 1_000, &k).await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &db, &hex::encode(k.verifying_key().to_bytes())).await;

    // SQL in a text filter is just text: no rows, and the table is still there.
    let f = AuditFilter { actor: Some("'; DROP TABLE audit_log; --".into()), ..Default::default() };
    assert!(c.audit().search(&f, None, 50).await.unwrap().rows.is_empty());
    let f = AuditFilter { actor: Some("x' OR '1'='1".into()), ..Default::default() };
    assert!(c.audit().search(&f, None, 50).await.unwrap().rows.is_empty());
    // A quote inside a real value matches exactly.
    let f = AuditFilter { actor: Some("user:o'brien".into()), ..Default::default() };
    let page = c.audit().search(&f, None, 500).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_log WHERE actor = 'user:o''brien'").fetch_one(&db.pool).await.unwrap();
    assert!(n > 0);
    assert_eq!(page.rows.len() as i64, n);
    // Malformed and huge values are refused with the reason.
    for (f, field) in [
        (AuditFilter { document_id: Some("1 OR 1=1".into()), ..Default::default() }, "document_id"),
        (AuditFilter { category: Some("name'--".into()), ..Default::default() }, "category"),
        (AuditFilter { actor: Some("a".repeat(10_000)), ..Default::default() }, "actor"),
        (AuditFilter { from: Some("2026-13-45".into()), ..Default::default() }, "from"),
        (AuditFilter { action: Some("drop".into()), ..Default::default() }, "action"),
    ] {
        let e = c.audit().search(&f, None, 50).await.unwrap_err();
        assert!(matches!(&e, vigil_core::Error::Validation { field: got, .. } if *got == field), "{field}: {e}");
    }
    let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, 6_000, "nothing was dropped or changed");

    // Keyset pages of a filtered set: every record once, newest first, as SQL orders them.
    let f = AuditFilter { category: Some("ssn".into()), action: Some("deidentify".into()), ..Default::default() };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = c.audit().search(&f, cursor.as_ref(), 97).await.unwrap();
        seen.extend(page.rows.iter().map(|r| (r.stream_id.clone(), r.seq)));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let expected: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stream_id, seq FROM audit_log WHERE category_counts ? 'ssn' AND action = 'deidentify' ORDER BY at DESC, stream_id DESC, seq DESC",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(expected.len() > 300);
    assert_eq!(seen, expected);

    // Summary totals agree with SQL; a record's detail checks its hash and links.
    let sum = c.audit().summary(&f).await.unwrap();
    assert_eq!(sum.records, expected.len() as i64);
    assert_eq!(sum.by_action.get("deidentify"), Some(&(expected.len() as i64)));
    assert_eq!(sum.over_time.iter().map(|b| b.1).sum::<i64>(), sum.records);
    let (st, seq) = &expected[10];
    let d = c.audit().record(st, *seq).await.unwrap();
    assert!(d.hash_ok && d.prev_link_ok == Some(true));
    assert!(d.spans.iter().any(|s| s.2 == "ssn"));

    // Evidence export: the filtered set as CSV, its SHA-256 what the file hashes to, logged.
    let out = dir.path().join("evidence.csv");
    let progress = Progress::default();
    let w = c.audit().export_csv(&f, &out, &progress).await.unwrap();
    assert_eq!(w.rows, expected.len() as u64);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(w.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), expected.len() + 1);
    assert!(text.starts_with("stream_id,seq,id,at,actor,action,"));
    assert!(text.lines().skip(1).all(|l| l.contains(",deidentify,") && l.contains("ssn")));
    let log = c.oplog().list(5, None).await.unwrap();
    assert_eq!(log[0].action, "audit.export");
    assert!(log[0].details.contains(&w.sha256));
    // A cancelled export leaves no file.
    let stopped = Progress::default();
    stopped.cancel.store(true, Ordering::Relaxed);
    let none = dir.path().join("cancelled.csv");
    assert!(c.audit().export_csv(&f, &none, &stopped).await.unwrap().cancelled);
    assert!(!none.exists());
    db.drop_db().await;
}

/// The text of a PDF, whitespace runs made one space.
fn pdf_text(bytes: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(bytes).expect("a readable PDF");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_pdf_report_holds_the_figures_and_its_data_hash_is_that_of_the_csv() {
    use vigil_core::audit::report::thousands;
    let db = TestDb::create("vigil_audit").await;
    let k = key();
    generate(&db.pool, 3, 2_000, 500, &k).await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &db, &hex::encode(k.verifying_key().to_bytes())).await;

    let f = AuditFilter { action: Some("deidentify".into()), ..Default::default() };
    let out = dir.path().join("report.pdf");
    let progress = Arc::new(Progress::default());
    let r = c.audit().export_pdf(&f, &out, progress.clone()).await.unwrap();
    // The open filter was closed at the report's time; the figures are those of that set.
    let closed = AuditFilter { to: Some(r.to.clone()), ..f.clone() };
    let sum = c.audit().summary(&closed).await.unwrap();
    assert!(sum.records > 1_000 && sum.records < 6_000, "{sum:?}");
    assert_eq!(r.records, sum.records as u64);
    assert_eq!(r.verification, "intact");
    assert_eq!(progress.view().done, r.records, "the last stage read every record");

    // A valid PDF: its SHA-256 and size as reported, its pages, the chart image in it, and
    // PDF/A-2u declared in its metadata.
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(r.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
    assert_eq!(r.bytes, bytes.len() as u64);
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(doc.get_pages().len() as u32, r.pages);
    let images = doc
        .objects
        .values()
        .filter(|o| o.as_stream().is_ok_and(|s| s.dict.get(b"Subtype").and_then(|v| v.as_name()).ok() == Some(&b"Image"[..])))
        .count();
    assert_eq!(images, 1, "the records-over-time chart");
    assert!(bytes.windows(11).any(|w| w == b"pdfaid:part"), "PDF/A identification in the XMP metadata");

    // What it says: the figures, the verification, the data hash and how to reproduce it.
    let text = pdf_text(&bytes);
    for needle in [
        format!("Records {}", thousands(sum.records)),
        r.data_sha256.clone(),
        "Result INTACT".into(),
        format!("Checked {} records in 3 streams", thousands(6_000)),
        format!("deidentify {}", thousands(sum.by_action["deidentify"])),
        "Action deidentify".into(),
        "vigil audit export --format csv --to".into(),
        "vigil env select audit".into(),
        format!("Page 1 of {}", r.pages),
    ] {
        assert!(text.contains(&needle), "{needle:?} not in: {text}");
    }
    for (category, n) in &sum.by_category {
        assert!(text.contains(&format!("{category} {}", thousands(n))), "{category} {n} not in: {text}");
    }

    // The data hash is that of the CSV export of the same (closed) filter.
    let csv = dir.path().join("records.csv");
    let w = c.audit().export_csv(&closed, &csv, &Progress::default()).await.unwrap();
    assert_eq!((w.rows, &w.sha256), (r.records, &r.data_sha256));

    // The operator log has the PDF's own hash.
    let log = c.oplog().list(5, None).await.unwrap();
    let entry = log.iter().find(|e| e.action == "audit.export" && e.details.contains("\"pdf\"")).expect("the report in the operator log");
    assert!(entry.details.contains(&r.sha256) && entry.details.contains(&r.data_sha256), "{}", entry.details);

    // A tampered record: the report says BROKEN and where.
    sqlx::query("UPDATE audit_log SET actor = actor || 'x' WHERE stream_id = 'pj-worker-1' AND seq = 1234").execute(&db.pool).await.unwrap();
    let broken = dir.path().join("broken.pdf");
    let r2 = c.audit().export_pdf(&f, &broken, Arc::new(Progress::default())).await.unwrap();
    assert_eq!(r2.verification, "broken");
    let text = pdf_text(&std::fs::read(&broken).unwrap());
    assert!(text.contains("Result BROKEN") && text.contains("modified at #1234") && text.contains("pj-worker-1 #1234 (modified)"), "{text}");

    // No public key pinned: the report is written and says it is not verified, and why.
    let dir2 = tempfile::tempdir().unwrap();
    let c2 = console(&dir2, &db, "").await;
    let unverified = dir2.path().join("unverified.pdf");
    let r3 = c2.audit().export_pdf(&AuditFilter::default(), &unverified, Arc::new(Progress::default())).await.unwrap();
    assert_eq!((r3.verification.as_str(), r3.records), ("not_verified", 6_000));
    let text = pdf_text(&std::fs::read(&unverified).unwrap());
    assert!(text.contains("Result NOT VERIFIED") && text.contains("audit_public_keys"), "{text}");

    // Cancelled: nothing written. A range starting in the future is refused with the reason.
    let stopped = Arc::new(Progress::default());
    stopped.cancel.store(true, Ordering::Relaxed);
    let none = dir.path().join("cancelled.pdf");
    assert!(c.audit().export_pdf(&f, &none, stopped).await.unwrap().cancelled);
    assert!(!none.exists());
    // An end in the future is brought back to the report's time.
    let later = AuditFilter { to: Some((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()), ..f.clone() };
    let r4 = c.audit().export_pdf(&later, &dir.path().join("later.pdf"), Arc::new(Progress::default())).await.unwrap();
    let to = chrono::DateTime::parse_from_rfc3339(&r4.to).unwrap();
    assert!(to <= chrono::Utc::now() && to > chrono::Utc::now() - chrono::Duration::minutes(5), "{}", r4.to);
    assert_eq!(r4.records, r.records);
    let future = AuditFilter { from: Some((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()), ..Default::default() };
    let e = c.audit().export_pdf(&future, &none, Arc::new(Progress::default())).await.unwrap_err();
    assert!(matches!(&e, vigil_core::Error::Validation { field: "from", .. }), "{e}");
    assert!(!none.exists());
    db.drop_db().await;
}

#[tokio::test]
async fn connection_failures_say_what_failed() {
    let db = TestDb::create("vigil_audit").await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &db, "").await;
    let good = c.environments().get("audit").await.unwrap().platform_db.unwrap();
    let kind_with = |mut f: Box<dyn FnMut(&mut PlatformDb)>| {
        let mut d = good.clone();
        f(&mut d);
        d
    };
    let cases: Vec<(PlatformDb, &str)> = vec![
        (kind_with(Box::new(|d| d.host = "no-such-host.invalid".into())), "db_dns"),
        (kind_with(Box::new(|d| d.port = vigil_tests::free_port())), "db_refused"),
        (kind_with(Box::new(|d| d.database = "no_such_database".into())), "db_missing"),
        (kind_with(Box::new(|d| d.auth = DbAuth::Password)), "db_no_password"),
    ];
    for (settings, kind) in cases {
        // no-such-host.invalid is not on this machine: trust is refused there, so it asks for a password.
        let settings = if settings.host.ends_with(".invalid") { PlatformDb { auth: DbAuth::Password, ..settings } } else { settings };
        c.platform_db().set("audit", Some(settings.clone())).await.unwrap();
        if settings.host.ends_with(".invalid") {
            c.platform_db().set_password("audit", "secret").await.unwrap();
        }
        let e = c.platform_db().check().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{e} ({:?})", e.hint());
        assert!(e.hint().is_some());
        c.platform_db().forget_password("audit").await.unwrap();
    }
    // A database without the platform's tables, and a user without the auditor role.
    c.platform_db().set("audit", Some(PlatformDb { database: "postgres".into(), ..good.clone() })).await.unwrap();
    assert_eq!(c.platform_db().check().await.unwrap_err().kind(), "db_not_platform");
    let role = format!("vigil_noaudit_{}", &db.name[db.name.len() - 8..]);
    // The tests' PostgreSQL lets only its superuser in without a password.
    sqlx::query(&format!("CREATE ROLE {role} LOGIN PASSWORD 'no-audit-pw'")).execute(&db.pool).await.unwrap();
    sqlx::query(&format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")).execute(&db.pool).await.unwrap();
    c.platform_db().set("audit", Some(PlatformDb { user: role.clone(), auth: DbAuth::Password, ..good.clone() })).await.unwrap();
    c.platform_db().set_password("audit", "no-audit-pw").await.unwrap();
    let check = c.platform_db().check().await.unwrap();
    assert!(!check.can_read_audit && !check.can_read_jobs, "{check:?}");
    let e = c.audit().search(&AuditFilter::default(), None, 10).await.unwrap_err();
    assert_eq!(e.kind(), "db_permission", "{e}");
    // Every settings change is in the operator log; the password itself is nowhere in it.
    let log = c.oplog().list(100, None).await.unwrap();
    assert!(log.iter().any(|r| r.action == "platform_db.password"));
    assert!(log.iter().all(|r| !r.details.contains("secret")));
    drop(c);
    db.drop_db().await;
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&vigil_tests::platform_db::admin_url()).await.unwrap();
    sqlx::query(&format!("DROP ROLE {role}")).execute(&mut admin).await.unwrap();
}
