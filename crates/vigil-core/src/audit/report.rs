//! The audit log's PDF evidence report: who made it and when, which records it covers (the
//! filters, their count and the SHA-256 of their CSV export, with the command that writes that
//! CSV again), the chain verification result, totals per action and PHI category, and the
//! records-over-time chart. Laid out and drawn by `vigil_evidence::pdf` (PDF/A-2u, fonts
//! embedded). Times are UTC throughout.

use super::query::Query;
use vigil_dto::{AuditSummary, AuditVerification};
use vigil_evidence::pdf::{Cell, Face, Faces, Layout, Meta, BAD, GOOD, INK, MARGIN, MUTED, WIDTH};

/// What the report says.
#[derive(Debug, Clone)]
pub struct Report {
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub generated_by: String,
    pub vigil_version: String,
    pub environment: String,
    pub region: String,
    /// host:port/database as user.
    pub database: String,
    /// (label, value) of every filter, `any` where none is set.
    pub filters: Vec<(String, String)>,
    pub summary: AuditSummary,
    /// SHA-256 (hex) of the CSV export of the covered records.
    pub data_sha256: String,
    /// The commands that write that CSV again.
    pub reproduce: Vec<String>,
    pub verification: Verification,
    /// The records-over-time chart as PNG, if there is anything to draw.
    pub chart_png: Option<Vec<u8>>,
    pub bucket: String,
}

#[derive(Debug, Clone)]
pub enum Verification {
    Done(AuditVerification),
    /// Why no verification is in the report.
    NotRun(String),
}

/// How the records-over-time chart is drawn for the report (PNG, twice the size it is shown).
pub const CHART_STYLE: vigil_evidence::chart::Style =
    vigil_evidence::chart::Style { width: 760, height: 250, dark: false, titled: false, scale: 2.0, bars: true };

pub fn filter_lines(q: &Query) -> Vec<(String, String)> {
    let any = || "any".to_string();
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>, none: &str| t.as_ref().map(utc).unwrap_or_else(|| none.to_string());
    vec![
        ("From".into(), time(&q.from, "the first record")),
        ("To (before)".into(), time(&q.to, "now")),
        ("Actor".into(), q.actor.clone().unwrap_or_else(any)),
        ("Action".into(), q.action.clone().unwrap_or_else(any)),
        ("Document id".into(), q.document_id.map(|u| u.hyphenated().to_string()).unwrap_or_else(any)),
        ("Job id".into(), q.job_id.map(|u| u.hyphenated().to_string()).unwrap_or_else(any)),
        ("PHI category".into(), q.category.clone().unwrap_or_else(any)),
        ("Stream".into(), q.stream.clone().unwrap_or_else(any)),
    ]
}

/// The commands that write the CSV of exactly the records `q` selects in `environment`.
pub fn reproduce(environment: &str, q: &Query) -> Vec<String> {
    let select = format!("vigil env select {}", shell_word(environment));
    let mut cmd = "vigil audit export --format csv".to_string();
    let time = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let mut arg = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            cmd.push_str(&format!(" --{name} {}", shell_word(&v)));
        }
    };
    arg("from", q.from.as_ref().map(time));
    arg("to", q.to.as_ref().map(time));
    arg("actor", q.actor.clone());
    arg("action", q.action.clone());
    arg("document", q.document_id.map(|u| u.hyphenated().to_string()));
    arg("job", q.job_id.map(|u| u.hyphenated().to_string()));
    arg("category", q.category.clone());
    arg("stream", q.stream.clone());
    cmd.push_str(" --out records.csv");
    vec![select, cmd]
}

/// `s` as one POSIX shell word: as it is when that is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:+/@=,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A bucket of the chart in words: `hour`, `5 minutes`, `day`.
pub fn bucket_label(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s % 86_400 == 0 && s != 7 * 86_400 => (s / 86_400, "day"),
        s if s == 7 * 86_400 => (1, "week"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        unit.to_string()
    } else {
        format!("{n} {unit}s")
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: impl std::fmt::Display) -> String {
    let s = n.to_string();
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &s));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

pub fn utc(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn lay_out<'a>(r: &Report, faces: &'a Faces, chart_size: Option<(u32, u32)>) -> Layout<'a> {
    let mut l = Layout::new(faces);
    l.text(MARGIN, 18.0, Face::Bold, INK, "De-identification audit evidence report");
    l.y += 26.0;
    l.paragraph(10.0, Face::Regular, MUTED, &format!("Patient Journey platform · environment {} ({})", r.environment, r.region));
    l.y += 4.0;

    l.heading("Report");
    l.field("Generated at", &utc(&r.generated_at), Face::Regular, INK);
    l.field("Generated by", &format!("{} {}", r.generated_by, r.vigil_version), Face::Regular, INK);
    l.field("Platform database", &r.database, Face::Regular, INK);
    l.field(
        "This file",
        "Its SHA-256 is recorded in Vigil's operator log (action audit.export, format pdf) when it is written; compare it with the file you hold.",
        Face::Regular,
        INK,
    );

    l.heading("Records covered");
    for (k, v) in &r.filters {
        l.field(k, v, Face::Regular, INK);
    }
    l.field("Records", &thousands(r.summary.records), Face::Bold, INK);
    l.field("SHA-256 of the data", &r.data_sha256, Face::Mono, INK);
    l.paragraph(
        8.5,
        Face::Regular,
        MUTED,
        "The SHA-256 above is that of the CSV export of exactly these records (every column, chain fields included, oldest first). These commands write that file again, so anyone can check it:",
    );
    l.y += 2.0;
    for cmd in &r.reproduce {
        for line in l.wrap(Face::Mono, 8.0, WIDTH - 12.0, cmd) {
            l.room(12.0);
            l.text(MARGIN + 12.0, 8.0, Face::Mono, INK, &line);
            l.y += 11.0;
        }
    }

    l.heading("Integrity verification");
    match &r.verification {
        Verification::NotRun(why) => {
            l.field("Result", "NOT VERIFIED", Face::Bold, BAD);
            l.field("Why", why, Face::Regular, INK);
        }
        Verification::Done(v) => {
            let (result, color) = if v.ok { ("INTACT", GOOD) } else { ("BROKEN", BAD) };
            l.field("Result", result, Face::Bold, color);
            let what = if v.ok {
                "Every record links to the one before it in its stream, and every signed checkpoint matches the chain and the public keys pinned for this environment."
            } else {
                "At least one stream's chain does not hold; the first break of each such stream is named below."
            };
            l.field("Meaning", what, Face::Regular, INK);
            let range = match &v.since {
                Some(s) => format!("records from {s} to each stream's newest record"),
                None => "every record of every stream, from its first record to its newest".into(),
            };
            l.field("Range", &range, Face::Regular, INK);
            let streams = vigil_dto::units::counted(v.streams.len() as u64, "stream");
            l.field("Checked", &format!("{} records in {streams}", thousands(v.records)), Face::Regular, INK);
            let rows: Vec<Vec<Cell>> = v
                .streams
                .iter()
                .map(|s| {
                    let (state, color) = match &s.first_break {
                        None => ("intact".to_string(), GOOD),
                        Some(b) => (format!("{} at #{}", b.kind, b.seq), BAD),
                    };
                    vec![
                        (s.stream_id.clone(), INK),
                        (thousands(s.records), INK),
                        (if s.last_seq >= s.first_seq { format!("#{}–#{}", s.first_seq, s.last_seq) } else { format!("from #{}", s.first_seq) }, INK),
                        (thousands(s.checkpoints), INK),
                        (thousands(s.unsigned_tail), INK),
                        (state, color),
                    ]
                })
                .collect();
            l.y += 4.0;
            l.table(
                WIDTH,
                &["Stream", "Records", "Sequence", "Checkpoints", "Unsigned", "Result"],
                &[3.0, 1.3, 2.0, 1.4, 1.3, 2.4],
                &[false, true, false, true, true, false],
                &rows,
            );
            for s in &v.streams {
                if let Some(b) = &s.first_break {
                    l.paragraph(8.5, Face::Regular, BAD, &format!("{} #{} ({}): {}", s.stream_id, b.seq, b.kind, b.detail));
                }
            }
            l.paragraph(
                8.5,
                Face::Regular,
                MUTED,
                "Unsigned: records after a stream's newest signed checkpoint; they are chained but not yet covered by a signature.",
            );
        }
    }

    l.heading("Totals");
    let rows = |m: &std::collections::BTreeMap<String, i64>| -> Vec<Vec<Cell>> {
        m.iter().map(|(k, v)| vec![(k.clone(), INK), (thousands(v), INK)]).collect()
    };
    if r.summary.by_action.is_empty() {
        l.paragraph(9.5, Face::Regular, MUTED, "No records match these filters.");
    } else {
        l.table(WIDTH * 0.6, &["Action", "Records"], &[3.0, 1.0], &[false, true], &rows(&r.summary.by_action));
    }
    if !r.summary.by_category.is_empty() {
        l.y += 4.0;
        l.table(WIDTH * 0.6, &["PHI category", "Items de-identified"], &[3.0, 1.0], &[false, true], &rows(&r.summary.by_category));
    }

    if let (Some((w, h)), Some(_)) = (chart_size, &r.chart_png) {
        l.heading("Records over time");
        let draw_w = WIDTH;
        l.image(0, draw_w, draw_w * h as f32 / w as f32);
        l.paragraph(8.5, Face::Regular, MUTED, &format!("Records per {} (UTC).", r.bucket));
    }
    l
}

/// The report as a PDF file's bytes, and its page count.
pub fn pdf(r: &Report) -> Result<(Vec<u8>, usize), String> {
    let faces = Faces::load();
    let chart_size = r.chart_png.as_deref().map(vigil_evidence::pdf::png_size).transpose()?;
    let layout = lay_out(r, &faces, chart_size);
    let meta = Meta {
        title: format!("De-identification audit evidence report: {}", r.environment),
        author: r.generated_by.clone(),
        creator: format!("Vigil {}", r.vigil_version),
        keywords: vec![format!("data-sha256:{}", r.data_sha256)],
        created: r.generated_at,
        footer: format!("Vigil · audit evidence report · {} · {}", r.environment, utc(&r.generated_at)),
    };
    vigil_evidence::pdf::render(&layout, r.chart_png.as_slice(), &meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn buckets_read_as_words() {
        assert_eq!(bucket_label(60), "minute");
        assert_eq!(bucket_label(900), "15 minutes");
        assert_eq!(bucket_label(3 * 3600), "3 hours");
        assert_eq!(bucket_label(86_400), "day");
        assert_eq!(bucket_label(7 * 86_400), "week");
        assert_eq!(bucket_label(30 * 86_400), "30 days");
    }

    #[test]
    fn the_reproducing_command_quotes_what_a_shell_would_split() {
        let q = Query {
            from: Some("2026-11-24T08:00:00+01:00".parse().unwrap()),
            to: Some("2026-11-24T09:30:00Z".parse().unwrap()),
            actor: Some("o'brien; rm -rf /".into()),
            action: Some("view".into()),
            ..Default::default()
        };
        assert_eq!(
            reproduce("prod eu", &q),
            ["vigil env select 'prod eu'".to_string(), "vigil audit export --format csv --from 2026-11-24T07:00:00Z --to 2026-11-24T09:30:00Z --actor 'o'\\''brien; rm -rf /' --action view --out records.csv".to_string()]
        );
        let lines = filter_lines(&q);
        assert_eq!(lines[0].1, "2026-11-24 07:00:00 UTC");
        assert_eq!(lines[4].1, "any");
    }

    fn report(streams: usize, categories: usize) -> Report {
        let stream = |i: usize| vigil_dto::StreamVerification {
            stream_id: format!("pj-worker-{i}"),
            records: 1000,
            checkpoints: 10,
            first_seq: 1,
            last_seq: 1000,
            unsigned_tail: 0,
            first_break: (i == 7).then(|| vigil_dto::AuditBreak {
                seq: 500,
                kind: "modified".into(),
                detail: "record 500 does not match its hash".into(),
            }),
        };
        Report {
            generated_at: "2026-11-24T08:00:00Z".parse().unwrap(),
            generated_by: "alice, with the Vigil app".into(),
            vigil_version: "0.1.0".into(),
            environment: "prod".into(),
            region: "eu-west-1".into(),
            database: "db.example.com:5432/patient_journey as auditor".into(),
            filters: filter_lines(&Query::default()),
            summary: AuditSummary {
                records: 1000 * streams as i64,
                by_category: (0..categories).map(|i| (format!("category_{i}"), i as i64)).collect(),
                by_action: [("deidentify".to_string(), 1000 * streams as i64)].into_iter().collect(),
                over_time: vec![],
                bucket_seconds: 3600,
            },
            data_sha256: "ab".repeat(32),
            reproduce: reproduce("prod", &Query::default()),
            verification: Verification::Done(AuditVerification {
                ok: false,
                cancelled: false,
                since: None,
                streams: (0..streams).map(stream).collect(),
                records: 1000 * streams as u64,
            }),
            chart_png: None,
            bucket: "hour".into(),
        }
    }

    #[test]
    fn long_tables_run_onto_more_pages_within_the_margins() {
        let faces = Faces::load();
        let r = report(60, 120);
        let l = lay_out(&r, &faces, None);
        assert!(l.pages.len() >= 4, "{} pages", l.pages.len());
        let mut rows_seen = 0;
        for page in &l.pages {
            for op in page {
                if let vigil_evidence::pdf::Op::Text { x, y, size, face, text, .. } = op {
                    assert!(*y >= MARGIN && *y <= vigil_evidence::pdf::BOTTOM, "{text} at y {y}");
                    assert!(*x >= MARGIN && x + faces.width(*face, *size, text) <= MARGIN + WIDTH + 0.5, "{text} at x {x}");
                    rows_seen += text.starts_with("category_") as usize;
                }
            }
        }
        assert_eq!(rows_seen, 120, "every category once");
        // A table cut by a page break repeats its header on the next page.
        let headers =
            l.pages.iter().filter(|p| p.iter().any(|op| matches!(op, vigil_evidence::pdf::Op::Text { text, .. } if text == "PHI category"))).count();
        assert!(headers >= 2, "{headers}");
        let (bytes, pages) = pdf(&r).unwrap();
        assert_eq!(pages, l.pages.len());
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
