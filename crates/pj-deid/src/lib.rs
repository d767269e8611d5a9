//! De-identification of the HIPAA Safe Harbor identifiers in clinical text.
//!
//! Detection follows how identifiers are written: shapes and labels (`patterns.rs`), dates and
//! ages (`dates.rs`), addresses and places (`places.rs`), names by context and by the census
//! dictionaries (`names.rs`, `lexicon.rs`). Overlapping candidates are resolved to one span
//! each, and names and cities found once are taken at their other mentions. Replacement
//! (`replace.rs`) is by category tag or by consistent surrogates per document, with dates
//! shifted by a per-patient offset. `eval` scores any detector on a labelled corpus.

pub mod corpus;
mod dates;
pub mod eval;
mod lexicon;
mod names;
mod patterns;
mod places;
mod replace;

pub use replace::{deidentify, DateMode, Deidentified, Options, ReplaceMode};

use serde::Serialize;

/// Version of the detectors and replacement rules. Part of the idempotency key and of every
/// audit record: changing detection or replacement must change it.
pub const DETECTOR_VERSION: &str = "pj-deid/2.0";

/// The Safe Harbor identifier categories the detectors report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Name,
    Address,
    City,
    Zip,
    Date,
    Age,
    Phone,
    Fax,
    Email,
    Ssn,
    Mrn,
    HealthPlan,
    Account,
    License,
    Vehicle,
    Device,
    Url,
    Ip,
    OtherId,
}

impl Category {
    pub const ALL: [Category; 19] = [
        Category::Name,
        Category::Address,
        Category::City,
        Category::Zip,
        Category::Date,
        Category::Age,
        Category::Phone,
        Category::Fax,
        Category::Email,
        Category::Ssn,
        Category::Mrn,
        Category::HealthPlan,
        Category::Account,
        Category::License,
        Category::Vehicle,
        Category::Device,
        Category::Url,
        Category::Ip,
        Category::OtherId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Name => "name",
            Category::Address => "address",
            Category::City => "city",
            Category::Zip => "zip",
            Category::Date => "date",
            Category::Age => "age",
            Category::Phone => "phone",
            Category::Fax => "fax",
            Category::Email => "email",
            Category::Ssn => "ssn",
            Category::Mrn => "mrn",
            Category::HealthPlan => "health_plan",
            Category::Account => "account",
            Category::License => "license",
            Category::Vehicle => "vehicle",
            Category::Device => "device",
            Category::Url => "url",
            Category::Ip => "ip",
            Category::OtherId => "other_id",
        }
    }

    /// Structured identifiers (patterns with a fixed shape or a label) win overlaps over
    /// free-text ones (names, places).
    fn priority(self) -> u8 {
        match self {
            Category::Email | Category::Url | Category::Ip => 0,
            Category::Ssn | Category::Phone | Category::Fax => 1,
            Category::Mrn
            | Category::HealthPlan
            | Category::Account
            | Category::License
            | Category::Vehicle
            | Category::Device
            | Category::OtherId => 2,
            Category::Date | Category::Age | Category::Zip => 3,
            Category::Address => 4,
            // "Harriet Quarles, MD" is a name with a credential, not a city in Maryland.
            Category::Name => 5,
            Category::City => 6,
        }
    }
}

/// A detected identifier: byte offsets into the text, and its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub category: Category,
}

/// Detects every identifier in `text`; spans are sorted and do not overlap.
pub fn detect(text: &str) -> Vec<Span> {
    // Detection reads OCR's letter-for-digit confusions as letters ("Passp0rt", "J0hn"); the
    // reading has the same length, so its offsets are the text's.
    let read = ocr_reading(text);
    detect_in(&read)
}

/// `text` with the digits OCR puts for letters inside words read back as letters (0→o,
/// 1→l, 5→s, 8→b, in the word's case). Only in words mostly of letters, and not in ordinals
/// ("21st"), so numbers and identifiers ("MD434024", "A1c") keep their digits.
fn ocr_reading(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let word = &b[start..i];
        let letters = word.iter().filter(|c| c.is_ascii_alphabetic()).count();
        let digits = word.len() - letters;
        let ordinal = digits > 0 && word.iter().take_while(|c| c.is_ascii_digit()).count() == digits && letters == 2;
        // Hexadecimal groups and clock or address parts ("bc1b", "f3f8:…") keep their digits.
        let hex = word.iter().all(u8::is_ascii_hexdigit);
        let by_colon = b.get(i) == Some(&b':') || (start > 0 && b[start - 1] == b':');
        let lettered = word.iter().all(|c| c.is_ascii_alphabetic() || b"0158".contains(c));
        if digits == 0 || letters < 2 || letters <= 2 * digits || ordinal || hex || by_colon || !lettered {
            continue;
        }
        let upper = word.iter().filter(|c| c.is_ascii_uppercase()).count() * 2 > letters;
        let out = out.get_or_insert_with(|| b.to_vec());
        for (k, c) in word.iter().enumerate() {
            let first = k == 0;
            // A capital before lowercase letters ("5haron"), except 1, which is most often an l.
            let up = upper || (first && *c != b'1' && word.get(1).is_some_and(|n| n.is_ascii_lowercase()));
            out[start + k] = match (c, up) {
                (b'0', true) => b'O',
                (b'0', false) => b'o',
                (b'1', true) => b'I',
                (b'1', false) => b'l',
                (b'5', true) => b'S',
                (b'5', false) => b's',
                (b'8', true) => b'B',
                (b'8', false) => b'b',
                _ => *c,
            };
        }
    }
    match out {
        // Only ASCII digits were replaced by ASCII letters: still UTF-8.
        Some(v) => std::borrow::Cow::Owned(String::from_utf8(v).expect("ASCII for ASCII")),
        None => std::borrow::Cow::Borrowed(text),
    }
}

fn detect_in(text: &str) -> Vec<Span> {
    let mut candidates = patterns::detect(text);
    candidates.extend(dates::detect(text));
    let places = [places::detect_addresses(text), places::detect_cities(text)].concat();
    let cities: Vec<Span> = places.iter().filter(|s| s.category == Category::City).copied().collect();
    let words = names::Words::new(text);
    candidates.extend(names::detect_names(&words, &cities));
    candidates.extend(places);
    let mut spans = resolve(candidates);
    // Other mentions of a name or city found once ("Mr. Alvarez" → later "Alvarez").
    let more = names::propagate(&words, &spans);
    if !more.is_empty() {
        spans.extend(more);
        spans = resolve(spans);
    }
    spans
}

/// Keeps one span per region: the longest, then the most structured category.
fn resolve(mut c: Vec<Span>) -> Vec<Span> {
    c.sort_by(|a, b| (b.end - b.start).cmp(&(a.end - a.start)).then(a.category.priority().cmp(&b.category.priority())).then(a.start.cmp(&b.start)));
    let mut kept: Vec<Span> = Vec::with_capacity(c.len());
    for s in c {
        if s.start >= s.end {
            continue;
        }
        if kept.iter().all(|k| s.end <= k.start || s.start >= k.end) {
            kept.push(s);
        }
    }
    kept.sort_by_key(|s| s.start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn found(text: &str) -> Vec<(String, Category)> {
        detect(text).into_iter().map(|s| (text[s.start..s.end].to_string(), s.category)).collect()
    }

    /// The texts found as `c`, in order.
    pub(crate) fn only(text: &str, c: Category) -> Vec<String> {
        found(text).into_iter().filter(|(_, k)| *k == c).map(|(s, _)| s).collect()
    }

    #[test]
    fn overlaps_keep_the_longest_then_the_most_structured() {
        let spans = resolve(vec![
            Span { start: 0, end: 5, category: Category::Name },
            Span { start: 0, end: 10, category: Category::Address },
            Span { start: 12, end: 20, category: Category::Name },
            Span { start: 12, end: 20, category: Category::Mrn },
        ]);
        assert_eq!(spans, vec![Span { start: 0, end: 10, category: Category::Address }, Span { start: 12, end: 20, category: Category::Mrn }]);
    }

    #[test]
    fn a_whole_note() {
        let t = "Patient: Maria Gonzalez, 92 y/o, MRN: 00482913, seen 03/14/2023 at 12 Elm Street, \
                 Springfield, MA 01103. Call (413) 555-0199 or fax 413-555-0100. Email mg@example.com. \
                 Ms. Gonzalez reports chest pain.";
        let f = found(t);
        let cats = |c: Category| f.iter().filter(|(_, k)| *k == c).map(|(s, _)| s.as_str()).collect::<Vec<_>>();
        assert_eq!(cats(Category::Name), vec!["Maria Gonzalez", "Gonzalez"]);
        assert_eq!(cats(Category::Age), vec!["92"]);
        assert_eq!(cats(Category::Mrn), vec!["00482913"]);
        assert_eq!(cats(Category::Date), vec!["03/14/2023"]);
        assert_eq!(cats(Category::Address), vec!["12 Elm Street"]);
        assert_eq!(cats(Category::City), vec!["Springfield"]);
        assert_eq!(cats(Category::Zip), vec!["01103"]);
        assert_eq!(cats(Category::Phone), vec!["(413) 555-0199"]);
        assert_eq!(cats(Category::Fax), vec!["413-555-0100"]);
        assert_eq!(cats(Category::Email), vec!["mg@example.com"]);
    }

    #[test]
    fn a_label_followed_by_a_word_does_not_hide_the_next_label() {
        assert_eq!(found("after the visit. Claim number CLM9543-6278 filed"), vec![("CLM9543-6278".to_string(), Category::OtherId)]);
    }

    #[test]
    fn ocr_digits_in_words_are_read_as_letters_but_numbers_keep_theirs() {
        assert_eq!(
            ocr_reading("Passp0rt J793-2967 1icense MD434024 A1c 21st J0HN 5HARON x5636 1378:c546:bc1b Ho5e"),
            "Passport J793-2967 license MD434024 A1c 21st JOHN SHARON x5636 1378:c546:bc1b Hose"
        );
        assert_eq!(found("Per Dr. J0hnson, continue."), vec![("J0hnson".to_string(), Category::Name)]);
    }

    #[test]
    fn clinical_words_are_left_alone() {
        let t = "Assessment: stable angina. Plan: aspirin 81 mg daily, follow up in 2 weeks. \
                 BP 120/80, HR 72. Hemoglobin A1c 6.1%. Denies fever.";
        assert_eq!(found(t), vec![]);
    }
}
