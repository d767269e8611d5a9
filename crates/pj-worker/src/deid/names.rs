//! Names and places: dictionaries of given names, surnames and cities, combined with context
//! (titles, labels such as "Patient:", relations, credentials, "City, ST").

use super::patterns::STATES;
use super::{Category, Span};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

fn words(list: &'static str) -> HashSet<&'static str> {
    list.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

static FIRST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| words(include_str!("../../data/first_names.txt")));
static LAST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| words(include_str!("../../data/surnames.txt")));

/// Dictionary names that are also everyday or clinical words; alone they are not taken.
const AMBIGUOUS: &[&str] = &[
    "Will",
    "May",
    "June",
    "Mark",
    "Grant",
    "Faith",
    "Hope",
    "Joy",
    "Rose",
    "Bill",
    "Frank",
    "Carol",
    "Jack",
    "Young",
    "King",
    "Green",
    "Brown",
    "White",
    "Black",
    "Long",
    "Hill",
    "Wood",
    "Reed",
    "Cook",
    "Ward",
    "Page",
    "Jordan",
    "Jackson",
    "Washington",
    "Lincoln",
    "Madison",
    "Charlotte",
    "Virginia",
    "Alexander",
    "Christian",
    "Henderson",
    "Columbia",
    "Austin",
    "Kelly",
    "Patient",
    "Thomas",
    "Martin",
    "Russell",
    "Lee",
    "Perry",
];

/// Words that look like names after a label but are not (section headings, clinical terms).
const NOT_NAMES: &[&str] = &[
    "The",
    "A",
    "An",
    "No",
    "None",
    "Not",
    "Unknown",
    "Denies",
    "Reports",
    "Stable",
    "Patient",
    "Pt",
    "Male",
    "Female",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Is",
    "Was",
    "Has",
    "Had",
    "He",
    "She",
    "They",
    "His",
    "Her",
    "History",
    "Plan",
    "Assessment",
    "Diagnosis",
    "Medications",
    "Allergies",
    "Date",
    "Time",
    "Age",
    "Sex",
    "DOB",
    "MRN",
    "Self",
    "Same",
    "See",
    "Per",
    "Signed",
    "Note",
    "Discharge",
    "Admission",
    "Follow",
    "Type",
    "MD",
    "DO",
    "RN",
    "NP",
    "PA",
    "PhD",
    "DDS",
    "LCSW",
    "APRN",
    "Jr",
    "Sr",
];

static CITIES: LazyLock<Regex> = LazyLock::new(|| {
    let mut names: Vec<&str> = include_str!("../../data/cities.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    names.retain(|c| !AMBIGUOUS.contains(c));
    names.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let alt = names.iter().map(|c| regex::escape(c)).collect::<Vec<_>>().join("|");
    Regex::new(&format!(r"\b(?:{alt})\b")).expect("city names escape cleanly")
});
static CITY_STATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}),\s*(?:{STATES})\b(?:\s+\d{{5}}|[.,;)]|\s*$)")).expect("valid pattern")
});
static CITY_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?i:lives in|resides in|resident of|moved to|born in|from|city of|transferred from)\s+([A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})")
        .expect("valid pattern")
});

const NAME: &str = r"[A-Z][a-zA-Z'-]+";
static TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Nurse)\.?[ \t]+({NAME}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME})?)")).expect("valid pattern")
});
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i:\b(?:patient(?:'s)?(?:\s+name)?|name|pt|seen by|attending|physician|provider|pcp|nurse|rn|np|contact|emergency contact|mother|father|son|daughter|wife|husband|spouse|partner|brother|sister|guardian|caregiver|referred by|referring|signed|electronically signed by|dictated by|cc|witness|interpreter))\s*[:,-]\s*({NAME}(?:,?[ \t]+(?:[A-Z]\.[ \t]+)?{NAME}){{0,2}})"
    ))
    .expect("valid pattern")
});
static RELATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b(?i:his|her|their)\s+(?:wife|husband|son|daughter|mother|father|brother|sister|partner|spouse|caregiver|niece|nephew)[ \t]+({NAME}(?:[ \t]+{NAME})?)")).expect("valid pattern")
});
static CONVERSATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b(?i:spoke(?:\s+by\s+phone)?\s+(?:with|to)|talked\s+(?:with|to)|discussed\s+with|met\s+with|per|called|visited\s+by|accompanied\s+by)[ \t]+({NAME}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME})?)")).expect("valid pattern")
});
static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b({NAME}(?:[ \t]+[A-Z]\.)?[ \t]+{NAME}),?[ \t]+(?:MD|M\.D\.|DO|RN|NP|PA-C|PhD|DDS|LCSW)\b")).expect("valid pattern")
});
static CAPITALIZED: LazyLock<Regex> = LazyLock::new(|| Regex::new(NAME).expect("valid pattern"));

fn span(start: usize, end: usize, category: Category) -> Span {
    Span { start, end, category }
}

/// Trims words that are not names from the end of a captured name ("Maria Gonzalez Reports").
fn trim_name(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let mut end = end;
    loop {
        let s = &text[start..end];
        let last_start = s.rfind(|c: char| c.is_whitespace() || c == ',').map(|i| i + 1).unwrap_or(0);
        let last = s[last_start..].trim_end_matches('.');
        if NOT_NAMES.contains(&last) {
            if last_start == 0 {
                return None;
            }
            end = start + s[..last_start].trim_end_matches(|c: char| c.is_whitespace() || c == ',').len();
        } else {
            return Some((start, end));
        }
    }
}

/// Names found by a strong rule (title, label, relation, credential, dictionary pair).
pub(super) fn detect_names(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for r in [&*TITLE, &*LABEL, &*RELATION, &*CONVERSATION, &*CREDENTIAL] {
        for c in r.captures_iter(text) {
            let m = c.get(1).expect("the name group always takes part");
            if let Some((s, e)) = trim_name(text, m.start(), m.end()) {
                out.push(span(s, e, Category::Name));
            }
        }
    }
    // Dictionary: a given name followed by a capitalized word, or a known surname after any
    // capitalized word; a lone dictionary name unless it is also a common word.
    let tokens: Vec<(usize, usize)> = CAPITALIZED.find_iter(text).map(|m| (m.start(), m.end())).collect();
    let mut i = 0;
    while i < tokens.len() {
        let (s, e) = tokens[i];
        let w = &text[s..e];
        // The next word, when only a space (or an initial's dot) separates them and it is
        // written like a name (not "TX" or "MRN").
        let next = tokens.get(i + 1).filter(|&&(ns, ne)| {
            let gap = &text[e..ns];
            (gap == " " || gap == ". ") && text.as_bytes()[ns..ne].get(1).copied().is_some_and(|b| b.is_ascii_lowercase())
        });
        let first = FIRST.contains(w);
        let last = LAST.contains(w);
        if let Some(&(ns, ne)) = next {
            let nw = &text[ns..ne];
            if (first && !NOT_NAMES.contains(&nw)) || (LAST.contains(nw) && !NOT_NAMES.contains(&w) && !AMBIGUOUS.contains(&nw)) {
                out.push(span(s, ne, Category::Name));
                i += 2;
                continue;
            }
        }
        if (first || last) && !AMBIGUOUS.contains(&w) {
            out.push(span(s, e, Category::Name));
        }
        i += 1;
    }
    out
}

/// Cities by dictionary and by context ("Springfield, MA", "lives in Quincy").
pub(super) fn detect_places(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = CITIES.find_iter(text).map(|m| span(m.start(), m.end(), Category::City)).collect();
    for r in [&*CITY_STATE, &*CITY_CONTEXT] {
        for c in r.captures_iter(text) {
            let m = c.get(1).expect("the city group always takes part");
            if !NOT_NAMES.contains(&m.as_str()) {
                out.push(span(m.start(), m.end(), Category::City));
            }
        }
    }
    out
}

/// Other whole-word mentions of already detected names (word by word) and cities (whole).
pub(super) fn propagate(text: &str, spans: &[Span]) -> Vec<Span> {
    let mut names: HashSet<&str> = HashSet::new();
    let mut cities: HashSet<&str> = HashSet::new();
    for s in spans {
        let found = &text[s.start..s.end];
        match s.category {
            Category::Name => {
                for m in CAPITALIZED.find_iter(found) {
                    let w = m.as_str();
                    if w.len() > 2 && !NOT_NAMES.contains(&w) && !AMBIGUOUS.contains(&w) {
                        names.insert(w);
                    }
                }
            }
            // A city confirmed by context ("Austin, TX") is taken everywhere, even when its
            // name is also a common word.
            Category::City => {
                cities.insert(found);
            }
            _ => {}
        }
    }
    let free = |start: usize, end: usize| spans.iter().all(|s| end <= s.start || start >= s.end);
    let mut out: Vec<Span> = CAPITALIZED
        .find_iter(text)
        .filter(|m| names.contains(m.as_str()) && free(m.start(), m.end()))
        .map(|m| span(m.start(), m.end(), Category::Name))
        .collect();
    let word_edge = |i: usize| text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
    for c in cities {
        for (i, _) in text.match_indices(c) {
            let end = i + c.len();
            let ends = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            if word_edge(i) && ends && free(i, end) {
                out.push(span(i, end, Category::City));
            }
        }
    }
    out
}

/// The given-name dictionary (surrogates keep given names as given names).
pub(super) fn first_names() -> &'static HashSet<&'static str> {
    &FIRST
}

#[cfg(test)]
mod tests {
    use super::super::tests::found;
    use super::super::Category;

    fn names(text: &str) -> Vec<String> {
        found(text).into_iter().filter(|(_, k)| *k == Category::Name).map(|(s, _)| s).collect()
    }

    fn cities(text: &str) -> Vec<String> {
        found(text).into_iter().filter(|(_, k)| *k == Category::City).map(|(s, _)| s).collect()
    }

    #[test]
    fn names_by_title_label_relation_and_credential() {
        assert_eq!(names("Seen with Dr. Okonkwo today."), vec!["Okonkwo"]);
        assert_eq!(names("Patient: Zelinsky, Tomasz presented"), vec!["Zelinsky, Tomasz"]);
        assert_eq!(names("Accompanied by her daughter Brygida."), vec!["Brygida"]);
        assert_eq!(names("Electronically signed: Harriet Quarles, MD"), vec!["Harriet Quarles"]);
        assert_eq!(names("Spoke by phone with Oluwaseun Abara today."), vec!["Oluwaseun Abara"]);
        // A name never runs into the next line ("MRN" on the line below is a label).
        assert_eq!(names("Patient: Olga Thorvaldsen\n\nMRN: 90817265"), vec!["Olga Thorvaldsen"]);
    }

    #[test]
    fn names_by_dictionary_and_propagation() {
        assert_eq!(names("Jennifer Vasquez-Lo was admitted. Vasquez-Lo is stable."), vec!["Jennifer Vasquez-Lo", "Vasquez-Lo"]);
        assert_eq!(names("Spoke with Nakamura about discharge."), vec!["Nakamura"]);
        // Common words that are also names are not taken alone.
        assert!(names("Will follow up in May. Hope for improvement.").is_empty());
    }

    #[test]
    fn cities_by_dictionary_and_context() {
        assert_eq!(cities("moved from Chicago last year"), vec!["Chicago"]);
        assert_eq!(cities("Lives in Marblehead with family"), vec!["Marblehead"]);
        assert_eq!(cities("Address: Quincy, MA 02169"), vec!["Quincy"]);
    }
}
