//! Names of people: after the words that announce one (titles, relations, roles, labels,
//! verbs such as "per", "spoke with", "signed by"), before a credential ("…, MD"), in
//! "Last, First" and "First M. Last" forms, in capitals; and without context when the census
//! dictionaries say so and the word is not also an everyday word. Other mentions of a name found
//! once are taken too. Eponyms ("Parkinson's disease", "a Foley catheter") are not names.

use crate::lexicon;
use crate::patterns::re;
use crate::{Category, Span};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// A word as written in a name: capitalized or in capitals, with apostrophes and hyphens
/// ("O'Neil", "Cross-Gordon"); OCR may have turned a letter into a digit ("Mi11er").
static WORDS: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z][A-Za-z0-9'’]*(?:-[A-Za-z][A-Za-z0-9'’]*)*"));

/// Words that announce a name, by kind. Verbs come before labels, so "dictated by" is read
/// whole, not as the label "dictated".
static CUES: LazyLock<Regex> = LazyLock::new(|| {
    const TITLE: &str = r"dr|mr|mrs|ms|miss|mx|prof|doctor|nurse";
    const VERB: &str = r"per|spoke(?:\s+by\s+phone)?\s+(?:with|to)|talked\s+(?:with|to)|discussed\s+(?:with|the case with)|(?:case\s+)?reviewed\s+with|met\s+with|seen\s+(?:by|with)|evaluated\s+by|examined\s+by|called|paged|notified|contacted|informed|left\s+(?:a\s+)?(?:voice)?(?:message|msg|vm)\s+(?:for|with)|accompanied\s+by|visited\s+by|referred\s+(?:by|from)|referral\s+from|consult(?:ation|ed)?\s+(?:requested\s+)?(?:by|with)|(?:electronically\s+|e-)?(?:co-?)?signed\s+by|dictated\s+by|transcribed\s+by|authenticated\s+by|verified\s+by|approved\s+by|ordered\s+by|prescribed\s+by|performed\s+by|read\s+by|interpreted\s+by|under\s+the\s+care\s+of|cared\s+for\s+by";
    const RELATION: &str = r"mother|father|mom|dad|wife|husband|spouse|partner|daughter|son|sister|brother|sibling|guardian|niece|nephew|aunt|uncle|grandmother|grandfather|grandma|grandpa|granddaughter|grandson|cousin|friend|neighbou?r|caregiver|fianc[eé]e?|boyfriend|girlfriend|stepmother|stepfather|stepson|stepdaughter|roommate|sponsor|proxy|poa|next of kin|nok|emergency contact|contact person|contact";
    const LABEL: &str = r"patient(?:'s)?(?:\s+name)?|name|pt|attending(?:\s+physician)?|resident|fellow|intern|surgeon|anesthesiologist|provider|physician|clinician|pcp|primary care(?:\s+physician|\s+provider)?|referring(?:\s+physician|\s+provider)?|rn|np|pa|cc|witness|interpreter|translator|chaplain|social worker|case manager|therapist|pharmacist|guarantor|insured|subscriber|signed|signature|author|dictated|transcribed|attn|c/o|care of";
    re(&format!(
        r"(?i)\b(?:(?P<title>{TITLE})\b\.?|(?P<verb>{VERB})\b|(?P<rel>(?:his|her|their|patient's|pt's)\s+)?(?P<relword>{RELATION})(?:'s)?\b|(?P<label>{LABEL})\b)(?P<colon>\s*[:#-])?"
    ))
});
static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((?:[A-Z][A-Za-z'’-]+|[A-Z]\.)(?:[ \t]+(?:[A-Z][A-Za-z'’-]+|[A-Z]\.)){0,3}),?[ \t]+(?:MD|M\.D\.|DO|D\.O\.|RN|NP|PA-C|PA|PhD|DDS|DMD|LCSW|APRN|CNP|CRNA|FNP|FNP-BC|DNP|PharmD|MSW|LPN|CNA)(?:[^A-Za-z0-9-]|$)",
    )
});

/// Words that look like names after a cue but are not (headings, clinical words, pronouns).
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
    "Their",
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
    "II",
    "III",
    "IV",
    "Name",
    "Phone",
    "Tel",
    "Fax",
    "Address",
    "Addr",
    "Acct",
    "Account",
    "Insurance",
    "Member",
    "Policy",
    "Subscriber",
    "Date",
    "Visit",
    "Encounter",
    "Admitted",
    "Home",
    "Cell",
    "Work",
    "Email",
    "And",
    "Or",
    "With",
    "For",
    "At",
    "In",
    "On",
    "To",
    "From",
    "By",
    "Of",
    "All",
    "Any",
    "Family",
    "Team",
    "Staff",
    "Service",
    "Services",
    "Unit",
    "Department",
    "Clinic",
    "Hospital",
    "Center",
    "Emergency",
    "Medicine",
    "Surgery",
    "Cardiology",
    "Neurology",
    "Oncology",
    "Radiology",
    "Pharmacy",
    "Nursing",
    "Therapy",
    "ICU",
    "ED",
    "ER",
    "OR",
    "PCP",
    "HPI",
    "ROS",
    "PMH",
    "PE",
    "CC",
    "Mother",
    "Father",
    "Son",
    "Daughter",
    "Wife",
    "Husband",
    "Sister",
    "Brother",
    "Contact",
    "Today",
    "Yesterday",
    "Tomorrow",
    "Records",
    "Record",
    "Results",
    "Lab",
    "Labs",
];
const SUFFIXES: &[&str] = &["Jr", "Sr", "II", "III", "IV"];
/// What an eponym names ("Parkinson's disease", "Foley catheter", "Murphy's sign").
const EPONYM_HEADS: &[&str] = &[
    "disease",
    "diseases",
    "syndrome",
    "sign",
    "signs",
    "palsy",
    "sarcoma",
    "lymphoma",
    "phenomenon",
    "esophagus",
    "thyroiditis",
    "contracture",
    "catheter",
    "monitor",
    "procedure",
    "maneuver",
    "manoeuvre",
    "test",
    "score",
    "scale",
    "reflex",
    "criteria",
    "classification",
    "fracture",
    "dementia",
    "triad",
    "point",
    "law",
    "operation",
    "repair",
    "ulcer",
    "tumor",
    "tumour",
    "node",
    "nodes",
    "cyst",
    "effect",
    "ratio",
    "formula",
    "equation",
    "index",
    "stain",
    "tube",
    "bag",
    "line",
    "shunt",
    "needle",
    "forceps",
    "incision",
    "approach",
    "technique",
    "method",
    "position",
    "respiration",
    "breathing",
    "diet",
    "solution",
    "agar",
    "fundoplication",
    "anastomosis",
    "ligament",
    "duct",
    "gland",
    "glands",
    "body",
    "bodies",
    "cell",
    "cells",
    "organ",
    "pouch",
    "space",
    "area",
    "angle",
    "canal",
    "tract",
    "loop",
    "plexus",
    "nodule",
    "valve",
    "fascia",
    "fold",
    "hernia",
    "aneurysm",
    "anemia",
    "anomaly",
    "ataxia",
    "chorea",
    "encephalopathy",
    "neuralgia",
    "neuroma",
    "neuropathy",
    "arteritis",
    "disorder",
    "type",
    "mask",
    "pump",
    "splint",
    "brace",
    "bandage",
    "dressing",
    "drain",
    "clamp",
    "spot",
    "spots",
    "curve",
    "murmur",
    "rub",
    "gallop",
    "cough",
    "rash",
];

#[derive(Clone, Copy)]
struct Tok {
    s: usize,
    e: usize,
}

/// The text's words, found once per document and shared by the name detectors.
pub(crate) struct Words<'t> {
    text: &'t str,
    toks: Vec<Tok>,
}

impl<'t> Words<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Words { text, toks: WORDS.find_iter(text).map(|m| Tok { s: m.start(), e: m.end() }).collect() }
    }
    fn w(&self, i: usize) -> &'t str {
        &self.text[self.toks[i].s..self.toks[i].e]
    }
    /// The text between word `i` and word `i + 1`.
    fn gap(&self, i: usize) -> &'t str {
        match self.toks.get(i + 1) {
            Some(n) => &self.text[self.toks[i].e..n.s],
            None => &self.text[self.toks[i].e..],
        }
    }
    /// Whether words `i` and `i + 1` are separated by a space (two, as OCR leaves them, count).
    fn spaced(&self, i: usize) -> bool {
        matches!(self.gap(i), " " | "  ")
    }
    /// The first word starting at or after `at`.
    fn at(&self, at: usize) -> usize {
        self.toks.partition_point(|t| t.s < at)
    }
    fn cap(&self, i: usize) -> bool {
        i < self.toks.len() && self.w(i).starts_with(|c: char| c.is_ascii_uppercase())
    }
    fn not_name(&self, i: usize) -> bool {
        if self.w(i).len() == 1 && self.gap(i) == ". " && self.cap(i + 1) {
            return false; // an initial: "A. Carter"
        }
        let w = self.w(i);
        let bare = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(w);
        NOT_NAMES.iter().any(|n| n.eq_ignore_ascii_case(w) || *n == bare)
    }
    /// Whether word `i` names a thing after a person ("Parkinson's disease", "Foley catheter").
    fn eponym(&self, i: usize) -> bool {
        let next = i + 1;
        next < self.toks.len() && !self.gap(i).contains('\n') && {
            let n = self.w(next).to_ascii_lowercase();
            EPONYM_HEADS.contains(&n.as_str())
        }
    }
    /// A word that can be part of a name here: capitalized, not a cue word, not a credential.
    fn namelike(&self, i: usize) -> bool {
        self.cap(i) && !self.not_name(i) && !self.eponym(i)
    }
    /// A word known as a name, or at least not an everyday word.
    fn plausible(&self, i: usize) -> bool {
        let w = self.w(i);
        lexicon::is_first(w) || lexicon::is_last(w) || !lexicon::is_common(w)
    }
    /// A word that stands as a given name after "Last, ": in the dictionary, or not an everyday
    /// word and followed by what ends a name.
    fn given_after_comma(&self, i: usize, strict: bool) -> bool {
        if !self.namelike(i) {
            return false;
        }
        let w = self.w(i);
        let ends = || self.gap(i).trim_start().starts_with(|c: char| !c.is_ascii_lowercase());
        lexicon::is_first(w) || (!lexicon::is_common(w) && (!strict || ends()))
    }

    /// The name starting at word `i`, as (last word, end offset): "Last, First [M.]",
    /// "First [M.] Last [Last]", "F. Last", or one word; `strict` asks every word to be
    /// plausible as a name (for weaker cues).
    fn name_at(&self, i: usize, strict: bool) -> Option<(usize, usize)> {
        if i >= self.toks.len() || !self.namelike(i) || (strict && self.w(i).len() > 1 && !self.plausible(i)) {
            return None;
        }
        let one_line = |j: usize| !self.gap(j).contains('\n');
        // "Cook, Jacob" / "COOK, JACOB A."
        if self.gap(i).trim_end() == "," && one_line(i) && self.given_after_comma(i + 1, strict) {
            return Some(self.with_initial(i + 1));
        }
        let mut j = i;
        let mut end = self.toks[i].e;
        // "J. Cook"
        if self.w(i).len() == 1 {
            if self.gap(i) == ". " && self.namelike(i + 1) {
                j = i + 1;
                end = self.toks[j].e;
            } else {
                return None;
            }
        }
        for _ in 0..2 {
            let gap = self.gap(j);
            let next = j + 1;
            if next >= self.toks.len() || !one_line(j) {
                break;
            }
            if (self.spaced(j) || gap == ". " && self.w(j).len() == 1) && self.w(next).len() == 1 && self.cap(next) && self.gap(next).starts_with('.')
            {
                // A middle initial, then the surname.
                if self.gap(next).starts_with(". ") && self.namelike(next + 1) && self.plausible(next + 1) {
                    j = next + 1;
                    end = self.toks[j].e;
                    continue;
                }
                break;
            }
            if self.spaced(j) && self.namelike(next) && self.plausible(next) && self.w(next).len() > 1 {
                j = next;
                end = self.toks[j].e;
                continue;
            }
            break;
        }
        // "Jr.", "III"
        if j + 1 < self.toks.len() && matches!(self.gap(j), " " | ", ") && SUFFIXES.contains(&self.w(j + 1)) {
            j += 1;
            end = self.toks[j].e;
        }
        Some((j, end))
    }

    fn with_initial(&self, i: usize) -> (usize, usize) {
        let n = i + 1;
        if n < self.toks.len() && self.gap(i) == " " && self.w(n).len() == 1 && self.cap(n) && self.gap(n).starts_with('.') {
            (n, self.toks[n].e + 1)
        } else {
            (i, self.toks[i].e)
        }
    }
}

fn span(start: usize, end: usize) -> Span {
    Span { start, end, category: Category::Name }
}

/// Names found by context (cues, credentials) and by the dictionaries; a word the dictionaries
/// alone would take is left to `places` when it was found as a place (`cities`).
pub(crate) fn detect_names(words: &Words, cities: &[Span]) -> Vec<Span> {
    let text = words.text;
    let mut out = Vec::new();
    for c in CUES.captures_iter(text) {
        let whole = c.get(0).expect("always");
        // Titles are written capitalized ("Dr.", "Mrs"); "dr" inside a sentence is not one.
        if c.name("title").is_some() && !whole.as_str().starts_with(|ch: char| ch.is_ascii_uppercase()) {
            continue;
        }
        let i = words.at(whole.end());
        if i >= words.toks.len() || text[whole.end()..words.toks[i].s].contains('\n') && c.name("colon").is_none() {
            continue;
        }
        // What lies between the cue and the name: spaces, a colon, or a title ("with Dr.").
        let between = &text[whole.end()..words.toks[i].s];
        if !between.trim().is_empty() {
            continue;
        }
        let strict = c.name("title").is_none() && c.name("colon").is_none();
        if let Some((_, end)) = words.name_at(i, strict) {
            out.push(span(words.toks[i].s, end));
        }
    }
    for c in CREDENTIAL.captures_iter(text) {
        let m = c.get(1).expect("always");
        // Keep the name's own words: drop cue words in front ("Signed Maria Lopez, MD").
        let mut i = words.at(m.start());
        while i < words.toks.len() && words.toks[i].e < m.end() && (words.not_name(i) || !words.cap(i)) {
            i += 1;
        }
        if i < words.toks.len() && words.toks[i].s < m.end() {
            out.push(span(words.toks[i].s, m.end()));
        }
    }
    // The dictionaries: a given name followed by a surname-like word; a given name or a
    // frequent surname alone when it is not also an everyday word.
    let mut i = 0;
    let in_city = |i: usize| cities.iter().any(|c| c.start < words.toks[i].e && words.toks[i].s < c.end);
    while i < words.toks.len() {
        // Two capitals ("AL", "OK") are state codes and abbreviations, not names.
        let short_caps = words.w(i).len() == 2 && words.w(i).chars().all(|c| c.is_ascii_uppercase());
        if !words.namelike(i) || in_city(i) || short_caps {
            i += 1;
            continue;
        }
        let w = words.w(i);
        if words.eponym(i + 1) && words.gap(i).trim().is_empty() && !words.gap(i).contains('\n') {
            // "Lou Gehrig's disease"
            i += 2;
            continue;
        }
        let first = lexicon::is_first(w);
        let common = lexicon::is_common(w);
        // "HICKS, KEITH": a surname, a comma and a given name, in the same case.
        if lexicon::is_last(w) && words.gap(i).trim_end() == "," && !words.gap(i).contains('\n') && i + 1 < words.toks.len() {
            let given = words.w(i + 1);
            let same_case = given.chars().all(|c| !c.is_ascii_lowercase()) == w.chars().all(|c| !c.is_ascii_lowercase());
            let given_ok = lexicon::is_first(given) && (!lexicon::is_common(given) || !lexicon::is_common(w))
                || lexicon::is_last(given) && !lexicon::is_common(given) && !lexicon::is_common(w);
            if given_ok && same_case && words.namelike(i + 1) && !in_city(i + 1) {
                let (j, end) = words.with_initial(i + 1);
                out.push(span(words.toks[i].s, end));
                i = j + 1;
                continue;
            }
        }
        // "J. Ramirez", where the letter starts a sentence or a line ("bed B. Will" is no initial).
        let starts = i == 0 || words.gap(i - 1).trim_end().ends_with(['.', ';', ':', '(', ',']) || words.gap(i - 1).contains('\n');
        if w.len() == 1 && starts && words.gap(i) == ". " && i + 1 < words.toks.len() && words.namelike(i + 1) {
            let last = words.w(i + 1);
            if lexicon::surname_rank(last).is_some_and(|r| r <= 10_000 || !lexicon::is_common(last)) {
                out.push(span(words.toks[i].s, words.toks[i + 1].e));
                i += 2;
                continue;
            }
        }
        let surname_at = |k: usize| {
            k < words.toks.len() && words.namelike(k) && words.w(k).len() > 1 && (lexicon::is_last(words.w(k)) || !lexicon::is_common(words.w(k)))
        };
        // "John Soto", "John V. Soto"
        let initial_then = i + 2 < words.toks.len() && words.w(i + 1).len() == 1 && words.gap(i + 1) == ". " && surname_at(i + 2);
        let next_is_surname = words.spaced(i) && (surname_at(i + 1) || initial_then);
        if first && (next_is_surname || !common || acts(words, i)) {
            if let Some((j, end)) = words.name_at(i, false) {
                if j > i || !common || acts(words, i) {
                    out.push(span(words.toks[i].s, end));
                }
                i = j + 1;
                continue;
            }
        }
        let frequent_surname = w.len() > 1 && lexicon::surname_rank(w).is_some_and(|r| r <= 20_000);
        if frequent_surname && !common && !after_article(words, i) {
            out.push(span(words.toks[i].s, words.toks[i].e));
        }
        i += 1;
    }
    out
}

/// Whether word `i` is followed by what a person does in a note ("Hector was seen today").
fn acts(words: &Words, i: usize) -> bool {
    const VERBS: &[&str] = &[
        "reports",
        "reported",
        "denies",
        "denied",
        "states",
        "stated",
        "presented",
        "presents",
        "tolerated",
        "arrived",
        "declined",
        "complains",
        "endorses",
        "agrees",
        "verbalized",
        "ambulates",
        "returns",
        "returned",
        "underwent",
        "remains",
    ];
    const TWO: &[(&str, &str)] = &[
        ("is", "a"),
        ("is", "an"),
        ("was", "seen"),
        ("is", "here"),
        ("was", "started"),
        ("is", "followed"),
        ("was", "admitted"),
        ("was", "discharged"),
    ];
    let next = |k: usize| (i + k < words.toks.len() && words.gap(i + k - 1) == " ").then(|| words.w(i + k));
    match (next(1), next(2)) {
        (Some(v), _) if VERBS.contains(&v) => true,
        (Some(a), Some(b)) => TWO.contains(&(a, b)),
        _ => false,
    }
}

/// "a Foley", "the Whipple": a thing, not a person.
fn after_article(words: &Words, i: usize) -> bool {
    i > 0 && words.gap(i - 1) == " " && ["a", "an", "the", "A", "An", "The"].contains(&words.w(i - 1))
}

/// Other whole-word mentions of already detected names (word by word) and cities (whole).
pub(crate) fn propagate(words: &Words, spans: &[Span]) -> Vec<Span> {
    let text = words.text;
    let mut names: HashSet<&str> = HashSet::new();
    let mut cities: HashSet<&str> = HashSet::new();
    for s in spans {
        let found = &text[s.start..s.end];
        match s.category {
            Category::Name => {
                for m in WORDS.find_iter(found) {
                    let w = m.as_str();
                    if w.len() > 2 && w.starts_with(|c: char| c.is_ascii_uppercase()) && !NOT_NAMES.contains(&w) && !lexicon::is_common(w) {
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
    let mut out: Vec<Span> = (0..words.toks.len())
        .filter(|&i| names.contains(words.w(i)) && free(words.toks[i].s, words.toks[i].e) && !words.eponym(i))
        .map(|i| span(words.toks[i].s, words.toks[i].e))
        .collect();
    let word_edge = |i: usize| text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
    for c in cities {
        for (i, _) in text.match_indices(c) {
            let end = i + c.len();
            let ends = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            if word_edge(i) && ends && free(i, end) {
                out.push(Span { start: i, end, category: Category::City });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::tests::only;
    use crate::Category;

    fn names(text: &str) -> Vec<String> {
        only(text, Category::Name)
    }

    fn cities(text: &str) -> Vec<String> {
        only(text, Category::City)
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
