//! PDF documents: content laid out into A4 pages of drawing operations (text measured with the
//! bundled DejaVu fonts' own advances, wrapped, tables whose header repeats on each page they
//! run onto, images), then drawn with krilla as PDF/A-2u (fonts subset and embedded, all text
//! mapped to Unicode), so they archive and their text can be searched. Two steps, so a footer
//! can say "page i of n". Used by the audit evidence report, and later by deploy and drill
//! evidence.

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

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
static MONO: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");

/// A4 in points, and the margins.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 50.0;
pub const BOTTOM: f32 = PAGE_H - 60.0;
pub const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;

pub const INK: (u8, u8, u8) = (0x1f, 0x29, 0x37);
pub const MUTED: (u8, u8, u8) = (0x6b, 0x72, 0x80);
pub const RULE: (u8, u8, u8) = (0xd1, 0xd5, 0xdb);
pub const GOOD: (u8, u8, u8) = (0x04, 0x78, 0x57);
pub const BAD: (u8, u8, u8) = (0xb9, 0x1c, 0x1c);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Face {
    Regular,
    Bold,
    Mono,
}

#[derive(Debug, Clone)]
pub enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        color: (u8, u8, u8),
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        color: (u8, u8, u8),
    },
    /// The `index`th image given to [`render`].
    Image {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// A table cell: its text and colour.
pub type Cell = (String, (u8, u8, u8));

pub struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    mono: FontRef<'static>,
}

impl Faces {
    pub fn load() -> Faces {
        let f = |b: &'static [u8]| FontRef::try_from_slice(b).expect("bundled font");
        Faces { regular: f(REGULAR), bold: f(BOLD), mono: f(MONO) }
    }

    pub fn get(&self, face: Face) -> &FontRef<'static> {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    pub fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let f = self.get(face);
        let em = f.units_per_em().unwrap_or(2048.0);
        text.chars().map(|c| f.h_advance_unscaled(f.glyph_id(c))).sum::<f32>() * size / em
    }

    /// `text` with every character the face has no glyph for shown as `?` (PDF/A forbids
    /// the missing-glyph box, and a reader must see that something was there).
    pub fn printable(&self, face: Face, text: &str) -> String {
        let f = self.get(face);
        text.chars().map(|c| if c == ' ' || f.glyph_id(c).0 != 0 { c } else { '?' }).collect()
    }
}

/// Pages of drawing operations, filled top to bottom.
pub struct Layout<'a> {
    pub faces: &'a Faces,
    pub pages: Vec<Vec<Op>>,
    /// Where the next line goes, from the top of the page.
    pub y: f32,
}

impl<'a> Layout<'a> {
    pub fn new(faces: &'a Faces) -> Self {
        Layout { faces, pages: vec![vec![]], y: MARGIN }
    }

    pub fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    pub fn new_page(&mut self) {
        self.pages.push(vec![]);
        self.y = MARGIN;
    }

    /// Starts a new page unless `h` more points fit on this one.
    pub fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    pub fn text(&mut self, x: f32, size: f32, face: Face, color: (u8, u8, u8), text: &str) {
        let text = self.faces.printable(face, text);
        self.push(Op::Text { x, y: self.y + size, size, face, color, text });
    }

    /// Splits `text` into lines no wider than `width` (at spaces; a word too long for a line,
    /// such as a hash, is split where it must be).
    pub fn wrap(&self, face: Face, size: f32, width: f32, text: &str) -> Vec<String> {
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

    pub fn paragraph(&mut self, size: f32, face: Face, color: (u8, u8, u8), text: &str) {
        for line in self.wrap(face, size, WIDTH, text) {
            self.room(size * 1.4);
            self.text(MARGIN, size, face, color, &line);
            self.y += size * 1.4;
        }
    }

    pub fn heading(&mut self, text: &str) {
        self.room(60.0);
        self.y += 10.0;
        self.text(MARGIN, 12.5, Face::Bold, INK, text);
        self.y += 18.0;
        self.push(Op::Rule { x1: MARGIN, x2: MARGIN + WIDTH, y: self.y, color: RULE });
        self.y += 8.0;
    }

    /// A label and its value beside it (wrapped in its column; a hash in mono fits one line).
    pub fn field(&mut self, label: &str, value: &str, face: Face, color: (u8, u8, u8)) {
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
    pub fn table(&mut self, width: f32, headers: &[&str], widths: &[f32], numeric: &[bool], rows: &[Vec<Cell>]) {
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

    /// The `index`th image given to [`render`], `w` × `h` points.
    pub fn image(&mut self, index: usize, w: f32, h: f32) {
        self.room(h + 6.0);
        self.push(Op::Image { index, x: MARGIN, y: self.y, w, h });
        self.y += h + 6.0;
    }
}

/// The filters as the report lists them (`any` where none is set; times in UTC).
/// What a document says about itself, and the footer of every page (left; "Page i of n" right).
#[derive(Debug, Clone)]
pub struct Meta {
    pub title: String,
    pub author: String,
    pub creator: String,
    pub keywords: Vec<String>,
    pub created: chrono::DateTime<chrono::Utc>,
    pub footer: String,
}

/// The pixel size of a PNG, to lay it out before rendering.
pub fn png_size(png: &[u8]) -> Result<(u32, u32), String> {
    let img = Image::from_png(png.to_vec().into(), false)?;
    Ok((img.size().0, img.size().1))
}

/// Draws `layout`'s pages as PDF/A-2u (fonts subset and embedded, text mapped to Unicode) with
/// `images` (PNG) where its image operations are; returns the bytes and the page count.
pub fn render(layout: &Layout, images: &[Vec<u8>], meta: &Meta) -> Result<(Vec<u8>, usize), String> {
    let faces = layout.faces;
    let images = images.iter().map(|png| Image::from_png(png.clone().into(), false)).collect::<Result<Vec<_>, _>>()?;
    let fonts = {
        let f = |b: &'static [u8]| Font::new(b.into(), 0).ok_or("a bundled font could not be read");
        [(Face::Regular, f(REGULAR)?), (Face::Bold, f(BOLD)?), (Face::Mono, f(MONO)?)]
    };
    let font = |face: Face| fonts.iter().find(|(f, _)| *f == face).map(|(_, f)| f.clone()).expect("every face");

    let configuration = ConfigurationBuilder::new().with_archival_validator(Archival::A2_U).finish().map_err(|e| format!("{e:?}"))?;
    let mut doc = Document::new_with(SerializeSettings { configuration, ..Default::default() });
    let t = meta.created;
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
            .title(meta.title.clone())
            .authors(vec![meta.author.clone()])
            .creator(meta.creator.clone())
            .language("en".into())
            .creation_date(date)
            .keywords(meta.keywords.clone()),
    );
    let pages = layout.pages.len();
    let footer_left = faces.printable(Face::Regular, &meta.footer);
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
                Op::Image { index, x, y, w, h } => {
                    let img = images.get(*index).ok_or("an image the layout names was not given")?;
                    s.push_transform(&Transform::from_translate(*x, *y));
                    s.draw_image(img.clone(), Size::from_wh(*w, *h).ok_or("an empty image")?);
                    s.pop();
                    let mut p = PathBuilder::new();
                    p.push_rect(Rect::from_xywh(*x, *y, *w, *h).ok_or("an empty image")?);
                    if let Some(path) = p.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke { paint: rgb::Color::new(RULE.0, RULE.1, RULE.2).into(), width: 0.6, ..Default::default() }));
                        s.draw_path(&path);
                        s.set_stroke(None);
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
    fn characters_without_a_glyph_become_question_marks() {
        let faces = Faces::load();
        assert_eq!(faces.printable(Face::Regular, "worker:é 名"), "worker:é ?");
    }

    #[test]
    fn an_image_the_layout_names_must_be_given() {
        let faces = Faces::load();
        let mut l = Layout::new(&faces);
        l.paragraph(10.0, Face::Regular, INK, "text");
        l.image(0, 100.0, 50.0);
        let meta =
            Meta { title: "t".into(), author: "a".into(), creator: "c".into(), keywords: vec![], created: chrono::Utc::now(), footer: "f".into() };
        assert!(render(&l, &[], &meta).unwrap_err().contains("not given"));
    }
}
