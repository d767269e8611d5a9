//! Dates (every element but the year alone is an identifier) and ages over 89, in the ways
//! people write them: numeric with any separator, day-month-year and month-day-year with the
//! month as a word or an abbreviation, weekday prefixes, "the 9th of July, 2010", partial dates
//! ("March 2019", "03/2019", "Sep 21", and "3/14" after a word that says when), ages in digits
//! or in words ("is 99", "99 y/o", "aged 101", "ninety-two", "in her nineties").

use crate::patterns::re;
use crate::{Category, Span};
use regex::Regex;
use std::sync::LazyLock;

const MONTH: &str =
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
const WEEKDAY: &str = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?";
const DAY: &str = r"(?:0?[1-9]|[12]\d|3[01])";
const MM: &str = r"(?:0?[1-9]|1[0-2])";
const YEAR: &str = r"(?:1[89]\d{2}|20\d{2})";

static DATES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let d = |s: String| re(&format!("(?i){s}"));
    vec![
        // 3/14/2023, 03-14-23, 3.14.2023 (dots only with a four-digit year)
        re(&format!(r"\b{MM}[/-]{DAY}[/-](?:{YEAR}|\d{{2}})\b")),
        re(&format!(r"\b{MM}\.{DAY}\.{YEAR}\b")),
        // 2023-03-14, 2023/03/14, 2023.03.14, and ISO date-times
        re(&format!(r"\b{YEAR}[-/.](?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12]\d|3[01])\b")),
        // 14-Mar-2023, 14 Mar 2023, 14MAR2023, 14th of March, 2023, the 14th of March
        d(format!(r"\b(?:the\s+)?{DAY}(?:st|nd|rd|th)?(?:[\s-]+of)?[\s-]*{MONTH}\.?(?:,?[\s-]*(?:{YEAR}|'?\d{{2}}\b))?\b")),
        // Monday, March 14, 2023; Mar. 14th, 2023; March 14; Mar-14-2023
        d(format!(r"\b{WEEKDAY}{MONTH}\.?[\s-]+{DAY}(?:st|nd|rd|th)?\b(?:,?[\s-]+{YEAR}\b)?")),
        // March 2023, Mar. 2023, March of 2023
        d(format!(r"\b{MONTH}\.?,?\s+(?:of\s+)?{YEAR}\b")),
        // 03/2023
        re(&format!(r"\b{MM}/{YEAR}\b")),
    ]
});
/// Month and day alone ("3/14") only after a word that says when, so doses, fractions, scores
/// and blood pressures ("1/2 tab", "5/5 strength", "120/80") are left alone.
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:on|since|until|till|through|thru|from|by|dated|date|dos|began|begun|started|starting|seen|admitted|discharged|visit|last|prior|next|scheduled|effective|before|after|as of|due)\b(?:[ \t]+[A-Za-z]+){{0,2}}\s*:?\s+({MM}/{DAY})\b(?:[^/\d]|$)"
    ))
});

/// Month and weekday names are matched whatever their case, but taken only when written as
/// names ("Mar", "MAR"), not as words ("mar", "may", "dec").
fn capitalized(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty() && !["the", "of", "st", "nd", "rd", "th"].iter().any(|x| x.eq_ignore_ascii_case(w)))
        .all(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Whether `s` is, as a whole, one of the dates above.
pub(crate) fn is_date(s: &str) -> bool {
    DATES.iter().any(|d| d.find(s).is_some_and(|m| m.len() == s.len()))
}

/// 90 to 125 in digits.
const OLD: &str = r"(9\d|1[01]\d|12[0-5])";
const UNITS: &str = r"(?:\s*-?\s*(?:years?|yrs?|y/?o|y\.o\.?|yo|yr)(?:[\s-]*(?:old|of\s+age))?\b|\s*(?:yo)?[FM]\b|-(?:year|yr)-old)";
static AGES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        // 99 y/o, 99-year-old, 99 years old, 99yo F, 99 F
        re(&format!(r"\b{OLD}(?i:{UNITS})")),
        // aged 101, age: 94, at age 95, turned 92, is 99 (after someone the note is about)
        re(&format!(
            r"(?i)\b(?:aged?|age\s*:|at\s+the\s+age\s+of|turned|turns|(?:he|she|they|patient|pt|who|mother|father|husband|wife)\s+(?:is|was|now)(?:\s+now)?)\s*{OLD}\b(?:[^.\d]|\.\D|$)"
        )),
    ]
});
/// Ages over 89 in words: ninety, ninety-two, one hundred (and) one.
static AGE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(ninety(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|(?:one\s+)?hundred(?:(?:\s+and)?[\s-](?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty))?)(?:[\s-]+(?:years?|yrs?)(?:[\s-]*old)?|[\s-]+year[\s-]+old|-year-old)\b",
    )
});
/// Ages in words without "years", after a word that says they are one ("is ninety-one").
static AGE_WORDS_SAID: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:aged?|age\s*:|turned|turns|(?:he|she|they|patient|pt|who)\s+(?:is|was|now)(?:\s+now)?)\s+(ninety(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|one\s+hundred(?:(?:\s+and)?[\s-](?:one|two|three|four|five|six|seven|eight|nine|ten))?)\b",
    )
});
/// "in her nineties", "in his 90s", "a nonagenarian", "centenarian".
static AGE_DECADE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:(?:in|into)\s+(?:his|her|their|the)\s+(?:late\s+|early\s+|mid-?\s*)?(?:nineties|90s|90's|hundreds)|nonagenarian|centenarian|supercentenarian)\b",
    )
});

pub(crate) fn detect(text: &str) -> Vec<Span> {
    let mut out = vec![];
    let mut push = |s: usize, e: usize, category: Category| out.push(Span { start: s, end: e, category });
    for r in DATES.iter() {
        for m in r.find_iter(text).filter(|m| capitalized(m.as_str())) {
            push(m.start(), m.end(), Category::Date);
        }
    }
    for c in MONTH_DAY.captures_iter(text) {
        let m = c.get(1).expect("the date group always takes part");
        push(m.start(), m.end(), Category::Date);
    }
    for r in AGES.iter() {
        for c in r.captures_iter(text) {
            let m = c.get(1).expect("the age group always takes part");
            push(m.start(), m.end(), Category::Age);
        }
    }
    for c in AGE_WORDS.captures_iter(text).chain(AGE_WORDS_SAID.captures_iter(text)) {
        let m = c.get(1).expect("the age group always takes part");
        push(m.start(), m.end(), Category::Age);
    }
    for m in AGE_DECADE.find_iter(text) {
        push(m.start(), m.end(), Category::Age);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::tests::only;
    use crate::Category::*;

    #[test]
    fn dates_in_every_common_form() {
        for d in [
            "07-Sep-2017",
            "9-SEP-2010",
            "09SEP2010",
            "10 October 2006",
            "Oct. 10, 2006",
            "October 10th, 2006",
            "the 10th of October, 2006",
            "Tuesday, October 10, 2006",
            "2006/10/10",
            "10.10.2006",
            "10-10-2006",
            "10/10/06",
            "October 2006",
            "Sep 21",
        ] {
            assert_eq!(only(&format!("Seen in clinic {d}; stable."), Date), vec![d], "{d}");
        }
        assert_eq!(only("Recheck on 3/14 at 10:30.", Date), vec!["3/14"]);
    }

    #[test]
    fn numbers_that_are_not_dates() {
        for t in ["Take 1/2 tab q6h.", "Strength 5/5 throughout.", "BP 120/80.", "Murmur grade 2/6.", "In 2019 she quit.", "Pain 7/10 at rest."] {
            assert_eq!(only(t, Date), Vec::<String>::new(), "{t}");
        }
    }

    #[test]
    fn ages_over_89_in_words_and_digits_but_not_other_numbers() {
        assert_eq!(only("He is 99 and lives alone.", Age), vec!["99"]);
        assert_eq!(only("A ninety-two-year-old veteran.", Age), vec!["ninety-two"]);
        assert_eq!(only("She is one hundred and two years old.", Age), vec!["one hundred and two"]);
        assert_eq!(only("99yo F with CHF; 101 y/o male", Age), vec!["99", "101"]);
        assert_eq!(only("She turned 94 last month; at age 96 she gardens.", Age), vec!["94", "96"]);
        assert_eq!(only("Still active in her nineties.", Age), vec!["in her nineties"]);
        for t in ["HR is 95 and regular.", "SpO2 98%, T 99.1 F.", "She is 89 and well.", "Glucose 110 mg/dL.", "BP is 100/60."] {
            assert_eq!(only(t, Age), Vec::<String>::new(), "{t}");
        }
    }
}
