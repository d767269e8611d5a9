//! Replacement of detected identifiers: by category tag (`[NAME]`) or by surrogates that stay
//! consistent within a document (the same name always becomes the same other name), and dates
//! shifted by a per-patient offset (or reduced to the year, or tagged).

use crate::lexicon;
use crate::{detect, Category, Span};
use chrono::{Datelike, Duration, NaiveDate};
use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceMode {
    /// `[NAME]`, `[PHONE]`, ...
    Tag,
    /// Realistic stand-ins, the same for the same original within one document.
    Surrogate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateMode {
    /// Every date of a patient moves by the same number of days (1 to 364 back).
    Shift,
    /// Only the year is kept: `[DATE 2021]`.
    Year,
    /// `[DATE]`.
    Tag,
}

#[derive(Clone)]
pub struct Options {
    pub replace: ReplaceMode,
    pub dates: DateMode,
    /// Secret for date offsets and surrogates; without it, offsets could be recomputed.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options").field("replace", &self.replace).field("dates", &self.dates).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Deidentified {
    pub text: String,
    /// Byte offsets into the input text.
    pub spans: Vec<Span>,
    pub counts: BTreeMap<Category, i64>,
    /// The offset applied to this document's dates, when shifting.
    pub date_shift_days: Option<i64>,
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn num(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// Days (negative) by which a patient's dates move: 1 to 364, fixed per patient and key.
pub fn shift_days(key: &[u8], patient_key: &str) -> i64 {
    -1 - (num(&mac(key, &[b"pj-date-shift/1", patient_key.as_bytes()])) % 364) as i64
}

/// De-identifies `text`. `patient_key` fixes the date offset (a patient identifier from the
/// document's metadata); without it, the first MRN in the text is used, else `doc_id`.
/// `doc_id` (e.g. the source SHA-256) scopes surrogates to the document.
pub fn deidentify(text: &str, opts: &Options, patient_key: Option<&str>, doc_id: &[u8]) -> Deidentified {
    let spans = detect(text);
    let mut counts = BTreeMap::new();
    for s in &spans {
        *counts.entry(s.category).or_insert(0) += 1;
    }
    let mrn = spans.iter().find(|s| s.category == Category::Mrn).map(|s| &text[s.start..s.end]);
    let patient = patient_key.or(mrn).map(str::to_string).unwrap_or_else(|| hex::encode(doc_id));
    let shift = (opts.dates == DateMode::Shift).then(|| shift_days(&opts.key, &patient));
    let mut r = Replacer { opts, doc_key: mac(&opts.key, &[b"pj-surrogate/1", doc_id]), shift, memo: HashMap::new() };
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in &spans {
        out.push_str(&text[at..s.start]);
        out.push_str(&r.replace(s.category, &text[s.start..s.end]));
        at = s.end;
    }
    out.push_str(&text[at..]);
    Deidentified { text: out, spans, counts, date_shift_days: shift }
}

struct Replacer<'a> {
    opts: &'a Options,
    doc_key: [u8; 32],
    shift: Option<i64>,
    memo: HashMap<(Category, String), String>,
}

/// ZIP3 areas of 20,000 people or fewer (Safe Harbor: these become 000).
const SMALL_ZIP3: &[&str] = &["036", "059", "102", "203", "205", "369", "556", "692", "753", "772", "821", "823", "878", "879", "884", "890", "893"];
const SURROGATE_CITIES: &[&str] = &["Riverton", "Lakeside", "Fairview", "Greenfield", "Oakdale", "Milton", "Ashford", "Brookvale"];
const SURROGATE_STREETS: &[&str] = &["Maple", "Cedar", "Pine", "Walnut", "Chestnut", "Willow", "Birch", "Juniper"];

impl Replacer<'_> {
    fn pick<'s>(&self, what: &[u8], list: &[&'s str]) -> &'s str {
        list[(num(&mac(&self.doc_key, &[what])) % list.len() as u64) as usize]
    }

    fn replace(&mut self, cat: Category, original: &str) -> String {
        match cat {
            Category::Zip => return zip3(original),
            Category::Date => return self.date(original),
            Category::Age => {
                return match self.opts.replace {
                    ReplaceMode::Tag => "[AGE 90+]".into(),
                    ReplaceMode::Surrogate => "90+".into(),
                }
            }
            _ => {}
        }
        if self.opts.replace == ReplaceMode::Tag {
            return format!("[{}]", cat.as_str().to_ascii_uppercase());
        }
        let k = (cat, original.to_string());
        if let Some(v) = self.memo.get(&k) {
            return v.clone();
        }
        let v = self.surrogate(cat, original);
        self.memo.insert(k, v.clone());
        v
    }

    fn surrogate(&mut self, cat: Category, original: &str) -> String {
        let h = mac(&self.doc_key, &[cat.as_str().as_bytes(), original.as_bytes()]);
        let tag = hex::encode(&h[..4]);
        match cat {
            Category::Name => {
                // Word by word, so "Maria Gonzalez" and a later "Gonzalez" agree.
                static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z][A-Za-z'-]*").expect("valid"));
                WORD.replace_all(original, |c: &regex::Captures| {
                    let w = &c[0];
                    if w.len() == 1 {
                        return w.to_string();
                    }
                    let list = if lexicon::is_first(w) { SURROGATE_FIRST } else { SURROGATE_LAST };
                    self.pick(w.as_bytes(), list).to_string()
                })
                .into_owned()
            }
            Category::City => self.pick(original.as_bytes(), SURROGATE_CITIES).to_string(),
            Category::Address => {
                format!("{} {} Street", 100 + num(&h) % 900, self.pick(original.as_bytes(), SURROGATE_STREETS))
            }
            Category::Email => format!("user{tag}@example.org"),
            Category::Url => format!("https://example.org/{tag}"),
            Category::Ip => {
                if original.contains(':') {
                    format!("2001:db8::{:x}", u16::from_be_bytes([h[0], h[1]]))
                } else {
                    format!("192.0.2.{}", 1 + h[0] % 254)
                }
            }
            // VINs never use I, O or Q.
            Category::Vehicle => reshape(original, &h).replace('I', "J").replace('O', "P").replace('Q', "R"),
            _ => reshape(original, &h),
        }
    }

    fn date(&self, original: &str) -> String {
        let parsed = parse_date(original);
        match (self.opts.dates, parsed) {
            (DateMode::Shift, Some((d, fmt))) => fmt.render(d + Duration::days(self.shift.unwrap_or(0))),
            (DateMode::Year, Some((d, fmt))) if fmt.has_year => format!("[DATE {}]", d.year()),
            _ => "[DATE]".into(),
        }
    }
}

const SURROGATE_FIRST: &[&str] = &["Alex", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Avery", "Quinn", "Rowan"];
const SURROGATE_LAST: &[&str] =
    &["Ashdown", "Brightwater", "Calloway", "Dunmore", "Ellsworth", "Fairbanks", "Galloway", "Hollis", "Kingsley", "Lockhart"];

/// Same shape, other characters: digits stay digits, letters stay letters of the same case.
fn reshape(original: &str, seed: &[u8; 32]) -> String {
    let mut i = 0usize;
    original
        .chars()
        .map(|c| {
            let b = seed[i % 32].wrapping_add((i / 32) as u8 * 31);
            i += 1;
            if c.is_ascii_digit() {
                (b'0' + b % 10) as char
            } else if c.is_ascii_uppercase() {
                (b'A' + b % 26) as char
            } else if c.is_ascii_lowercase() {
                (b'a' + b % 26) as char
            } else {
                c
            }
        })
        .collect()
}

/// The first three digits of a ZIP code where the area is populous enough, else 000.
fn zip3(zip: &str) -> String {
    let p = &zip[..3.min(zip.len())];
    if SMALL_ZIP3.contains(&p) {
        "000**".into()
    } else {
        format!("{p}**")
    }
}

/// How a date was written, so the shifted one is written the same way.
#[derive(Debug, Clone, PartialEq)]
struct DateFormat {
    kind: DateKind,
    has_year: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum DateKind {
    /// m/d/y with its separator, zero padding and 2- or 4-digit year.
    Numeric {
        sep: char,
        pad: bool,
        short_year: bool,
    },
    Iso {
        sep: char,
    },
    /// "March 4, 2021" / "Mar 4" (abbreviated month, comma before the year).
    MonthDay {
        abbr: bool,
        comma: bool,
    },
    /// "4 March 2021"
    DayMonth {
        abbr: bool,
    },
    /// "March 2021"
    MonthYear {
        abbr: bool,
    },
    /// "03/2021"
    NumMonthYear,
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

fn month_of(word: &str) -> Option<(u32, bool)> {
    let w = word.trim_end_matches('.');
    MONTHS
        .iter()
        .position(|m| {
            m.eq_ignore_ascii_case(w)
                || (w.len() >= 3 && m[..3].eq_ignore_ascii_case(&w[..3]) && m.to_ascii_lowercase().starts_with(&w.to_ascii_lowercase()))
        })
        .map(|i| (i as u32 + 1, w.len() < MONTHS[i].len()))
}

fn parse_date(s: &str) -> Option<(NaiveDate, DateFormat)> {
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\d{1,2})([/.-])(\d{1,2})[/.-](\d{2}|\d{4})$").expect("valid"));
    static ISO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\d{4})([-/])(\d{2})[-/](\d{2})$").expect("valid"));
    static MONTH_DAY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Za-z]+\.?)\s+(\d{1,2})(?:st|nd|rd|th)?(,?)(?:\s+(\d{4}))?$").expect("valid"));
    static DAY_MONTH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]+\.?),?(?:\s+(\d{4}))?$").expect("valid"));
    static MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([A-Za-z]+\.?),?\s+(\d{4})$").expect("valid"));
    static NUM_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\d{1,2})/(\d{4})$").expect("valid"));
    let n = |x: &str| x.parse::<i32>().ok();
    // Dates without a year are shifted within a leap year, so Feb 29 stays valid.
    const NO_YEAR: i32 = 2000;
    if let Some(c) = NUMERIC.captures(s) {
        let short = c[4].len() == 2;
        let y = n(&c[4])?;
        let y = if short {
            if y < 50 {
                2000 + y
            } else {
                1900 + y
            }
        } else {
            y
        };
        let d = NaiveDate::from_ymd_opt(y, n(&c[1])? as u32, n(&c[3])? as u32)?;
        let pad = c[1].len() == 2 || c[3].len() == 2;
        let sep = c[2].chars().next()?;
        return Some((d, DateFormat { kind: DateKind::Numeric { sep, pad, short_year: short }, has_year: true }));
    }
    if let Some(c) = ISO.captures(s) {
        let d = NaiveDate::from_ymd_opt(n(&c[1])?, n(&c[3])? as u32, n(&c[4])? as u32)?;
        return Some((d, DateFormat { kind: DateKind::Iso { sep: c[2].chars().next()? }, has_year: true }));
    }
    if let Some(c) = MONTH_YEAR.captures(s) {
        let (m, abbr) = month_of(&c[1])?;
        let d = NaiveDate::from_ymd_opt(n(&c[2])?, m, 15)?;
        return Some((d, DateFormat { kind: DateKind::MonthYear { abbr }, has_year: true }));
    }
    if let Some(c) = MONTH_DAY.captures(s) {
        let (m, abbr) = month_of(&c[1])?;
        let y = c.get(4).map(|y| n(y.as_str())).unwrap_or(Some(NO_YEAR))?;
        let d = NaiveDate::from_ymd_opt(y, m, n(&c[2])? as u32)?;
        return Some((d, DateFormat { kind: DateKind::MonthDay { abbr, comma: !c[3].is_empty() }, has_year: c.get(4).is_some() }));
    }
    if let Some(c) = DAY_MONTH.captures(s) {
        let (m, abbr) = month_of(&c[2])?;
        let y = c.get(3).map(|y| n(y.as_str())).unwrap_or(Some(NO_YEAR))?;
        let d = NaiveDate::from_ymd_opt(y, m, n(&c[1])? as u32)?;
        return Some((d, DateFormat { kind: DateKind::DayMonth { abbr }, has_year: c.get(3).is_some() }));
    }
    if let Some(c) = NUM_MONTH_YEAR.captures(s) {
        let d = NaiveDate::from_ymd_opt(n(&c[2])?, n(&c[1])? as u32, 15)?;
        return Some((d, DateFormat { kind: DateKind::NumMonthYear, has_year: true }));
    }
    // Other spellings of the same forms: "07-Sep-2017", "14SEP2026", "the 9th of July, 2010",
    // "Friday, July 9, 2010", "March of 2023".
    let plain = plain_date(s);
    if plain != s {
        return parse_date(&plain);
    }
    None
}

/// `s` without a leading "the" or weekday, with hyphens and glued parts spaced out and "of"
/// dropped: "14 SEP 2026", "9th July, 2010", "July 9, 2010".
fn plain_date(s: &str) -> String {
    let mut words: Vec<String> = vec![];
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let boundary = prev.is_some_and(|p| {
            p.is_ascii_digit() && c.is_ascii_alphabetic() && !matches!(c, 's' | 'n' | 'r' | 't' | 'h' | 'd')
                || p.is_ascii_alphabetic() && c.is_ascii_digit()
        });
        if c == ' ' || (c == '-' && s.chars().any(|x| x.is_ascii_alphabetic())) || boundary {
            flush(&mut cur, &mut words);
        }
        if c != ' ' && c != '-' {
            cur.push(c);
        }
        prev = Some(c);
    }
    flush(&mut cur, &mut words);
    const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let skip = |w: &str| {
        let l = w.trim_end_matches([',', '.']).to_ascii_lowercase();
        l == "the" || l == "of" || (l.len() >= 3 && WEEKDAYS.contains(&&l[..3]) && l.ends_with("day") || WEEKDAYS.contains(&l.as_str()))
    };
    words.into_iter().filter(|w| !skip(w)).collect::<Vec<_>>().join(" ")
}

impl DateFormat {
    fn render(&self, d: NaiveDate) -> String {
        let month = |abbr: bool| {
            let m = MONTHS[d.month0() as usize];
            if abbr {
                m[..3].to_string()
            } else {
                m.to_string()
            }
        };
        match &self.kind {
            DateKind::Numeric { sep, pad, short_year } => {
                let y = if *short_year { format!("{:02}", d.year() % 100) } else { d.year().to_string() };
                if *pad {
                    format!("{:02}{sep}{:02}{sep}{y}", d.month(), d.day())
                } else {
                    format!("{}{sep}{}{sep}{y}", d.month(), d.day())
                }
            }
            DateKind::Iso { sep } => format!("{}{sep}{:02}{sep}{:02}", d.year(), d.month(), d.day()),
            DateKind::MonthDay { abbr, comma } => match (self.has_year, comma) {
                (true, true) => format!("{} {}, {}", month(*abbr), d.day(), d.year()),
                (true, false) => format!("{} {} {}", month(*abbr), d.day(), d.year()),
                (false, _) => format!("{} {}", month(*abbr), d.day()),
            },
            DateKind::DayMonth { abbr } => {
                if self.has_year {
                    format!("{} {} {}", d.day(), month(*abbr), d.year())
                } else {
                    format!("{} {}", d.day(), month(*abbr))
                }
            }
            DateKind::MonthYear { abbr } => format!("{} {}", month(*abbr), d.year()),
            DateKind::NumMonthYear => format!("{:02}/{}", d.month(), d.year()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(replace: ReplaceMode, dates: DateMode) -> Options {
        Options { replace, dates, key: b"test key".to_vec() }
    }

    #[test]
    fn tag_mode() {
        let d = deidentify("Dr. Okafor saw her on 03/14/2023; SSN 219-09-9999.", &opts(ReplaceMode::Tag, DateMode::Tag), None, b"doc");
        assert_eq!(d.text, "Dr. [NAME] saw her on [DATE]; SSN [SSN].");
        assert_eq!(d.counts.get(&Category::Name), Some(&1));
        let d = deidentify("seen 03/14/2023", &opts(ReplaceMode::Tag, DateMode::Year), None, b"doc");
        assert_eq!(d.text, "seen [DATE 2023]");
    }

    #[test]
    fn surrogates_are_consistent_within_a_document_and_keep_shape() {
        let t = "Maria Gonzalez (MRN 44120987) came in. Gonzalez called 617-555-0134. MRN 44120987 confirmed.";
        let d = deidentify(t, &opts(ReplaceMode::Surrogate, DateMode::Shift), None, b"doc-1");
        assert!(!d.text.contains("Gonzalez") && !d.text.contains("44120987") && !d.text.contains("555-0134"));
        let words: Vec<&str> = d.text.split_whitespace().collect();
        // The surname surrogate is the same both times; the MRN surrogate too, with the same shape.
        assert_eq!(words[1], words[6]);
        let mrns: Vec<&str> = d.text.match_indices("MRN ").map(|(i, _)| &d.text[i + 4..i + 12]).collect();
        assert_eq!(mrns[0], mrns[1]);
        assert!(mrns[0].bytes().all(|b| b.is_ascii_digit()));
        // Another document gets other surrogates.
        let other = deidentify(t, &opts(ReplaceMode::Surrogate, DateMode::Shift), None, b"doc-2");
        assert_ne!(d.text, other.text);
    }

    #[test]
    fn dates_shift_by_one_offset_per_patient_in_their_own_format() {
        let o = opts(ReplaceMode::Tag, DateMode::Shift);
        let t = "Admitted 03/14/2023, discharged 2023-03-20 (March 20, 2023). Next visit Apr 2023.";
        let a = deidentify(t, &o, Some("patient-7"), b"doc-a");
        let b = deidentify("Seen 2023-03-14.", &o, Some("patient-7"), b"doc-b");
        let k = a.date_shift_days.unwrap();
        assert!((-364..=-1).contains(&k));
        assert_eq!(Some(k), b.date_shift_days);
        let shifted = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap() + Duration::days(k);
        let s1 = shifted(2023, 3, 14);
        assert!(a.text.contains(&format!("{:02}/{:02}/{}", s1.month(), s1.day(), s1.year())), "{}", a.text);
        assert!(b.text.contains(&s1.format("%Y-%m-%d").to_string()));
        let s2 = shifted(2023, 3, 20);
        assert!(a.text.contains(&format!("{} {}, {}", MONTHS[s2.month0() as usize], s2.day(), s2.year())), "{}", a.text);
        assert_ne!(Some(k), deidentify("Seen 2023-03-14.", &o, Some("patient-8"), b"doc-b").date_shift_days);
    }

    #[test]
    fn zip_keeps_three_digits_unless_the_area_is_small() {
        assert_eq!(zip3("02118"), "021**");
        assert_eq!(zip3("03601-1234"), "000**");
    }

    #[test]
    fn ages_over_89_are_grouped() {
        let d = deidentify("a 94 year old man", &opts(ReplaceMode::Surrogate, DateMode::Shift), None, b"d");
        assert_eq!(d.text, "a 90+ year old man");
    }

    #[test]
    fn date_parsing_handles_each_written_form() {
        for s in [
            "3/4/21",
            "03-04-2021",
            "2021/03/04",
            "Mar. 4",
            "4th of March, 2021",
            "Sept 2021",
            "03/2021",
            "07-Sep-2017",
            "14SEP2026",
            "the 9th of July, 2010",
            "Friday, July 9, 2010",
            "March of 2023",
        ] {
            assert!(parse_date(s).is_some(), "{s}");
        }
        assert!(parse_date("02/30/2021").is_none());
    }
}
