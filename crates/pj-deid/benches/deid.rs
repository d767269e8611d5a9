//! De-identification throughput on one core: 2 KB synthetic notes, documents per second,
//! against a baseline measured in the same run: SHA-256 of the same notes, the per-document
//! work the pipeline does anyway (idempotency key). `cargo bench -p pj-deid --bench deid`

use pj_deid::corpus::{note, Rng};
use pj_deid::{deidentify, DateMode, Options, ReplaceMode};
use std::time::Instant;

fn main() {
    let mut rng = Rng::new(7);
    let notes: Vec<String> = (0..2000).map(|_| note(&mut rng, 2048).text).collect();
    let bytes: usize = notes.iter().map(|n| n.len()).sum();
    let opts = Options { replace: ReplaceMode::Surrogate, dates: DateMode::Shift, key: vec![7; 32] };
    // Warm up the lazily compiled patterns.
    let _ = deidentify(&notes[0], &opts, None, b"warm");

    let rounds = 3;
    let (mut deid_best, mut base_best) = (f64::MAX, f64::MAX);
    let mut sink = 0usize;
    for _ in 0..rounds {
        let t = Instant::now();
        for (i, n) in notes.iter().enumerate() {
            sink += deidentify(n, &opts, None, &i.to_le_bytes()).text.len();
        }
        deid_best = deid_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for n in &notes {
            sink += <sha2::Sha256 as sha2::Digest>::digest(n.as_bytes())[0] as usize;
        }
        base_best = base_best.min(t.elapsed().as_secs_f64());
    }
    let docs = notes.len() as f64;
    println!("notes: {} of {} bytes on average (best of {rounds} rounds, one core)", notes.len(), bytes / notes.len());
    println!("de-identification: {:.0} documents/s ({:.2} MB/s)", docs / deid_best, bytes as f64 / deid_best / 1e6);
    println!("baseline (SHA-256 of each note): {:.0} documents/s", docs / base_best);
    println!("ratio de-identification / baseline time: {:.1}", deid_best / base_best);
    std::hint::black_box(sink);
}
