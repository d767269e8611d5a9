//! The audit log's PDF evidence report: who made it and when, which records it covers (the
//! filters, their count and the SHA-256 of their CSV export, with the command that writes that
//! CSV again), the chain verification result, totals per action and PHI category, and the
//! records-over-time chart. Written as PDF/A-2u (fonts embedded, all text mapped to Unicode),
//! so it stays readable and searchable in an archive. Times are UTC throughout.
//!
//! Layout is two steps: content is laid out into pages of drawing operations (text measured
//! with the embedded fonts' own advances), then the pages are drawn with krilla, so the footer
//! can say "page i of n".

use super::audit::Query;
use ab_glyph::{Font as _, FontRef};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime as PdfDate, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use vigil_dto::{AuditSummary, AuditVerification};

static REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");
static MONO: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSansMono.ttf");

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
pub const CHART_STYLE: crate::metrics::render::Style =
    crate::metrics::render::Style { width: 760, height: 250, dark: false, titled: false, scale: 2.0, bars: true };

/// A4 in points, and the margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const BOTTOM: f32 = PAGE_H - 60.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;

const INK: (u8, u8, u8) = (0x1f, 0x29, 0x37);
const MUTED: (u8, u8, u8) = (0x6b, 0x72, 0x80);
const RULE: (u8, u8, u8) = (0xd1, 0xd5, 0xdb);
const GOOD: (u8, u8, u8) = (0x04, 0x78, 0x57);
const BAD: (u8, u8, u8) = (0xb9, 0x1c, 0x1c);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Face {
    Regular,
    Bold,
    Mono,
}

#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, size: f32, face: Face, color: (u8, u8, u8), text: String },
    Rule { x1: f32, x2: f32, y: f32, color: (u8, u8, u8) },
    Image { x: f32, y: f32, w: f32, h: f32 },
}

struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    mono: FontRef<'static>,
}

impl Faces {
    fn load() -> Faces {
        let f = |b: &'static [u8]| FontRef::try_from_slice(b).expect("bundled font");
        Faces { regular: f(REGULAR), bold: f(BOLD), mono: f(MONO) }
    }

    fn get(&self, face: Face) -> &FontRef<'static> {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let f = self.get(face);
        let em = f.units_per_em().unwrap_or(2048.0);
        text.chars().map(|c| f.h_advance_unscaled(f.glyph_id(c))).sum::<f32>() * size / em
    }

    /// `text` with every character the face has no glyph for shown as `?` (PDF/A forbids
    /// the missing-glyph box, and a reader must see that something was there).
    fn printable(&self, face: Face, text: &str) -> String {
        let f = self.get(face);
        text.chars().map(|c| if c == ' ' || f.glyph_id(c).0 != 0 { c } else { '?' }).collect()
    }
}

/// Pages of drawing operations, filled top to bottom.
struct Layout<'a> {
    faces: &'a Faces,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(faces: &'a Faces) -> Self {
        Layout { faces, pages: vec![vec![]], y: MARGIN }
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    fn new_page(&mut self) {
        self.pages.push(vec![]);
        self.y = MARGIN;
    }

    /// Starts a new page unless `h` more points fit on this one.
    fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, size: f32, face: Face, color: (u8, u8, u8), text: &str) {
        let text = self.faces.printable(face, text);
        self.push(Op::Text { x, y: self.y + size, size, face, color, text });
    }

    /// Splits `text` into lines no wider than `width` (at spaces; a word too long for a line,
    /// such as a hash, is split where it must be).
    fn wrap(&self, face: Face, size: f32, width: f32, text: &str) -> Vec<String> {
        let mut lines = vec![];
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if self.faces.width(face, size, &candidate) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if !line.is_empty() && self.faces.width(face, size, &next) > width {
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                } else {
                    line = next;
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn paragraph(&mut self, size: f32, face: Face, color: (u8, u8, u8), text: &str) {
        for line in self.wrap(face, size, WIDTH, text) {
            self.room(size * 1.4);
            self.text(MARGIN, size, face, color, &line);
            self.y += size * 1.4;
        }
    }

    fn heading(&mut self, text: &str) {
        self.room(60.0);
        self.y += 10.0;
        self.text(MARGIN, 12.5, Face::Bold, INK, text);
        self.y += 18.0;
        self.push(Op::Rule { x1: MARGIN, x2: MARGIN + WIDTH, y: self.y, color: RULE });
        self.y += 8.0;
    }

    /// A label and its value beside it (wrapped in its column; a hash in mono fits one line).
    fn field(&mut self, label: &str, value: &str, face: Face, color: (u8, u8, u8)) {
        const LABEL_W: f32 = 120.0;
        let size = if face == Face::Mono { 8.8 } else { 9.5 };
        let lines = self.wrap(face, size, WIDTH - LABEL_W, value);
        self.room(size * 1.45 * lines.len() as f32);
        self.text(MARGIN, size, Face::Regular, MUTED, label);
        for line in lines {
            self.text(MARGIN + LABEL_W, size, face, color, &line);
            self.y += size * 1.45;
        }
        self.y += 2.0;
    }

    /// A table `width` wide: column headers, relative widths, which columns are numbers
    /// (right-aligned), and rows; the header is repeated on each page the table runs onto.
    fn table(&mut self, width: f32, headers: &[&str], widths: &[f32], numeric: &[bool], rows: &[Vec<(String, (u8, u8, u8))>]) {
        let size = 9.0;
        let line_h = size * 1.5;
        let total: f32 = widths.iter().sum();
        let cols: Vec<(f32, f32)> = widths
            .iter()
            .scan(MARGIN, |x, w| {
                let col = (*x, w / total * width);
                *x += col.1;
                Some(col)
            })
            .collect();
        // Text after a right-aligned column keeps a gap from it.
        let left = |i: usize| if i > 0 { cols[i].0 + 10.0 } else { cols[i].0 };
        let header = |l: &mut Layout| {
            for (i, h) in headers.iter().enumerate() {
                let (x, w) = cols[i];
                let tx = if numeric[i] { x + w - 4.0 - l.faces.width(Face::Bold, size, h) } else { left(i) };
                l.text(tx, size, Face::Bold, MUTED, h);
            }
            l.y += line_h;
            l.push(Op::Rule { x1: MARGIN, x2: MARGIN + width, y: l.y - 3.0, color: RULE });
        };
        self.room(line_h * 3.0);
        header(self);
        for row in rows {
            let cells: Vec<Vec<String>> = row.iter().enumerate().map(|(i, (v, _))| self.wrap(Face::Regular, size, cols[i].1 - 14.0, v)).collect();
            let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h;
            if self.y + h > BOTTOM {
                self.new_page();
                header(self);
            }
            let top = self.y;
            for (i, lines) in cells.iter().enumerate() {
                let (x, w) = cols[i];
                self.y = top;
                for line in lines {
                    let tx = if numeric[i] { x + w - 4.0 - self.faces.width(Face::Regular, size, line) } else { left(i) };
                    self.text(tx, size, Face::Regular, row[i].1, line);
                    self.y += line_h;
                }
            }
            self.y = top + h;
        }
        self.y += 6.0;
    }

    fn image(&mut self, w: f32, h: f32) {
        self.room(h + 6.0);
        self.push(Op::Image { x: MARGIN, y: self.y, w, h });
        self.y += h + 6.0;
    }
}

/// The filters as the report lists them (`any` where none is set; times in UTC).
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
            let rows: Vec<Vec<(String, (u8, u8, u8))>> = v
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
    let rows = |m: &std::collections::BTreeMap<String, i64>| -> Vec<Vec<(String, (u8, u8, u8))>> {
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
        l.image(draw_w, draw_w * h as f32 / w as f32);
        l.paragraph(8.5, Face::Regular, MUTED, &format!("Records per {} (UTC).", r.bucket));
    }
    l
}

/// The report as a PDF file's bytes, and its page count.
pub fn pdf(r: &Report) -> Result<(Vec<u8>, usize), String> {
    let faces = Faces::load();
    let chart = r.chart_png.as_ref().map(|png| Image::from_png(png.clone().into(), false)).transpose()?;
    let chart_size = chart.as_ref().map(|i| (i.size().0, i.size().1));
    let layout = lay_out(r, &faces, chart_size);
    let fonts = {
        let f = |b: &'static [u8]| Font::new(b.into(), 0).ok_or("a bundled font could not be read");
        [(Face::Regular, f(REGULAR)?), (Face::Bold, f(BOLD)?), (Face::Mono, f(MONO)?)]
    };
    let font = |face: Face| fonts.iter().find(|(f, _)| *f == face).map(|(_, f)| f.clone()).expect("every face");

    let configuration = ConfigurationBuilder::new().with_archival_validator(Archival::A2_U).finish().map_err(|e| format!("{e:?}"))?;
    let mut doc = Document::new_with(SerializeSettings { configuration, ..Default::default() });
    let t = r.generated_at;
    use chrono::{Datelike, Timelike};
    let date = PdfDate::new(t.year() as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    doc.set_metadata(
        Metadata::new()
            .title(format!("De-identification audit evidence report: {}", r.environment))
            .authors(vec![r.generated_by.clone()])
            .creator(format!("Vigil {}", r.vigil_version))
            .language("en".into())
            .creation_date(date)
            .keywords(vec![format!("data-sha256:{}", r.data_sha256)]),
    );
    let pages = layout.pages.len();
    let footer_left = faces.printable(Face::Regular, &format!("Vigil · audit evidence report · {} · {}", r.environment, utc(&r.generated_at)));
    for (i, ops) in layout.pages.iter().enumerate() {
        let mut page = doc.start_page_with(PageSettings::new(Size::from_wh(PAGE_W, PAGE_H).expect("A4")));
        let mut s = page.surface();
        let fill = |c: (u8, u8, u8)| Some(Fill { paint: rgb::Color::new(c.0, c.1, c.2).into(), ..Default::default() });
        let draw_text = |s: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, face: Face, color: (u8, u8, u8), text: &str| {
            s.set_fill(fill(color));
            s.draw_text(Point::from_xy(x, y), font(face), size, text, false, TextDirection::Auto);
        };
        for op in ops {
            match op {
                Op::Text { x, y, size, face, color, text } => draw_text(&mut s, *x, *y, *size, *face, *color, text),
                Op::Rule { x1, x2, y, color } => {
                    let mut p = PathBuilder::new();
                    p.move_to(*x1, *y);
                    p.line_to(*x2, *y);
                    if let Some(path) = p.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke { paint: rgb::Color::new(color.0, color.1, color.2).into(), width: 0.6, ..Default::default() }));
                        s.draw_path(&path);
                        s.set_stroke(None);
                    }
                }
                Op::Image { x, y, w, h } => {
                    if let Some(img) = &chart {
                        s.push_transform(&Transform::from_translate(*x, *y));
                        s.draw_image(img.clone(), Size::from_wh(*w, *h).ok_or("empty chart")?);
                        s.pop();
                        let mut p = PathBuilder::new();
                        p.push_rect(Rect::from_xywh(*x, *y, *w, *h).ok_or("empty chart")?);
                        if let Some(path) = p.finish() {
                            s.set_fill(None);
                            s.set_stroke(Some(Stroke { paint: rgb::Color::new(RULE.0, RULE.1, RULE.2).into(), width: 0.6, ..Default::default() }));
                            s.draw_path(&path);
                            s.set_stroke(None);
                        }
                    }
                }
            }
        }
        let y = PAGE_H - 32.0;
        draw_text(&mut s, MARGIN, y, 7.5, Face::Regular, MUTED, &footer_left);
        let right = format!("Page {} of {pages}", i + 1);
        let x = MARGIN + WIDTH - faces.width(Face::Regular, 7.5, &right);
        draw_text(&mut s, x, y, 7.5, Face::Regular, MUTED, &right);
        s.finish();
        page.finish();
    }
    let bytes = doc.finish().map_err(|e| format!("the PDF could not be written: {e:?}"))?;
    Ok((bytes, pages))
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
    fn long_words_are_split_and_lines_fit() {
        let faces = Faces::load();
        let l = Layout::new(&faces);
        let hash = "ab".repeat(64);
        let lines = l.wrap(Face::Mono, 10.0, 200.0, &format!("sha {hash} end"));
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|s| faces.width(Face::Mono, 10.0, s) <= 200.0), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("sha{hash}end"));
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
                if let Op::Text { x, y, size, face, text, .. } = op {
                    assert!(*y >= MARGIN && *y <= BOTTOM, "{text} at y {y}");
                    assert!(*x >= MARGIN && x + faces.width(*face, *size, text) <= MARGIN + WIDTH + 0.5, "{text} at x {x}");
                    rows_seen += text.starts_with("category_") as usize;
                }
            }
        }
        assert_eq!(rows_seen, 120, "every category once");
        // A table cut by a page break repeats its header on the next page.
        let headers = l.pages.iter().filter(|p| p.iter().any(|op| matches!(op, Op::Text { text, .. } if text == "PHI category"))).count();
        assert!(headers >= 2, "{headers}");
        let (bytes, pages) = pdf(&r).unwrap();
        assert_eq!(pages, l.pages.len());
        assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn characters_without_a_glyph_become_question_marks() {
        let faces = Faces::load();
        assert_eq!(faces.printable(Face::Regular, "worker:é 名"), "worker:é ?");
    }
}
