//! Prints recall and precision per category of the worker's detectors on a labelled corpus,
//! beside peers' predictions on the same corpus, as a Markdown table (the one in BENCHMARKS.md).
//!
//! cargo run --release -p pj-deid --example eval -- CORPUS.jsonl [NAME=PREDICTIONS.jsonl ...] [--missed N] [--false-positives N]

use pj_deid::eval::{self, read_corpus, read_predictions, score, Score};
use std::collections::BTreeMap;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: eval CORPUS.jsonl [NAME=PREDICTIONS.jsonl ...] [--missed N] [--false-positives N]")?;
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let corpus = read_corpus(&read(&path)?).map_err(|e| format!("{path}: {e}"))?;
    let (mut peers, mut missed, mut fps) = (vec![], 0usize, 0usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--missed" => missed = args.next().and_then(|n| n.parse().ok()).ok_or("--missed takes a number")?,
            "--false-positives" => fps = args.next().and_then(|n| n.parse().ok()).ok_or("--false-positives takes a number")?,
            _ => {
                let (name, file) = a.split_once('=').ok_or(format!("{a}: expected NAME=PREDICTIONS.jsonl"))?;
                let preds = read_predictions(&read(file)?, &corpus).map_err(|e| format!("{file}: {e}"))?;
                let s = score(&corpus, |n| preds.get(&n.id).cloned().unwrap_or_default());
                peers.push((name.to_string(), s));
            }
        }
    }
    let started = std::time::Instant::now();
    let ours = score(&corpus, eval::detect);
    let took = started.elapsed();
    let cats: Vec<&String> = ours.keys().filter(|c| *c != "overall").collect();
    let mut head = "| category | labelled | pj-deid recall | pj-deid precision |".to_string();
    let mut rule = "| --- | --- | --- | --- |".to_string();
    for (name, _) in &peers {
        head += &format!(" {name} recall |");
        rule += " --- |";
    }
    println!("{head}\n{rule}");
    let row = |label: &str, key: &str, peers: &[(String, BTreeMap<String, Score>)]| {
        let s = ours[key];
        let mut line = format!("| {label} | {} | {:.4} | {:.4} |", s.gold, s.recall(), s.precision());
        for (_, p) in peers {
            line += &format!(" {:.4} |", p.get(key).map(|s| s.recall()).unwrap_or(0.0));
        }
        line
    };
    println!("{}", row("**overall**", "overall", &peers));
    for c in cats {
        println!("{}", row(c, c, &peers));
    }
    let mut line = format!("| precision, overall | | | {:.4} |", ours["overall"].precision());
    for (_, p) in &peers {
        line += &format!(" {:.4} |", p["overall"].precision());
    }
    println!("{line}");
    let bytes: usize = corpus.iter().map(|n| n.text.len()).sum();
    eprintln!("{} notes, {} identifiers, {} bytes; pj-deid scored in {:.2?}", corpus.len(), ours["overall"].gold, bytes, took);
    for (cat, text, context) in eval::missed(&corpus, eval::detect).iter().take(missed) {
        println!("missed {cat}: {text:?} in {context:?}");
    }
    for (cat, text, context) in eval::false_positives(&corpus, eval::detect).iter().take(fps) {
        println!("not an identifier, taken as {cat}: {text:?} in {context:?}");
    }
    Ok(())
}
