//! Text values with `${…}` references: `${params.<name>}`, `${env.<name>}`,
//! `${steps.<step>.<output>}` and, in a failback's parameters, `${forward.<step>.<output>}` (what
//! the forward run recorded). `$$` is a literal `$`. Parsing only checks the form; the runbook
//! checks that each reference names something that exists before it is used.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    Param(String),
    Env(String),
    Step { step: String, output: String },
    Forward { step: String, output: String },
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Param(p) => write!(f, "${{params.{p}}}"),
            Ref::Env(e) => write!(f, "${{env.{e}}}"),
            Ref::Step { step, output } => write!(f, "${{steps.{step}.{output}}}"),
            Ref::Forward { step, output } => write!(f, "${{forward.{step}.{output}}}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Ref(Ref),
}

/// A parsed text value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template(pub Vec<Part>);

impl Template {
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            text.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                text.push('$');
                rest = r;
            } else if let Some(r) = after.strip_prefix('{') {
                let end = r.find('}').ok_or_else(|| format!("`${{` at byte {i} is not closed with `}}`"))?;
                let reference = parse_ref(&r[..end])?;
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Ref(reference));
                rest = &r[end + 1..];
            } else {
                return Err(format!("a lone `$` at byte {i}: write `${{…}}` for a reference or `$$` for a dollar sign"));
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template(parts))
    }

    pub fn refs(&self) -> impl Iterator<Item = &Ref> {
        self.0.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Text(_) => None,
        })
    }

    /// The value with every reference looked up; the first one that has no value is the error.
    pub fn render(&self, lookup: &mut dyn FnMut(&Ref) -> Option<String>) -> Result<String, Ref> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Ref(r) => out.push_str(&lookup(r).ok_or_else(|| r.clone())?),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            match p {
                Part::Text(t) => write!(f, "{}", t.replace('$', "$$"))?,
                Part::Ref(r) => write!(f, "{r}")?,
            }
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn parse_ref(inner: &str) -> Result<Ref, String> {
    let parts: Vec<&str> = inner.trim().split('.').collect();
    let bad = |why: &str| format!("`${{{inner}}}` {why}");
    if parts.iter().any(|p| !is_name(p)) {
        return Err(bad("is not a reference: use ${params.<name>}, ${env.<name>} or ${steps.<step>.<output>}"));
    }
    match parts.as_slice() {
        ["params", p] => Ok(Ref::Param(p.to_string())),
        ["env", e] => Ok(Ref::Env(e.to_string())),
        ["steps", s, o] => Ok(Ref::Step { step: s.to_string(), output: o.to_string() }),
        ["forward", s, o] => Ok(Ref::Forward { step: s.to_string(), output: o.to_string() }),
        _ => Err(bad("is not a reference: use ${params.<name>}, ${env.<name>} or ${steps.<step>.<output>}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("pj-${env.name}-x $$5 ${steps.a-b.to}").unwrap();
        assert_eq!(t.refs().count(), 2);
        let out = t
            .render(&mut |r| match r {
                Ref::Env(e) if e == "name" => Some("prod".into()),
                Ref::Step { .. } => Some("db-2".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(out, "pj-prod-x $5 db-2");
        assert_eq!(Template::parse(&t.to_string()).unwrap(), t);
        assert_eq!(t.render(&mut |_| None), Err(Ref::Env("name".into())));
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in ["${env.name", "$x", "${}", "${env}", "${steps.a}", "${env.Name}", "${other.x}", "${params.a.b}", "tail $"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
