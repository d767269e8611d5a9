//! Any text given to the runbook parser, alone and as a set: it answers a runbook or errors
//! that name a line inside the text, and never panics; a text value's references read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.split('\n').count();
    match pj_runbook::parse("runbooks/fuzz.toml", text) {
        Ok(rb) => {
            for s in &rb.steps {
                assert!(s.line >= 1 && s.line <= lines);
            }
            let set = pj_runbook::RunbookSet::from_sources(&[("runbooks/fuzz.toml".into(), text.to_string())]);
            if let Ok(set) = set {
                for r in set.all() {
                    let _ = set.expected(&r.id);
                    let _ = set.iam_actions(&r.id);
                }
            }
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            for e in &e.0 {
                assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {e}", e.line);
                assert!(e.column >= 1);
            }
        }
    }
    for piece in text.split('"') {
        if let Ok(t) = pj_runbook::Template::parse(piece) {
            assert_eq!(pj_runbook::Template::parse(&t.to_string()).as_ref(), Ok(&t));
        }
    }
});
