//! Pattern detectors for structured identifiers: contact details, network addresses, numbers
//! with a fixed shape (SSN, VIN), labelled identifiers (MRN, member id, account, licence,
//! device serial, ...), dates, ages over 89, ZIP codes and street addresses.

use super::{Category, Span};
use regex::{Captures, Regex};
use std::sync::LazyLock;

pub(super) const STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY";
const MONTH: &str =
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";

fn re(s: &str) -> Regex {
    Regex::new(s).expect("detector patterns are valid")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"));
static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\b(?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]"#));
static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b"));
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?:\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}\b|\b(?:[0-9a-f]{1,4}:){1,7}:)")
});
static SSN: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{3})[- ](\d{2})[- ](\d{4})\b"));
static SSN_LABELLED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:SSN|social security(?: number| no\.?)?)\s*[:#]?\s*(\d{9}|\d{3}[- ]\d{2}[- ]\d{4})\b"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b(?:\s?(?:x|ext\.?)\s?\d{1,5}\b)?"));
/// Ten digits without separators count as a phone number only after a label.
static PHONE_LABELLED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(tel|telephone|phone|ph|cell|mobile|mob|home|work|contact|fax)\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*(\+?1?\d{10})\b"));
static VIN: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-HJ-NPR-Z0-9]{17}\b"));

/// Labels that announce an identifier, and the category of what follows them.
static LABELLED: LazyLock<Vec<(Regex, Category)>> = LazyLock::new(|| {
    let value = r"\s*(?:number|num|no\.?|#|id)?\s*[:#=]?\s*(?:is\s+)?([A-Za-z0-9][A-Za-z0-9/-]*[A-Za-z0-9])";
    let make = |labels: &str, c: Category| (re(&format!(r"(?i)\b(?:{labels})\b\.?{value}")), c);
    vec![
        make(r"MRN|MR|medical record|med(?:ical)? rec(?:ord)?|chart|patient id|hospital id|unit number", Category::Mrn),
        make(
            r"member id|member|health plan(?: id)?|plan id|policy|insurance id|insurance|subscriber id|subscriber|medicaid(?: id)?|medicare(?: id)?|beneficiary id|group",
            Category::HealthPlan,
        ),
        make(r"account|acct|billing account|billing", Category::Account),
        make(r"driver'?s licen[cs]e|licen[cs]e|certificate|cert|DEA|NPI|board certification|registration", Category::License),
        make(r"VIN|vehicle id(?:entification)?|vehicle|licen[cs]e plate|plate", Category::Vehicle),
        make(r"serial|S/N|SN|device id|device serial|device|UDI|implant id|implant|pacemaker serial", Category::Device),
        make(
            r"claim|case|reference|ref|encounter|visit id|visit|accession|specimen id|specimen|biometric id|employee id|badge|identifier|id",
            Category::OtherId,
        ),
    ]
});

static DATES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(r"\b(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:(?:19|20)\d{2}|\d{2})\b"),
        re(r"\b(?:19|20)\d{2}[-/](?:0[1-9]|1[0-2])[-/](?:0[1-9]|[12]\d|3[01])\b"),
        re(&format!(r"\b{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?\b")),
        re(&format!(r"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\.?,?(?:\s+(?:19|20)\d{{2}})?\b")),
        re(
            r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?,?\s+(?:19|20)\d{2}\b",
        ),
        re(r"\b(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}\b"),
    ]
});
static AGE_UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(\d{2,3})\s*[- ]?\s*(?:years?|yrs?|y/o|yo|y\.o\.)(?:[\s-]*old)?\b"));
static AGE_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:age|aged)\s*[:]?\s*(\d{2,3})\b"));
static ZIP_STATE: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"\b(?:{STATES}),?\s+(\d{{5}}(?:-\d{{4}})?)\b")));
static ZIP_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:zip(?:\s*code)?|postal code)\s*[:#]?\s*(\d{5}(?:-\d{4})?)\b"));
/// A street named without a house number, after "lives on" and the like.
static STREET_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?i:lives on|lives at|resides on|resides at|moved to|address is|home on)\s+((?:[A-Z][a-zA-Z'-]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle|Parkway|Highway)\b\.?)",
    )
});
static STREET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][a-zA-Z'-]+|\d+(?:st|nd|rd|th))\.?\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Alley|Row)\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Room|Fl|Floor|#)\.?\s*#?[A-Za-z0-9-]+\b)?",
    )
});
static PO_BOX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bP\.?\s?O\.?\s+Box\s+\d+\b"));

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

pub(super) fn detect(text: &str) -> Vec<Span> {
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
    for m in PHONE.find_iter(text) {
        let cat = if says_fax(text, m.start()) { Category::Fax } else { Category::Phone };
        push(&mut out, m.start(), m.end(), cat);
    }
    for c in PHONE_LABELLED.captures_iter(text) {
        let cat = if c[1].eq_ignore_ascii_case("fax") { Category::Fax } else { Category::Phone };
        group(&mut out, &c, 2, cat);
    }
    for m in VIN.find_iter(text) {
        let s = m.as_str();
        if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
            push(&mut out, m.start(), m.end(), Category::Vehicle);
        }
    }
    for (re, cat) in LABELLED.iter() {
        // By hand rather than captures_iter: when a label is followed by a word ("visit.
        // Claim ..."), the search resumes at that word, which may itself be a label.
        let mut at = 0;
        while let Some(c) = re.captures_at(text, at) {
            let v = c.get(1).expect("the value group always takes part");
            let is_date = DATES.iter().any(|d| d.find(v.as_str()).is_some_and(|m| m.len() == v.len()));
            if v.as_str().len() >= 4 && v.as_str().bytes().any(|b| b.is_ascii_digit()) && !is_date {
                push(&mut out, v.start(), v.end(), *cat);
                at = v.end();
            } else {
                at = v.start();
            }
        }
    }
    for r in DATES.iter() {
        for m in r.find_iter(text) {
            push(&mut out, m.start(), m.end(), Category::Date);
        }
    }
    for r in [&*AGE_UNIT, &*AGE_LABEL] {
        for c in r.captures_iter(text) {
            let n: u32 = c[1].parse().unwrap_or(0);
            if (90..130).contains(&n) {
                group(&mut out, &c, 1, Category::Age);
            }
        }
    }
    for r in [&*ZIP_STATE, &*ZIP_LABEL] {
        for c in r.captures_iter(text) {
            group(&mut out, &c, 1, Category::Zip);
        }
    }
    for c in STREET_CONTEXT.captures_iter(text) {
        group(&mut out, &c, 1, Category::Address);
    }
    for r in [&*STREET, &*PO_BOX] {
        for m in r.find_iter(text) {
            push(&mut out, m.start(), m.end(), Category::Address);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::found;
    use super::super::Category::{self, *};

    fn only(text: &str, c: Category) -> Vec<String> {
        found(text).into_iter().filter(|(_, k)| *k == c).map(|(s, _)| s).collect()
    }

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
