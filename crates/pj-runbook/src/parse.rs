//! One runbook file: TOML read into spanned raw shapes (unknown fields refused), then checked
//! against the catalog, each problem reported with its line, column and field.

use crate::catalog::{self, ArgSpec, ArgType};
use crate::template::{Ref, Template};
use crate::{Arg, Call, DataLoss, Errors, Failback, Param, Runbook, RunbookError, Step, StepKind, Wait, FORMAT};
use serde::Deserialize;
use serde_spanned::Spanned;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    format: Spanned<i64>,
    id: Spanned<String>,
    version: Spanned<String>,
    title: Spanned<String>,
    summary: String,
    data_loss: DataLoss,
    #[serde(default)]
    params: BTreeMap<String, Spanned<RawParam>>,
    steps: Spanned<Vec<Spanned<RawStep>>>,
    failback: Option<Spanned<RawFailback>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    summary: String,
    default: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Action,
    Wait,
    Approval,
    Runbook,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    kind: Spanned<Kind>,
    action: Option<Spanned<RawCall>>,
    prompt: Option<Spanned<String>>,
    confirm: Option<Spanned<String>>,
    runbook: Option<Spanned<String>>,
    params: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    precheck: Vec<Spanned<RawCall>>,
    wait: Option<Spanned<RawCall>>,
    #[serde(default)]
    verify: Vec<Spanned<RawCall>>,
    rollback: Option<Spanned<RawCall>>,
    typical: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailback {
    title: String,
    steps: Option<Vec<Spanned<String>>>,
    runbook: Option<Spanned<String>>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<String>>,
}

type RawCall = BTreeMap<String, Spanned<toml::Value>>;

/// Byte offsets to line and column (1-based, columns in characters).
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self.text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }
}

struct Check<'a> {
    file: &'a str,
    lines: Lines<'a>,
    errors: Vec<RunbookError>,
}

impl Check<'_> {
    fn err(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let (line, column) = self.lines.at(span.start);
        self.errors.push(RunbookError { file: self.file.to_string(), line, column, field: field.into(), message: message.into() });
    }

    fn template(&mut self, v: &Spanned<String>, field: &str) -> Template {
        match Template::parse(v.get_ref()) {
            Ok(t) => t,
            Err(e) => {
                self.err(v.span(), field, e);
                Template::default()
            }
        }
    }

    fn duration(&mut self, v: &Spanned<String>, field: &str) -> Option<Duration> {
        match humantime::parse_duration(v.get_ref()) {
            Ok(d) if d.is_zero() => {
                self.err(v.span(), field, "a duration must be more than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.err(v.span(), field, format!("`{}` is not a duration ({e}); write it like \"90s\", \"15m\" or \"1h 30m\"", v.get_ref()));
                None
            }
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Reads one runbook. `file` names it in errors (its path inside the bundle).
pub fn parse(file: &str, text: &str) -> Result<Runbook, Errors> {
    let lines = Lines::new(text);
    let raw: RawRunbook = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| lines.at(s.start));
            let field = e.span().map(|s| field_at(text, s.start)).unwrap_or_default();
            return Err(Errors(vec![RunbookError { file: file.to_string(), line, column, field, message: e.message().trim().to_string() }]));
        }
    };
    let mut c = Check { file, lines, errors: Vec::new() };

    if *raw.format.get_ref() != i64::from(FORMAT) {
        c.err(raw.format.span(), "format", format!("format {} is not one this console reads ({FORMAT}): use a newer Vigil", raw.format.get_ref()));
    }
    if !is_id(raw.id.get_ref()) {
        c.err(raw.id.span(), "id", "use lowercase letters, digits and dashes, starting with a letter (at most 64)");
    }
    if !is_version(raw.version.get_ref()) {
        c.err(raw.version.span(), "version", "write the runbook's version as MAJOR.MINOR.PATCH, like \"1.0.0\"");
    }
    if raw.title.get_ref().trim().is_empty() {
        c.err(raw.title.span(), "title", "give the runbook a title");
    }

    let mut params = Vec::new();
    for (name, p) in &raw.params {
        let field = format!("params.{name}");
        if !is_param(name) {
            c.err(p.span(), &field, "a parameter's name is lowercase letters, digits and underscores");
        }
        let default = p.get_ref().default.as_ref().map(|d| c.template(d, &format!("{field}.default")));
        if let (Some(d), Some(t)) = (&p.get_ref().default, &default) {
            if let Some(r) = t.refs().find(|r| !matches!(r, Ref::Env(_))) {
                c.err(d.span(), format!("{field}.default"), format!("{r}: a default may only read ${{env.…}}"));
            }
        }
        params.push(Param { name: name.clone(), summary: p.get_ref().summary.clone(), default, from_forward: None });
    }
    let param_names: BTreeSet<&str> = raw.params.keys().map(String::as_str).collect();

    if raw.steps.get_ref().is_empty() {
        c.err(raw.steps.span(), "steps", "a runbook needs at least one step");
    }
    // Outputs each earlier step declares, for `${steps.<id>.<output>}`.
    // None: the step's action was refused, so its outputs are not judged (no cascade of errors).
    let mut outputs: BTreeMap<String, Option<&'static [&'static str]>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut approved = false;
    let mut steps = Vec::new();
    for (i, s) in raw.steps.get_ref().iter().enumerate() {
        let header = c.lines.at(s.span().start).0;
        let s = s.get_ref();
        let at = |f: &str| format!("steps[{i}].{f}");
        let id = s.id.get_ref().clone();
        if !is_id(&id) {
            c.err(s.id.span(), at("id"), "use lowercase letters, digits and dashes, starting with a letter (at most 64)");
        } else if !seen.insert(id.clone()) {
            c.err(s.id.span(), at("id"), format!("step `{id}` is already defined above; step ids are unique"));
        }
        if s.title.get_ref().trim().is_empty() {
            c.err(s.title.span(), at("title"), "give the step a title");
        }
        let kind = *s.kind.get_ref();
        // Fields that belong to one kind only.
        let only: [(&str, bool, Kind); 5] = [
            ("action", s.action.is_some(), Kind::Action),
            ("prompt", s.prompt.is_some(), Kind::Approval),
            ("confirm", s.confirm.is_some(), Kind::Approval),
            ("runbook", s.runbook.is_some(), Kind::Runbook),
            ("params", s.params.is_some(), Kind::Runbook),
        ];
        for (f, present, k) in only {
            if present && k != kind {
                c.err(s.kind.span(), at(f), format!("`{f}` belongs to a step of kind \"{}\", not \"{}\"", kind_name(k), kind_name(kind)));
            }
        }
        if s.rollback.is_some() && kind != Kind::Action {
            c.err(s.kind.span(), at("rollback"), "only an action step has a rollback");
        }
        if kind == Kind::Runbook && (s.wait.is_some() || !s.precheck.is_empty() || !s.verify.is_empty() || s.typical.is_some()) {
            c.err(
                s.kind.span(),
                at("kind"),
                "a nested runbook step has no precheck, wait, verify or typical of its own: the nested runbook's steps have them",
            );
        }

        let scope = Scope { params: &param_names, earlier: &outputs, own: None, forward: None };
        let precheck = s
            .precheck
            .iter()
            .enumerate()
            .filter_map(|(j, p)| check_call(&mut c, p, &at(&format!("precheck[{j}]")), CallKind::Check, &scope))
            .collect();

        let kind_out = match kind {
            Kind::Action => match &s.action {
                None => {
                    c.err(s.kind.span(), at("action"), "an action step needs `action = { call = \"…\", … }`");
                    None
                }
                Some(a) => check_call(&mut c, a, &at("action"), CallKind::Action, &scope).map(|call| {
                    if let Some(spec) = catalog::action(&call.name) {
                        if spec.mutates && !approved {
                            c.err(a.span(), at("action"), format!("`{}` changes the platform: put an approval step before this one", spec.name));
                        }
                    }
                    StepKind::Action(call)
                }),
            },
            Kind::Wait => {
                if s.wait.is_none() {
                    c.err(s.kind.span(), at("wait"), "a wait step needs `wait = { until = \"…\", timeout = \"…\" }`");
                }
                Some(StepKind::Wait)
            }
            Kind::Approval => {
                approved = true;
                let prompt = s.prompt.as_ref().map(|p| p.get_ref().trim().to_string()).unwrap_or_default();
                if prompt.is_empty() {
                    c.err(s.kind.span(), at("prompt"), "an approval step needs a `prompt` saying what the operator approves");
                }
                match &s.confirm {
                    None => {
                        c.err(s.kind.span(), at("confirm"), "an approval step needs `confirm`: the text the operator types (like \"${env.name}\")");
                        None
                    }
                    Some(v) => {
                        let t = c.template(v, &at("confirm"));
                        if t.0.is_empty() {
                            c.err(v.span(), at("confirm"), "the text to type cannot be empty");
                        }
                        check_refs(&mut c, &t, v.span(), &at("confirm"), &scope);
                        Some(StepKind::Approval { prompt, confirm: t })
                    }
                }
            }
            Kind::Runbook => match &s.runbook {
                None => {
                    c.err(s.kind.span(), at("runbook"), "a nested runbook step needs `runbook = \"<id>\"`");
                    None
                }
                Some(r) => {
                    let mut params = BTreeMap::new();
                    for (k, v) in s.params.as_ref().map(|p| p.get_ref().iter()).into_iter().flatten() {
                        let t = c.template(v, &at(&format!("params.{k}")));
                        check_refs(&mut c, &t, v.span(), &at(&format!("params.{k}")), &scope);
                        params.insert(k.clone(), t);
                    }
                    if !is_id(r.get_ref()) {
                        c.err(r.span(), at("runbook"), "not a runbook id");
                    }
                    Some(StepKind::Runbook { id: r.get_ref().clone(), params })
                }
            },
        };

        let own: Option<&'static [&'static str]> = match &kind_out {
            Some(StepKind::Action(call)) => catalog::action(&call.name).map(|a| a.outputs),
            None if kind == Kind::Action => None,
            _ => Some(&[]),
        };
        let after = Scope { params: &param_names, earlier: &outputs, own: Some((&id, own)), forward: None };
        let wait = s.wait.as_ref().and_then(|w| check_wait(&mut c, w, &at("wait"), &after));
        let verify =
            s.verify.iter().enumerate().filter_map(|(j, v)| check_call(&mut c, v, &at(&format!("verify[{j}]")), CallKind::Check, &after)).collect();
        let rollback = s.rollback.as_ref().and_then(|r| check_call(&mut c, r, &at("rollback"), CallKind::Action, &after));

        let typical = match &s.typical {
            Some(t) => c.duration(t, &at("typical")).unwrap_or_default(),
            None if matches!(kind, Kind::Action | Kind::Wait) => {
                c.err(s.kind.span(), at("typical"), "give the step's typical duration (`typical = \"2m\"`): the expected RTO adds them up");
                Duration::ZERO
            }
            None => Duration::ZERO,
        };
        outputs.insert(id.clone(), own);
        if let Some(kind) = kind_out {
            steps.push(Step { id, title: s.title.get_ref().trim().to_string(), kind, precheck, wait, verify, rollback, typical, line: header });
        }
    }

    let failback = raw.failback.as_ref().map(|f| {
        let line = c.lines.at(f.span().start).0;
        let fb = f.get_ref();
        let mut keep = Vec::new();
        if let (Some(_), Some(r)) = (&fb.steps, &fb.runbook) {
            c.err(r.span(), "failback.runbook", "a failback either keeps some of the steps (`steps`) or runs another runbook (`runbook`), not both");
        }
        if let Some(r) = fb.runbook.as_ref().filter(|r| !is_id(r.get_ref())) {
            c.err(r.span(), "failback.runbook", "not a runbook id");
        }
        match &fb.steps {
            None if fb.runbook.is_some() => {}
            None => keep.extend(steps.iter().map(|s| s.id.clone())),
            Some(list) => {
                for (j, s) in list.iter().enumerate() {
                    if !seen.contains(s.get_ref()) {
                        c.err(s.span(), format!("failback.steps[{j}]"), format!("there is no step `{}`", s.get_ref()));
                    } else if keep.contains(s.get_ref()) {
                        c.err(s.span(), format!("failback.steps[{j}]"), format!("step `{}` is listed twice", s.get_ref()));
                    } else {
                        keep.push(s.get_ref().clone());
                    }
                }
                // The failback keeps the forward order.
                keep.sort_by_key(|k| steps.iter().position(|s| &s.id == k));
            }
        }
        let all_outputs = outputs.clone();
        let none = Outputs::new();
        let scope = Scope { params: &param_names, earlier: &none, own: None, forward: Some(&all_outputs) };
        let mut params = BTreeMap::new();
        for (k, v) in &fb.params {
            let field = format!("failback.params.{k}");
            if fb.runbook.is_none() && !param_names.contains(k.as_str()) {
                c.err(v.span(), &field, format!("the runbook has no parameter `{k}`"));
            }
            let t = c.template(v, &field);
            check_refs(&mut c, &t, v.span(), &field, &scope);
            params.insert(k.clone(), t);
        }
        Failback { title: fb.title.trim().to_string(), steps: keep, runbook: fb.runbook.as_ref().map(|r| r.get_ref().clone()), params, line }
    });

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| (e.line, e.column));
        return Err(Errors(c.errors));
    }
    Ok(Runbook {
        id: raw.id.into_inner(),
        version: raw.version.into_inner(),
        title: raw.title.into_inner().trim().to_string(),
        summary: raw.summary.trim().to_string(),
        data_loss: raw.data_loss,
        params,
        steps,
        failback,
        failback_of: None,
        file: file.to_string(),
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
    })
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Action => "action",
        Kind::Wait => "wait",
        Kind::Approval => "approval",
        Kind::Runbook => "runbook",
    }
}

fn is_param(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 6 && p.chars().all(|c| c.is_ascii_digit()))
}

type Outputs = BTreeMap<String, Option<&'static [&'static str]>>;

/// What `${…}` may name at a given place.
struct Scope<'a> {
    params: &'a BTreeSet<&'a str>,
    /// Steps above, with their outputs.
    earlier: &'a Outputs,
    /// The step itself, once its action ran (its wait, verifications and rollback).
    own: Option<(&'a str, Option<&'static [&'static str]>)>,
    /// A failback's parameters read the forward run's outputs.
    forward: Option<&'a Outputs>,
}

fn check_refs(c: &mut Check<'_>, t: &Template, span: Range<usize>, field: &str, scope: &Scope<'_>) {
    for r in t.refs() {
        let problem = match r {
            Ref::Param(p) if !scope.params.contains(p.as_str()) => Some(format!("{r}: the runbook declares no parameter `{p}` (add [params.{p}])")),
            Ref::Env(e) if !catalog::ENV.contains(&e.as_str()) => {
                Some(format!("{r}: not an environment value; use one of {}", catalog::ENV.join(", ")))
            }
            Ref::Step { step, output } => {
                let outs = match scope.own {
                    Some((own, outs)) if own == step => Some(outs),
                    _ => scope.earlier.get(step).copied(),
                };
                match outs {
                    None => Some(format!("{r}: there is no step `{step}` above this one")),
                    Some(None) => None,
                    Some(Some(outs)) if !outs.contains(&output.as_str()) => Some(if outs.is_empty() {
                        format!("{r}: step `{step}` records nothing")
                    } else {
                        format!("{r}: step `{step}` records {}", outs.join(", "))
                    }),
                    Some(_) => None,
                }
            }
            Ref::Forward { step, output } => match scope.forward {
                None => Some(format!("{r}: only a failback's parameters read the forward run")),
                Some(fwd) => match fwd.get(step) {
                    None => Some(format!("{r}: the runbook has no step `{step}`")),
                    Some(None) => None,
                    Some(Some(outs)) if !outs.contains(&output.as_str()) => {
                        Some(format!("{r}: step `{step}` records {}", if outs.is_empty() { "nothing".to_string() } else { outs.join(", ") }))
                    }
                    Some(_) => None,
                },
            },
            _ => None,
        };
        if let Some(p) = problem {
            c.err(span.clone(), field, p);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum CallKind {
    Action,
    Check,
}

fn check_call(c: &mut Check<'_>, raw: &Spanned<RawCall>, field: &str, kind: CallKind, scope: &Scope<'_>) -> Option<Call> {
    let key = if kind == CallKind::Action { "call" } else { "check" };
    check_named(c, raw, field, key, kind, scope, &[])
}

fn check_wait(c: &mut Check<'_>, raw: &Spanned<RawCall>, field: &str, scope: &Scope<'_>) -> Option<Wait> {
    let map = raw.get_ref();
    let dur = |c: &mut Check<'_>, k: &str| -> Option<Duration> {
        let v = map.get(k)?;
        match v.get_ref().as_str() {
            Some(s) => c.duration(&Spanned::new(v.span(), s.to_string()), &format!("{field}.{k}")),
            None => {
                c.err(v.span(), format!("{field}.{k}"), "write a duration as a string, like \"15m\"");
                None
            }
        }
    };
    let timeout = dur(c, "timeout");
    let every = if map.contains_key("every") { dur(c, "every") } else { Some(Duration::from_secs(10)) };
    if !map.contains_key("timeout") {
        c.err(raw.span(), format!("{field}.timeout"), "a wait needs a `timeout` (how long before the step fails)");
    }
    let until = check_named(c, raw, field, "until", CallKind::Check, scope, &["timeout", "every"])?;
    let (timeout, every) = (timeout?, every?);
    if every < Duration::from_secs(1) || every > timeout {
        c.err(raw.span(), format!("{field}.every"), "poll at least every second and no less often than the timeout");
        return None;
    }
    Some(Wait { until, timeout, every })
}

fn check_named(c: &mut Check<'_>, raw: &Spanned<RawCall>, field: &str, key: &str, kind: CallKind, scope: &Scope<'_>, extra: &[&str]) -> Option<Call> {
    let map = raw.get_ref();
    let Some(name) = map.get(key) else {
        c.err(raw.span(), field, format!("name the {} with `{key} = \"…\"`", if kind == CallKind::Action { "action" } else { "check" }));
        return None;
    };
    let Some(n) = name.get_ref().as_str() else {
        c.err(name.span(), format!("{field}.{key}"), "write the name as a string");
        return None;
    };
    let args: &[ArgSpec] = match kind {
        CallKind::Action => match catalog::action(n) {
            Some(a) => a.args,
            None => {
                let known: Vec<&str> = catalog::ACTIONS.iter().map(|a| a.name).collect();
                c.err(name.span(), format!("{field}.{key}"), format!("there is no action `{n}`; the actions are {}", known.join(", ")));
                return None;
            }
        },
        CallKind::Check => match catalog::check(n) {
            Some(a) => a.args,
            None => {
                let known: Vec<&str> = catalog::CHECKS.iter().map(|a| a.name).collect();
                c.err(name.span(), format!("{field}.{key}"), format!("there is no check `{n}`; the checks are {}", known.join(", ")));
                return None;
            }
        },
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, v) in map {
        if k == key || extra.contains(&k.as_str()) {
            continue;
        }
        let f = format!("{field}.{k}");
        let Some(spec) = args.iter().find(|a| a.name == k) else {
            let names: Vec<&str> = args.iter().map(|a| a.name).collect();
            let known = if names.is_empty() { "it takes none".to_string() } else { format!("it takes {}", names.join(", ")) };
            c.err(v.span(), f, format!("`{n}` has no argument `{k}`; {known}"));
            ok = false;
            continue;
        };
        let arg = match (spec.ty, v.get_ref()) {
            (ArgType::Text, toml::Value::String(s)) => {
                let t = c.template(&Spanned::new(v.span(), s.clone()), &f);
                check_refs(c, &t, v.span(), &f, scope);
                Arg::Text(t)
            }
            (ArgType::Bool, toml::Value::Boolean(b)) => Arg::Bool(*b),
            (ArgType::Count, toml::Value::Integer(i)) if *i >= 0 => Arg::Count(*i as u64),
            (ArgType::Duration, toml::Value::String(s)) => match c.duration(&Spanned::new(v.span(), s.clone()), &f) {
                Some(d) => Arg::Duration(d),
                None => {
                    ok = false;
                    continue;
                }
            },
            (ty, _) => {
                let want = match ty {
                    ArgType::Text => "a string",
                    ArgType::Bool => "true or false",
                    ArgType::Count => "a whole number, 0 or more",
                    ArgType::Duration => "a duration string like \"15m\"",
                };
                c.err(v.span(), f, format!("`{k}` takes {want}"));
                ok = false;
                continue;
            }
        };
        out.insert(k.clone(), arg);
    }
    for spec in args.iter().filter(|a| a.required) {
        if !map.contains_key(spec.name) {
            c.err(raw.span(), field, format!("`{n}` needs `{}` ({})", spec.name, spec.about));
            ok = false;
        }
    }
    ok.then(|| Call { name: n.to_string(), args: out })
}

/// The field a byte offset falls in, from the TOML's own layout: the latest table header above
/// it (`[[steps]]` counted) and the key that starts its line.
fn field_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let mut steps: i64 = -1;
    let mut table = String::new();
    let mut key = String::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        let t = line.trim();
        if t == "[[steps]]" {
            steps += 1;
            table = format!("steps[{steps}]");
            key.clear();
        } else if let Some(h) = t.strip_prefix('[').and_then(|h| h.trim_end_matches(']').split(']').next()) {
            let h = h.trim_start_matches('[').trim();
            table = match h.strip_prefix("steps.") {
                Some(rest) if steps >= 0 => format!("steps[{steps}].{rest}"),
                _ => h.to_string(),
            };
            key.clear();
        } else if let Some((k, _)) = t.split_once('=').filter(|_| t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '"')) {
            key = k.trim().to_string();
        }
        pos += line.len();
    }
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_at_names_the_table_and_key() {
        let text = "id = \"x\"\n[[steps]]\nid = \"a\"\n[[steps]]\nkind = \"bad\"\n[failback]\ntitle = 1\n";
        assert_eq!(field_at(text, 2), "id");
        assert_eq!(field_at(text, text.find("kind").unwrap()), "steps[1].kind");
        assert_eq!(field_at(text, text.find("title").unwrap()), "failback.title");
        assert_eq!(Lines::new(text).at(text.find("kind").unwrap()), (5, 1));
    }
}
