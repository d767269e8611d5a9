//! Prints what the detectors find in the text on standard input, one identifier per line
//! (category, byte range, text): `echo "Seen by Dr. Cook" | cargo run -p pj-deid --example detect`

use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("text on standard input");
    for s in pj_deid::detect(&text) {
        println!("{:<12} {:>6}..{:<6} {:?}", s.category.as_str(), s.start, s.end, &text[s.start..s.end]);
    }
}
