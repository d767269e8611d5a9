//! The bundle's runbooks together: ids unique and matching their files, nested runbooks that
//! exist with the parameters they need and no cycle, and each failback generated from its
//! forward definition (`<id>-failback`: the steps it keeps, its parameters from the forward run).

use crate::catalog;
use crate::template::Ref;
use crate::{Errors, Param, Runbook, RunbookError, StepKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// The suffix of a generated failback's id.
pub const FAILBACK_SUFFIX: &str = "-failback";

#[derive(Debug, Clone, Default)]
pub struct RunbookSet {
    runbooks: BTreeMap<String, Runbook>,
}

fn err(file: &str, line: usize, field: impl Into<String>, message: impl Into<String>) -> RunbookError {
    RunbookError { file: file.to_string(), line, column: 1, field: field.into(), message: message.into() }
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines().position(|l| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='))).map_or(1, |i| i + 1)
}

impl RunbookSet {
    /// Reads every `*.toml` in `dir` (not below it); files are named `<prefix>/<file name>` in errors.
    pub fn load_dir(dir: &Path, prefix: &str) -> Result<RunbookSet, Errors> {
        let entries = std::fs::read_dir(dir).map_err(|e| Errors(vec![err(prefix, 1, "", format!("cannot list {prefix}: {e}"))]))?;
        let mut sources = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Errors(vec![err(prefix, 1, "", format!("cannot list {prefix}: {e}"))]))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".toml") {
                continue;
            }
            let file = format!("{prefix}/{name}");
            let text = std::fs::read_to_string(entry.path()).map_err(|e| Errors(vec![err(&file, 1, "", format!("cannot read it: {e}"))]))?;
            sources.push((file, text));
        }
        sources.sort();
        Self::from_sources(&sources)
    }

    /// Checks the runbooks `(file, text)` together; every problem of every file is reported.
    pub fn from_sources(sources: &[(String, String)]) -> Result<RunbookSet, Errors> {
        let mut errors = Vec::new();
        let mut runbooks = BTreeMap::new();
        for (file, text) in sources {
            match crate::parse(file, text) {
                Err(Errors(e)) => errors.extend(e),
                Ok(rb) => {
                    let stem = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                    if stem != rb.id {
                        errors.push(err(
                            file,
                            line_of_key(text, "id"),
                            "id",
                            format!("the runbook `{}` is in {file}: name the file {}.toml", rb.id, rb.id),
                        ));
                    } else if runbooks.contains_key(&rb.id) {
                        errors.push(err(file, line_of_key(text, "id"), "id", format!("another file already defines `{}`", rb.id)));
                    } else {
                        runbooks.insert(rb.id.clone(), rb);
                    }
                }
            }
        }
        // Generated failbacks.
        let mut generated = Vec::new();
        for rb in runbooks.values() {
            if let Some(fb) = &rb.failback {
                let id = format!("{}{FAILBACK_SUFFIX}", rb.id);
                if runbooks.contains_key(&id) {
                    errors.push(err(
                        &rb.file,
                        fb.line,
                        "failback",
                        format!("a runbook named `{id}` already exists; the generated failback takes that name"),
                    ));
                    continue;
                }
                match failback_of(rb) {
                    // Undone by another runbook: it loses what that runbook loses.
                    Ok(mut f) => {
                        if let Some(other) = fb.runbook.as_ref().and_then(|r| runbooks.get(r)) {
                            f.data_loss = other.data_loss;
                        }
                        generated.push(f)
                    }
                    Err(e) => errors.extend(e),
                }
            }
        }
        for f in generated {
            runbooks.insert(f.id.clone(), f);
        }
        // Nested runbooks: they exist, get what they need, and never call back up.
        for rb in runbooks.values() {
            for (i, s) in rb.steps.iter().enumerate() {
                let StepKind::Runbook { id, params } = &s.kind else { continue };
                let field = format!("steps[{i}].runbook");
                let Some(nested) = runbooks.get(id) else {
                    let known: Vec<&str> = runbooks.keys().map(String::as_str).collect();
                    errors.push(err(&rb.file, s.line, field, format!("there is no runbook `{id}`; the bundle has {}", known.join(", "))));
                    continue;
                };
                for k in params.keys() {
                    if !nested.params.iter().any(|p| &p.name == k) {
                        errors.push(err(&rb.file, s.line, format!("steps[{i}].params.{k}"), format!("runbook `{id}` has no parameter `{k}`")));
                    }
                }
                for p in nested.params.iter().filter(|p| p.default.is_none() && p.from_forward.is_none()) {
                    if !params.contains_key(&p.name) {
                        errors.push(err(
                            &rb.file,
                            s.line,
                            format!("steps[{i}].params"),
                            format!("runbook `{id}` needs parameter `{}` ({})", p.name, p.summary),
                        ));
                    }
                }
            }
        }
        for id in runbooks.keys() {
            if let Some(path) = cycle(&runbooks, id, &mut Vec::new()) {
                let rb = &runbooks[id];
                errors.push(err(&rb.file, 1, "steps", format!("nested runbooks call each other: {}", path.join(" → "))));
                break;
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            errors.dedup();
            return Err(Errors(errors));
        }
        Ok(RunbookSet { runbooks })
    }

    pub fn get(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.get(id)
    }

    /// Every runbook, generated failbacks included, by id.
    pub fn all(&self) -> impl Iterator<Item = &Runbook> {
        self.runbooks.values()
    }

    /// The expected duration: each step's typical time, a nested runbook's own expected time.
    pub fn expected(&self, id: &str) -> Duration {
        self.get(id).map_or(Duration::ZERO, |rb| {
            rb.steps
                .iter()
                .map(|s| match &s.kind {
                    StepKind::Runbook { id, .. } => self.expected(id),
                    _ => s.typical,
                })
                .sum()
        })
    }

    /// The IAM actions a run calls, nested runbooks included (what a dry run simulates).
    pub fn iam_actions(&self, id: &str) -> BTreeSet<&'static str> {
        let mut out = BTreeSet::new();
        if let Some(rb) = self.get(id) {
            for (_, c) in rb.calls() {
                let iam = catalog::action(&c.name).map(|a| a.iam).or_else(|| catalog::check(&c.name).map(|k| k.iam)).unwrap_or(&[]);
                out.extend(iam.iter().copied());
            }
            for s in &rb.steps {
                if let StepKind::Runbook { id, .. } = &s.kind {
                    out.extend(self.iam_actions(id));
                }
            }
        }
        out
    }
}

fn cycle(all: &BTreeMap<String, Runbook>, id: &str, path: &mut Vec<String>) -> Option<Vec<String>> {
    if path.iter().any(|p| p == id) {
        let mut p = path.clone();
        p.push(id.to_string());
        return Some(p);
    }
    let rb = all.get(id)?;
    path.push(id.to_string());
    for s in &rb.steps {
        if let StepKind::Runbook { id, .. } = &s.kind {
            if let Some(c) = cycle(all, id, path) {
                return Some(c);
            }
        }
    }
    path.pop();
    None
}

/// The failback of `rb`: the steps its definition keeps, each unchanged, its parameters from the
/// forward run where the definition says so. Steps that read a dropped step are refused.
fn failback_of(rb: &Runbook) -> Result<Runbook, Vec<RunbookError>> {
    let fb = rb.failback.as_ref().expect("called with a failback");
    if let Some(nested) = &fb.runbook {
        // One step running the other runbook. What it is given is the failback's own parameters,
        // valued from the forward run (its parameters and outputs) when the failback starts.
        let params: Vec<Param> = fb
            .params
            .iter()
            .map(|(name, t)| Param {
                name: name.clone(),
                summary: format!("{name} of {nested}, from the run of {} it undoes", rb.id),
                default: None,
                from_forward: Some(t.clone()),
            })
            .collect();
        let passed = fb
            .params
            .keys()
            .map(|name| Ok((name.clone(), crate::template::Template::parse(&format!("${{params.{name}}}"))?)))
            .collect::<Result<BTreeMap<_, _>, String>>()
            .map_err(|e| vec![err(&rb.file, fb.line, "failback.params", e)])?;
        let step = crate::Step {
            id: "failback".to_string(),
            title: fb.title.clone(),
            kind: StepKind::Runbook { id: nested.clone(), params: passed },
            precheck: Vec::new(),
            wait: None,
            verify: Vec::new(),
            rollback: None,
            typical: Duration::ZERO,
            line: fb.line,
        };
        return Ok(Runbook {
            id: format!("{}{FAILBACK_SUFFIX}", rb.id),
            title: fb.title.clone(),
            summary: format!("Generated from {} ({}): runs {nested}.", rb.id, rb.title),
            params,
            steps: vec![step],
            failback: None,
            failback_of: Some(rb.id.clone()),
            ..rb.clone()
        });
    }
    let steps: Vec<_> = rb.steps.iter().filter(|s| fb.steps.contains(&s.id)).cloned().collect();
    let mut errors = Vec::new();
    let kept: BTreeSet<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    let mut approved = false;
    for s in &steps {
        let reads_dropped = rb.calls().filter(|(st, _)| st.id == s.id).flat_map(|(_, c)| c.args.values()).find_map(|a| match a {
            crate::Arg::Text(t) => t.refs().find_map(|r| match r {
                Ref::Step { step, .. } if !kept.contains(step.as_str()) => Some(r.clone()),
                _ => None,
            }),
            _ => None,
        });
        if let Some(r) = reads_dropped {
            errors.push(err(&rb.file, fb.line, "failback.steps", format!("step `{}` reads {r}, which the failback drops: keep that step too", s.id)));
        }
        match &s.kind {
            StepKind::Approval { .. } => approved = true,
            StepKind::Action(c) if !approved && catalog::action(&c.name).is_some_and(|a| a.mutates) => {
                errors.push(err(
                    &rb.file,
                    fb.line,
                    "failback.steps",
                    format!("step `{}` changes the platform but the failback keeps no approval step before it", s.id),
                ));
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let params = rb.params.iter().map(|p| Param { from_forward: fb.params.get(&p.name).cloned(), ..p.clone() }).collect::<Vec<Param>>();
    Ok(Runbook {
        id: format!("{}{FAILBACK_SUFFIX}", rb.id),
        title: fb.title.clone(),
        summary: format!("Generated from {} ({}): {}", rb.id, rb.title, rb.summary),
        params,
        steps,
        failback: None,
        failback_of: Some(rb.id.clone()),
        ..rb.clone()
    })
}
