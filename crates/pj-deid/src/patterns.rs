//! Pattern detectors for structured identifiers: contact details, network addresses, numbers
//! with a fixed shape (SSN, VIN, phone), and identifiers announced by a label of any kind (MRN,
//! member id, account, licence, plate, device serial, case, claim, accession, "<Word> #…").
//! Dates and ages are in `dates.rs`, addresses, cities and ZIP codes in `places.rs`.

use crate::{Category, Span};
use regex::{Captures, Regex};
use std::sync::LazyLock;

pub(crate) fn re(s: &str) -> Regex {
    Regex::new(s).expect("detector patterns are valid")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"));
static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\b(?:https?://|ftp://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]"#));
static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b"));
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?:\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}\b|\b(?:[0-9a-f]{1,4}:){1,7}:)")
});
static SSN: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{3})[- ](\d{2})[- ](\d{4})\b"));
static SSN_LABELLED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:SSN|SS#|SS\s+no\.?|social security(?: number| no\.?| #)?)\s*[:#]?\s*(\d{9}|\d{3}[- ]\d{2}[- ]\d{4})\b"));
/// North American numbers in their written forms: +1 / 1 / 001 prefixes, (area) or area with
/// a separator, extensions ("x063", "ext. 22").
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\+?1[\s.-]?|\b001[\s.-])?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?\b"));
/// Ten digits without separators: a North American number when its area code and exchange
/// are valid (neither starts with 0 or 1), with an optional extension.
static PHONE_BARE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:\+?1)?([2-9]\d{2}[2-9]\d{6})(?:\s?(?:x|ext\.?)\s?\d{1,6})?\b"));
static PHONE_LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(tel|telephone|phone|ph|cell|mobile|mob|home|work|contact|pager|fax)\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*(\+?1?\d{10})\b")
});
static VIN: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-HJ-NPR-Z0-9]{17}\b"));

/// What follows a label: "number", "no.", "#", "id", ":" in any order, then the value.
const VALUE: &str = r"\s*(?:(?:(?:number|num|n[o0]|nbr|id|lD)\b\.?|#)\s*){0,2}[:#=]?\s*(?:is\s+)?([A-Za-z0-9][A-Za-z0-9/-]*[A-Za-z0-9])";

/// Labels that announce an identifier, and the category of what follows them.
static LABELLED: LazyLock<Vec<(Regex, Category)>> = LazyLock::new(|| {
    let make = |labels: &str, c: Category| (re(&format!(r"(?i)\b(?:{})\b\.?{VALUE}", ocr_tolerant(labels))), c);
    vec![
        make(
            r"MRN|MR|medical record|medical record number|med(?:ical)? rec(?:ord)?|chart|patient id|hospital id|unit number|EMPI|MPI",
            Category::Mrn,
        ),
        make(
            r"member id|member|health plan(?: id)?|plan id|policy|insurance id|insurance|subscriber id|subscriber|medicaid(?: id)?|medicare(?: id)?|beneficiary id|group|HICN|MBI",
            Category::HealthPlan,
        ),
        make(r"account|acct|billing account|billing|FIN|financial", Category::Account),
        make(
            r"driver'?s licen[cs]e|licen[cs]e|lic|DL|state id|passport|permit|certificate|cert|DEA|NPI|board certification|registration",
            Category::License,
        ),
        make(r"serial|S/N|SN|device id|device serial|device|UDI|implant id|implant|pacemaker serial|model and serial", Category::Device),
        make(
            r"claim|case|reference|ref|encounter|visit id|visit|accession|specimen id|specimen|sample|order|requisition|req|ticket|confirmation|authorization|auth|tracking|report|episode|admission|enrollment|study id|subject id|participant id|biometric id|employee id|employee|badge|identifier|id",
            Category::OtherId,
        ),
    ]
});
/// Any capitalized word followed by "#" and a value with a digit ("Case #41690", "Order# A-2231").
static HASH_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"\b([A-Z][A-Za-z]+)\.?\s?#\s?:?\s*([A-Za-z0-9][A-Za-z0-9/-]*[0-9][A-Za-z0-9/-]*)"));
/// Words that take a "#" before a number that identifies nobody.
const NOT_ID_LABELS: &[&str] = &[
    "Room", "Rm", "Bed", "Floor", "Fl", "Gate", "Dose", "Step", "Grade", "Stage", "Level", "Tab", "Page", "Line", "Item", "Cycle", "Day", "Week",
    "Lot", "Size", "Catheter", "Tube", "Apt", "Suite", "Unit",
];
/// Licence plates after a word that announces one: one or two groups of capitals and digits
/// ("LSU 660", "97H 6825", "AMN-907", "7R831").
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i:\b(?:licen[cs]e plate|plate/VIN|plates?|tag|vehicle|car|truck|motorcycle|van|VIN|registration|reg\.?))\s*(?:(?i:number|no\.?|#)\s*)?[:#]?\s*((?:[A-Z0-9]{1,4}[ •·-]{1,2})?[A-Z0-9]{2,8})\b",
    )
});

/// A numeric range ("70-99", "0.6-1.2"): a reference range after "ref", not an identifier.
static RANGE: LazyLock<Regex> = LazyLock::new(|| re(r"^\d{1,3}(?:\.\d+)?-\d{1,3}(?:\.\d+)?$"));

/// `labels` (alternatives of a pattern) with each plain word of five letters or more
/// written to also match the letters OCR confuses (i/l/1, e/c, o/0, s/5, b/8, m/rn):
/// "llcense", "Acccssion" and "Requisltion" still announce an identifier.
fn ocr_tolerant(labels: &str) -> String {
    let mut alternatives = vec![];
    let (mut depth, mut from) = (0i32, 0usize);
    for (i, c) in labels.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 => {
                alternatives.push(&labels[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    alternatives.push(&labels[from..]);
    let fuzzy = |a: &str| -> String {
        a.chars()
            .map(|c| match c {
                'i' | 'l' => "[il1]".to_string(),
                'e' => "[ec]".to_string(),
                'o' => "[o0]".to_string(),
                's' => "[s5]".to_string(),
                'b' => "[b8]".to_string(),
                'm' => "(?:m|rn)".to_string(),
                c => c.to_string(),
            })
            .collect()
    };
    alternatives
        .into_iter()
        .map(|a| if a.len() >= 5 && a.chars().all(|c| c.is_ascii_lowercase() || c == ' ') { fuzzy(a) } else { a.to_string() })
        .collect::<Vec<_>>()
        .join("|")
}

fn push(out: &mut Vec<Span>, start: usize, end: usize, category: Category) {
    out.push(Span { start, end, category });
}

fn group(out: &mut Vec<Span>, caps: &Captures, i: usize, category: Category) {
    if let Some(m) = caps.get(i) {
        push(out, m.start(), m.end(), category);
    }
}

fn valid_ssn(area: &str, group_: &str, serial: &str) -> bool {
    area != "000" && area != "666" && !area.starts_with('9') && group_ != "00" && serial != "0000"
}

/// Whether `fax` is said in the few words before `start`.
fn says_fax(text: &str, start: usize) -> bool {
    let from = text[..start].char_indices().rev().nth(24).map(|(i, _)| i).unwrap_or(0);
    let before = text[from..start].to_ascii_lowercase();
    match (before.rfind("fax"), before.rfind("phone").max(before.rfind("tel")).max(before.rfind("call"))) {
        (Some(f), Some(p)) => f > p,
        (Some(_), None) => true,
        _ => false,
    }
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

pub(crate) fn detect(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for m in EMAIL.find_iter(text) {
        push(&mut out, m.start(), m.end(), Category::Email);
    }
    for m in URL.find_iter(text) {
        push(&mut out, m.start(), m.end(), Category::Url);
    }
    for m in IPV4.find_iter(text) {
        push(&mut out, m.start(), m.end(), Category::Ip);
    }
    for m in IPV6.find_iter(text) {
        // Needs hex groups with at least one digit or a "::", so clock times are not taken.
        let s = m.as_str();
        if s.contains("::") || s.matches(':').count() >= 7 {
            push(&mut out, m.start(), m.end(), Category::Ip);
        }
    }
    for c in SSN.captures_iter(text) {
        if valid_ssn(&c[1], &c[2], &c[3]) {
            group(&mut out, &c, 0, Category::Ssn);
        }
    }
    for c in SSN_LABELLED.captures_iter(text) {
        group(&mut out, &c, 1, Category::Ssn);
    }
    let labelled_start = out.len();
    for (re, cat) in LABELLED.iter() {
        // By hand rather than captures_iter: when a label is followed by a word ("visit.
        // Claim ..."), the search resumes at that word, which may itself be a label.
        let mut at = 0;
        while let Some(c) = re.captures_at(text, at) {
            let v = c.get(1).expect("the value group always takes part");
            if v.as_str().len() >= 4 && has_digit(v.as_str()) && !crate::dates::is_date(v.as_str()) && !RANGE.is_match(v.as_str()) {
                push(&mut out, v.start(), v.end(), *cat);
                at = v.end();
            } else {
                at = v.start();
            }
        }
    }
    for c in HASH_LABEL.captures_iter(text) {
        if !NOT_ID_LABELS.iter().any(|w| w.eq_ignore_ascii_case(&c[1])) && c[2].len() >= 3 {
            group(&mut out, &c, 2, Category::OtherId);
        }
    }
    let labelled = out[labelled_start..].to_vec();
    for c in PLATE.captures_iter(text) {
        let v = c.get(1).expect("the plate group always takes part");
        let compact = v.as_str().replace([' ', '-', '•', '·'], "");
        if has_digit(v.as_str()) && (4..=17).contains(&compact.len()) && v.as_str().bytes().all(|b| !b.is_ascii_lowercase()) {
            push(&mut out, v.start(), v.end(), Category::Vehicle);
        }
    }
    for m in VIN.find_iter(text) {
        let s = m.as_str();
        if has_digit(s) && s.bytes().any(|b| b.is_ascii_uppercase()) {
            push(&mut out, m.start(), m.end(), Category::Vehicle);
        }
    }
    for m in PHONE.find_iter(text) {
        let cat = if says_fax(text, m.start()) { Category::Fax } else { Category::Phone };
        push(&mut out, m.start(), m.end(), cat);
    }
    for c in PHONE_LABELLED.captures_iter(text) {
        let cat = if c[1].eq_ignore_ascii_case("fax") { Category::Fax } else { Category::Phone };
        group(&mut out, &c, 2, cat);
    }
    // Bare ten digits: a phone number unless a label said it is something else.
    for m in PHONE_BARE.find_iter(text) {
        if !labelled.iter().any(|l| l.start < m.end() && m.start() < l.end) {
            let cat = if says_fax(text, m.start()) { Category::Fax } else { Category::Phone };
            push(&mut out, m.start(), m.end(), cat);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::tests::only;
    use crate::Category::*;

    #[test]
    fn contact_details() {
        assert_eq!(only("mail j.doe+x@mail.example.org now", Email), vec!["j.doe+x@mail.example.org"]);
        assert_eq!(only("see https://portal.example.com/p?id=7. Or www.x.org", Url), vec!["https://portal.example.com/p?id=7", "www.x.org"]);
        assert_eq!(only("from 10.0.12.254 and 2001:db8::8a2e:370:7334 at 10:30", Ip), vec!["10.0.12.254", "2001:db8::8a2e:370:7334"]);
        assert_eq!(only("call 617-555-0134 or (617) 555 0135 ext 22", Phone), vec!["617-555-0134", "(617) 555 0135 ext 22"]);
        assert_eq!(only("Fax: 617.555.0199; phone 617.555.0100", Fax), vec!["617.555.0199"]);
        assert_eq!(only("Fax: 617.555.0199; phone 617.555.0100", Phone), vec!["617.555.0100"]);
        assert_eq!(only("Tel 6175550134 (mobile), fax: 6175550135, glucose 1234567890", Phone), vec!["6175550134"]);
        assert_eq!(only("Tel 6175550134 (mobile), fax: 6175550135", Fax), vec!["6175550135"]);
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(only("SSN 123-45-6789", Ssn), vec!["123-45-6789"]);
        assert_eq!(only("SSN: 123456789", Ssn), vec!["123456789"]);
        assert!(only("id 000-12-3456 and 666-12-3456 and 912-12-3456", Ssn).is_empty());
    }

    #[test]
    fn labelled_identifiers() {
        assert_eq!(only("MRN: 00123456", Mrn), vec!["00123456"]);
        assert_eq!(only("Medical record number 4471-22", Mrn), vec!["4471-22"]);
        assert_eq!(only("Member ID: XQH449201", HealthPlan), vec!["XQH449201"]);
        assert_eq!(only("Acct # 88120033", Account), vec!["88120033"]);
        assert_eq!(only("Driver's license D1234567", License), vec!["D1234567"]);
        assert_eq!(only("VIN 1HGCM82633A004352", Vehicle), vec!["1HGCM82633A004352"]);
        assert_eq!(only("Pacemaker serial PM-99812-Z", Device), vec!["PM-99812-Z"]);
        assert_eq!(only("Claim number CLM2023-0091", OtherId), vec!["CLM2023-0091"]);
        // A label followed by words, not an identifier.
        assert!(only("Member of the care team", HealthPlan).is_empty());
    }

    #[test]
    fn dates_but_not_bare_years() {
        assert_eq!(
            only("on 3/4/2021, 2021-03-04, March 4, 2021, 4th March 2021, Mar 2021, 03/2021; in 2021", Date),
            vec!["3/4/2021", "2021-03-04", "March 4, 2021", "4th March 2021", "Mar 2021", "03/2021"]
        );
        assert!(only("BP 120/80, dose 5/10", Date).is_empty());
    }

    #[test]
    fn ages_over_89_only() {
        assert_eq!(only("a 93-year-old woman, aged 101, her son (67 years old)", Age), vec!["93", "101"]);
        assert_eq!(only("Age: 90", Age), vec!["90"]);
    }

    #[test]
    fn zip_and_street() {
        assert_eq!(only("Boston, MA 02118-2393", Zip), vec!["02118-2393"]);
        assert_eq!(only("zip code 10027", Zip), vec!["10027"]);
        assert!(only("glucose 10027 mg", Zip).is_empty());
        assert_eq!(only("lives at 1600 N Pennsylvania Ave, Apt 4B today", Address), vec!["1600 N Pennsylvania Ave, Apt 4B"]);
        assert_eq!(only("PO Box 4410", Address), vec!["PO Box 4410"]);
        assert_eq!(only("she lives on Juniper Lane with", Address), vec!["Juniper Lane"]);
    }
}
