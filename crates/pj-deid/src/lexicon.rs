//! The dictionaries: US Census given names and surnames, US places (GeoNames), and which of
//! them are also everyday English words (SCOWL). Built from public packages by
//! `data/build.py`; looked up without regard to case. A dictionary is one signal: a word in it
//! is taken alone only when it is not also a common word, and context decides the rest.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

fn set(list: &'static str) -> HashSet<&'static str> {
    list.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

static FIRST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(include_str!("../data/first_names.txt")));
/// Surnames with their frequency rank (1 = most frequent).
static LAST: LazyLock<HashMap<&'static str, u32>> = LazyLock::new(|| {
    include_str!("../data/surnames.txt").lines().map(str::trim).filter(|l| !l.is_empty()).enumerate().map(|(i, n)| (n, i as u32 + 1)).collect()
});
static PLACES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(include_str!("../data/places.txt")));
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(include_str!("../data/common_words.txt")));

/// `w` lowercased into `buf` (no allocation for words of up to 48 bytes).
fn lower<'a>(w: &str, buf: &'a mut [u8; 48]) -> Option<&'a str> {
    let b = w.as_bytes();
    if b.len() > buf.len() || !w.is_ascii() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(b) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..b.len()]).ok()
}

fn check(w: &str, f: impl FnOnce(&str) -> bool) -> bool {
    let mut buf = [0u8; 48];
    let w = w.trim_end_matches(['\'', '’']);
    lower(w, &mut buf).is_some_and(f)
}

/// A given name in the census lists.
pub fn is_first(w: &str) -> bool {
    check(w, |l| FIRST.contains(l))
}

/// A surname in the census list, and its frequency rank.
pub fn surname_rank(w: &str) -> Option<u32> {
    let mut buf = [0u8; 48];
    lower(w, &mut buf).and_then(|l| LAST.get(l).copied())
}

pub fn is_last(w: &str) -> bool {
    surname_rank(w).is_some()
}

/// A US place (one or more words, as written: "Bay Minette").
pub fn is_place(phrase: &str) -> bool {
    let mut buf = [0u8; 48];
    lower(phrase, &mut buf).is_some_and(|l| PLACES.contains(l))
}

/// A name or place that is also an everyday English word ("will", "hope", "mobile").
pub fn is_common(w: &str) -> bool {
    check(w, |l| COMMON.contains(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_know_what_is_also_a_word() {
        assert!(is_first("Jacob") && is_first("JACOB") && !is_first("Lisinopril"));
        assert!(surname_rank("Smith") == Some(1) && is_last("MCPHERSON"));
        assert!(is_place("Bay Minette") && is_place("springfield"));
        assert!(is_common("Will") && is_common("Hope") && !is_common("Gonzalez"));
    }
}
