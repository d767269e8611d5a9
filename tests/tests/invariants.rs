//! Checks of ARCHITECTURE.md's invariants that are about the code's shape: which crates may
//! depend on what (read from Cargo.lock, transitively), that the operator log is written in
//! one place, and that no command lets the webview name a path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cargo.lock as package name → the names it depends on.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock");
    let mut graph = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let name = block.lines().find_map(|l| l.strip_prefix("name = ")).expect("a name").trim_matches('"').to_string();
        let mut deps = Vec::new();
        if let Some(start) = block.find("dependencies = [") {
            let list = &block[start + "dependencies = [".len()..];
            let list = &list[..list.find(']').expect("a closed list")];
            // Entries are "name" or "name version".
            deps.extend(
                list.split(',').map(|d| d.trim().trim_matches('"')).filter(|d| !d.is_empty()).map(|d| d.split(' ').next().unwrap().to_string()),
            );
        }
        graph.entry(name).or_insert_with(Vec::new).extend(deps);
    }
    graph
}

fn closure(graph: &BTreeMap<String, Vec<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(n) = todo.pop() {
        if seen.insert(n.clone()) {
            todo.extend(graph.get(&n).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn domain_crates_never_depend_on_tauri_or_the_webview() {
    let graph = lock_graph();
    for krate in ["vigil-dto", "vigil-aws", "vigil-evidence", "vigil-core", "vigil-cli", "pj-contract", "pj-audit", "pj-worker"] {
        assert!(graph.contains_key(krate), "{krate} is in Cargo.lock");
        let all = closure(&graph, krate);
        let web: Vec<&String> =
            all.iter().filter(|d| d.starts_with("tauri") || d.starts_with("wry") || d.starts_with("webkit2gtk") || *d == "leptos").collect();
        assert!(web.is_empty(), "{krate} depends on {web:?}");
    }
}

#[test]
fn the_evidence_crate_is_cpu_only() {
    let all = closure(&lock_graph(), "vigil-evidence");
    let io: Vec<&String> = all.iter().filter(|d| ["tokio", "hyper", "reqwest", "sqlx", "mio"].contains(&d.as_str())).collect();
    assert!(io.is_empty(), "vigil-evidence depends on {io:?}");
}

#[test]
fn only_the_aws_layer_depends_on_aws_sdk_crates_among_the_consoles_crates() {
    let graph = lock_graph();
    let sdk = |d: &String| d.starts_with("aws-sdk-") || d == "aws-config";
    for krate in ["vigil-core", "vigil-cli", "vigil-app", "vigil-dto"] {
        let direct: Vec<&String> = graph[krate].iter().filter(|d| sdk(d)).collect();
        assert!(direct.is_empty(), "{krate} uses {direct:?} directly; AWS calls go through vigil-aws");
    }
    assert!(graph["vigil-aws"].iter().any(sdk));
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The source of `file` without its `#[cfg(test)]` modules (they come last in this codebase).
fn code_part(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[test]
fn the_operator_log_is_appended_only_by_the_commit_helper() {
    let src = root().join("crates/vigil-core/src");
    let writers: Vec<PathBuf> = rust_files(&src)
        .into_iter()
        .filter(|f| !f.ends_with("oplog.rs") && !f.ends_with("environments/tests.rs"))
        .filter(|f| code_part(f).contains("oplog::append("))
        .collect();
    assert_eq!(writers, vec![src.join("core.rs")], "only Core::commit appends: a change and its record commit together");
    let core = code_part(&src.join("core.rs"));
    assert_eq!(core.matches("oplog::append(").count(), 1);
}

#[test]
fn no_command_takes_a_path_from_the_webview() {
    let dir = root().join("src-tauri/src/commands");
    let mut commands = 0;
    for f in rust_files(&dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        for part in text.split("#[tauri::command]").skip(1) {
            commands += 1;
            let signature = &part[..part.find('{').expect("a body")];
            let lowered = signature.to_ascii_lowercase();
            assert!(
                !lowered.contains("path") && !lowered.contains("dir:") && !lowered.contains("file:"),
                "{}: a command takes a path or file from the webview: {signature}",
                f.display()
            );
        }
    }
    assert!(commands > 20, "found {commands} commands");
}
