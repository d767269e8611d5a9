//! De-identification of the HIPAA Safe Harbor identifiers in clinical text.
//!
//! Detection combines patterns (`patterns.rs`), dictionaries and context (`names.rs`); overlapping
//! candidates are resolved to one span each, and names found by a strong rule are propagated
//! to their other mentions. Replacement (`replace.rs`) is by category tag or by consistent
//! surrogates per document, with dates shifted by a per-patient offset.

pub mod corpus;
mod names;
mod patterns;
mod replace;

pub use replace::{deidentify, DateMode, Deidentified, Options, ReplaceMode};

use serde::Serialize;

/// Version of the detectors and replacement rules. Part of the idempotency key and of every
/// audit record: changing detection or replacement must change it.
pub const DETECTOR_VERSION: &str = "pj-deid/1.0";

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
    let mut candidates = patterns::detect(text);
    candidates.extend(names::detect_places(text));
    let strong_names = names::detect_names(text);
    candidates.extend(strong_names.iter().copied());
    let mut spans = resolve(candidates);
    // Other mentions of a name found by a strong rule ("Mr. Alvarez" → later "Alvarez").
    let more = names::propagate(text, &spans);
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
    fn clinical_words_are_left_alone() {
        let t = "Assessment: stable angina. Plan: aspirin 81 mg daily, follow up in 2 weeks. \
                 BP 120/80, HR 72. Hemoglobin A1c 6.1%. Denies fever.";
        assert_eq!(found(t), vec![]);
    }
}
