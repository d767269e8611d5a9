//! Scoring a detector against a labelled corpus, the same way for the worker and for peers.
//!
//! A corpus is JSON lines, `{"id", "text", "spans": [[start, end, category], ...]}`, and a
//! peer's predictions are JSON lines `{"id", "spans": [[start, end, label], ...]}`; offsets in
//! both count Unicode code points (as Python does). Recall counts an identifier as found when
//! every non-space character of it lies inside some predicted span, of any category (it is
//! removed either way); precision counts predicted spans that overlap a labelled identifier.

use crate::Category;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Spans as byte ranges with a category or label.
pub type Found = Vec<(usize, usize, String)>;

/// One labelled note, offsets converted to bytes.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub id: String,
    pub text: String,
    /// Byte ranges and categories of the identifiers in `text`.
    pub gold: Found,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    #[serde(default)]
    text: String,
    spans: Vec<(usize, usize, String)>,
}

/// Byte offset of each code-point offset of `text` (one past the end included).
fn byte_offsets(text: &str) -> Vec<usize> {
    let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    v.push(text.len());
    v
}

fn to_bytes(text: &str, spans: Found, what: &str) -> Result<Found, String> {
    let at = byte_offsets(text);
    spans
        .into_iter()
        .map(|(s, e, c)| match (at.get(s), at.get(e)) {
            (Some(&s), Some(&e)) if s <= e => Ok((s, e, c)),
            _ => Err(format!("{what}: span {s}..{e} is outside the text ({} characters)", at.len() - 1)),
        })
        .collect()
}

/// Reads a labelled corpus.
pub fn read_corpus(jsonl: &str) -> Result<Vec<Labelled>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            let gold = to_bytes(&line.text, line.spans, &format!("line {}", i + 1))?;
            Ok(Labelled { id: line.id, text: line.text, gold })
        })
        .collect()
}

/// Reads a peer's predictions for `corpus`, by note id, as byte ranges.
pub fn read_predictions(jsonl: &str, corpus: &[Labelled]) -> Result<HashMap<String, Found>, String> {
    let texts: HashMap<&str, &str> = corpus.iter().map(|n| (n.id.as_str(), n.text.as_str())).collect();
    let mut out = HashMap::new();
    for (i, l) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
        let text = texts.get(line.id.as_str()).ok_or_else(|| format!("line {}: note {} is not in the corpus", i + 1, line.id))?;
        out.insert(line.id.clone(), to_bytes(text, line.spans, &format!("line {}", i + 1))?);
    }
    Ok(out)
}

/// The worker's own detections of `note`, as byte ranges with category names.
pub fn detect(note: &Labelled) -> Found {
    crate::detect(&note.text).into_iter().map(|s| (s.start, s.end, s.category.as_str().to_string())).collect()
}

/// Counts for one category (or for all, under "overall").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Labelled identifiers.
    pub gold: u64,
    /// Of those, found.
    pub found: u64,
    /// Predicted spans (of this category, where the predictor names categories the same way).
    pub predicted: u64,
    /// Of those, overlapping a labelled identifier.
    pub correct: u64,
}

impl Score {
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.found as f64 / self.gold as f64
        }
    }

    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.correct as f64 / self.predicted as f64
        }
    }
}

/// Whether every non-space character of `text[s..e]` is inside one of `predicted`.
pub fn covered(text: &str, s: usize, e: usize, predicted: &Found) -> bool {
    text[s..e].char_indices().all(|(i, c)| c.is_whitespace() || predicted.iter().any(|p| p.0 <= s + i && s + i < p.1))
}

/// Scores `predict` on `corpus`: per labelled category, and "overall". Predicted spans are
/// counted under their own label when it is one of [`Category`]'s names, else only overall.
pub fn score(corpus: &[Labelled], mut predict: impl FnMut(&Labelled) -> Found) -> BTreeMap<String, Score> {
    let mut out: BTreeMap<String, Score> = BTreeMap::new();
    let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    for note in corpus {
        let predicted = predict(note);
        for (s, e, c) in &note.gold {
            let hit = covered(&note.text, *s, *e, &predicted);
            for key in [c.as_str(), "overall"] {
                let sc = out.entry(key.to_string()).or_default();
                sc.gold += 1;
                sc.found += hit as u64;
            }
        }
        for (s, e, c) in &predicted {
            let ok = note.gold.iter().any(|g| g.0 < *e && *s < g.1);
            let keys: &[&str] = if known.contains(&c.as_str()) { &[c.as_str(), "overall"] } else { &["overall"] };
            for key in keys {
                let sc = out.entry(key.to_string()).or_default();
                sc.predicted += 1;
                sc.correct += ok as u64;
            }
        }
    }
    out
}

/// What was missed, in context, for reading a failure: (category, identifier, context).
pub fn missed(corpus: &[Labelled], mut predict: impl FnMut(&Labelled) -> Found) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for note in corpus {
        let predicted = predict(note);
        for (s, e, c) in &note.gold {
            if !covered(&note.text, *s, *e, &predicted) {
                out.push((c.clone(), note.text[*s..*e].to_string(), context(&note.text, *s, *e)));
            }
        }
    }
    out
}

/// Predicted spans that overlap no labelled identifier, in context.
pub fn false_positives(corpus: &[Labelled], mut predict: impl FnMut(&Labelled) -> Found) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for note in corpus {
        for (s, e, c) in predict(note) {
            if !note.gold.iter().any(|g| g.0 < e && s < g.1) {
                out.push((c, note.text[s..e].to_string(), context(&note.text, s, e)));
            }
        }
    }
    out
}

fn context(text: &str, s: usize, e: usize) -> String {
    let from = text[..s].char_indices().rev().nth(40).map(|x| x.0).unwrap_or(0);
    let to = text[e..].char_indices().nth(40).map(|x| e + x.0).unwrap_or(text.len());
    text[from..to].replace('\n', "⏎")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_code_points_and_recall_ignores_spaces_inside_an_identifier() {
        let corpus = read_corpus(r#"{"id":"a","text":"Zoë Wu lives at 1 Elm St","spans":[[0,6,"name"],[16,24,"address"]]}"#).unwrap();
        assert_eq!(&corpus[0].text[corpus[0].gold[0].0..corpus[0].gold[0].1], "Zoë Wu");
        // Two spans around the space still remove the whole name; half an address is missed.
        let s = score(&corpus, |_| vec![(0, 4, "name".into()), (5, 7, "name".into()), (17, 21, "address".into()), (30, 31, "x".into())]);
        assert_eq!(s["name"], Score { gold: 1, found: 1, predicted: 2, correct: 2 });
        assert_eq!(s["address"].found, 0);
        assert_eq!(s["overall"], Score { gold: 2, found: 1, predicted: 4, correct: 3 });
    }

    #[test]
    fn a_span_outside_the_text_is_an_error_not_a_panic() {
        let e = read_corpus(r#"{"id":"a","text":"abc","spans":[[1,9,"name"]]}"#).unwrap_err();
        assert!(e.contains("outside the text"), "{e}");
    }
}
