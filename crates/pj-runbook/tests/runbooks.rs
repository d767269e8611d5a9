//! The bundle's runbooks read and checked together, and bad runbooks refused with their line and
//! field.

use pj_runbook::{parse, Arg, DataLoss, Ref, RunbookSet, StepKind};
use std::path::Path;
use std::time::Duration;

fn shipped() -> RunbookSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/runbooks");
    RunbookSet::load_dir(&dir, "runbooks").unwrap_or_else(|e| panic!("the bundle's runbooks are refused:\n{e}"))
}

#[test]
fn the_bundle_ships_each_runbook_and_its_failback() {
    let set = shipped();
    let ids: Vec<&str> = set.all().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "aurora-backup-restore",
            "aurora-backup-restore-failback",
            "aurora-failover",
            "aurora-failover-failback",
            "aurora-global-failover",
            "aurora-global-failover-failback",
            "aurora-global-switchover",
            "aurora-global-switchover-failback",
            "aurora-pitr-restore",
            "aurora-pitr-restore-failback",
            "eks-upgrade",
            "platform-repoint",
            "worker-failover",
            "worker-failover-failback",
        ]
    );
    // Every forward runbook that changes the platform can be undone, but a Kubernetes upgrade.
    for rb in set.all().filter(|r| r.failback_of.is_none() && r.id != "platform-repoint" && r.id != "eks-upgrade") {
        assert!(rb.failback.is_some(), "{} has no failback", rb.id);
    }
    // Each is within the platform's RTO of an hour when everything takes its typical time.
    for rb in set.all() {
        let expected = set.expected(&rb.id);
        assert!(expected > Duration::ZERO && expected < Duration::from_secs(3600), "{}: {expected:?}", rb.id);
    }
    // The global failover's time includes the worker's move it nests, and the environment
    // following the writer.
    assert_eq!(set.expected("aurora-global-failover"), Duration::from_secs(10 + 3 * 60 + 5) + set.expected("worker-failover"));
    assert_eq!(set.get("aurora-global-failover").unwrap().data_loss, DataLoss::Bounded);
    assert_eq!(set.get("aurora-global-switchover").unwrap().data_loss, DataLoss::None);
}

#[test]
fn a_failback_keeps_the_steps_and_takes_its_parameters_from_the_forward_run() {
    let set = shipped();
    let fwd = set.get("aurora-failover").unwrap();
    let back = set.get("aurora-failover-failback").unwrap();
    assert_eq!(back.failback_of.as_deref(), Some("aurora-failover"));
    assert_eq!(back.title, "Aurora in-region failback");
    assert_eq!(back.steps, fwd.steps);
    let target = back.params.iter().find(|p| p.name == "target").unwrap();
    assert_eq!(target.from_forward.as_ref().unwrap().refs().collect::<Vec<_>>(), [&Ref::Forward { step: "failover".into(), output: "from".into() }]);

    // The worker's failback is the same move with the regions and queues exchanged.
    let back = set.get("worker-failover-failback").unwrap();
    let to = back.params.iter().find(|p| p.name == "to_region").unwrap();
    assert_eq!(to.from_forward.as_ref().unwrap().to_string(), "${params.from_region}");

    // A data-losing failover is undone by a planned switchover the other way.
    let back = set.get("aurora-global-failover-failback").unwrap();
    assert_eq!(back.steps.len(), 1);
    let StepKind::Runbook { id, params } = &back.steps[0].kind else { panic!("not a nested runbook") };
    assert_eq!(id, "aurora-global-switchover");
    assert_eq!(params["target"].to_string(), "${params.target}");
    let target = back.params.iter().find(|p| p.name == "target").unwrap();
    assert_eq!(target.from_forward.as_ref().unwrap().to_string(), "${forward.failover.from}");
    // It loses what the switchover loses: nothing.
    assert_eq!(back.data_loss, DataLoss::None);
}

#[test]
fn a_runs_iam_actions_include_its_nested_runbooks() {
    let set = shipped();
    let iam = set.iam_actions("aurora-global-switchover");
    for a in ["rds:SwitchoverGlobalCluster", "rds:DescribeGlobalClusters", "eks:DescribeCluster", "sqs:SendMessage", "secretsmanager:DescribeSecret"]
    {
        assert!(iam.contains(a), "{a} missing from {iam:?}");
    }
    assert!(!set.iam_actions("aurora-failover").contains("rds:SwitchoverGlobalCluster"));
}

const GOOD: &str = r#"format = 1
id = "demo"
version = "1.0.0"
title = "Demo"
summary = "a demo"
data_loss = "none"

[params.target]
summary = "the reader"
default = ""

[[steps]]
id = "approve"
title = "Approve"
kind = "approval"
prompt = "go?"
confirm = "${env.name}"

[[steps]]
id = "failover"
title = "Fail over"
kind = "action"
action = { call = "rds.failover_cluster", cluster = "${env.db_cluster_id}", target = "${params.target}" }
wait = { until = "rds.writer_is", cluster = "${env.db_cluster_id}", instance = "${steps.failover.to}", timeout = "10m" }
typical = "2m"
"#;

/// The single error `text` is refused with: (line, field, a part of its message).
fn refused(text: &str) -> (usize, String, String) {
    let e = parse("runbooks/demo.toml", text).expect_err("accepted");
    assert_eq!(e.0.len(), 1, "expected one error for\n{text}\ngot:\n{e}");
    let e = &e.0[0];
    assert_eq!(e.file, "runbooks/demo.toml");
    (e.line, e.field.clone(), e.message.clone())
}

#[test]
fn a_good_runbook_reads_back_what_it_says() {
    let rb = parse("runbooks/demo.toml", GOOD).unwrap();
    assert_eq!(rb.steps.len(), 2);
    assert_eq!(rb.steps[1].line, 19);
    let wait = rb.steps[1].wait.as_ref().unwrap();
    assert_eq!((wait.timeout, wait.every), (Duration::from_secs(600), Duration::from_secs(10)));
    let StepKind::Action(call) = &rb.steps[1].kind else { panic!() };
    assert!(matches!(&call.args["target"], Arg::Text(t) if t.to_string() == "${params.target}"));
    assert_eq!(rb.sha256.len(), 64);
}

#[test]
fn each_malformed_runbook_is_refused_with_its_line_and_field() {
    let cases: &[(&str, &str, usize, &str, &str)] = &[
        // (what is replaced, by what, line, field, part of the message)
        ("kind = \"action\"", "kind = \"acton\"", 22, "steps[1].kind", "unknown variant `acton`"),
        ("title = \"Fail over\"", "title = \"Fail over\"\ncolour = \"red\"", 22, "steps[1].colour", "unknown field `colour`"),
        ("rds.failover_cluster", "rds.failover_clutser", 23, "steps[1].action.call", "there is no action `rds.failover_clutser`"),
        ("rds.writer_is", "rds.writer", 24, "steps[1].wait.until", "there is no check `rds.writer`"),
        ("timeout = \"10m\"", "timeout = \"ten minutes\"", 24, "steps[1].wait.timeout", "is not a duration"),
        ("timeout = \"10m\"", "every = \"5s\"", 24, "steps[1].wait.timeout", "needs a `timeout`"),
        ("${steps.failover.to}", "${steps.failover.too}", 24, "steps[1].wait.instance", "records from, to"),
        ("${params.target}", "${params.tagret}", 23, "steps[1].action.target", "no parameter `tagret`"),
        ("${env.db_cluster_id}\", target", "${env.cluster}\", target", 23, "steps[1].action.cluster", "not an environment value"),
        ("${params.target}", "${params.target", 23, "steps[1].action.target", "is not closed"),
        (", target = \"${params.target}\" }", " }", 23, "steps[1].action", "needs `target`"),
        ("cluster = \"${env.db_cluster_id}\", target", "cluster = 3, target", 23, "steps[1].action.cluster", "takes a string"),
        ("typical = \"2m\"", "", 22, "steps[1].typical", "typical duration"),
        ("typical = \"2m\"", "typical = \"2m\"\nprompt = \"x\"", 22, "steps[1].prompt", "belongs to a step of kind \"approval\", not \"action\""),
        ("id = \"approve\"", "id = \"failover\"", 20, "steps[1].id", "already defined"),
        ("format = 1", "format = 2", 1, "format", "use a newer Vigil"),
        ("version = \"1.0.0\"", "version = \"one\"", 3, "version", "MAJOR.MINOR.PATCH"),
        ("data_loss = \"none\"", "data_loss = \"some\"", 6, "data_loss", "unknown variant `some`"),
        ("title = \"Demo\"", "title = \"Demo", 4, "title", "invalid basic string"),
    ];
    for (from, to, line, field, msg) in cases {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        let (l, f, m) = refused(&text);
        assert_eq!((l, f.as_str()), (*line, *field), "{from} → {to}: {m}");
        assert!(m.contains(msg), "{from} → {to}: {m}");
    }
}

#[test]
fn a_change_without_an_approval_before_it_is_refused() {
    let text = GOOD.replace(
        "kind = \"approval\"\nprompt = \"go?\"\nconfirm = \"${env.name}\"",
        "kind = \"wait\"\nwait = { until = \"ledger.writable\", timeout = \"1m\" }\ntypical = \"1s\"",
    );
    let (line, field, msg) = refused(&text);
    assert_eq!((line, field.as_str()), (23, "steps[1].action"));
    assert!(msg.contains("put an approval step before this one"), "{msg}");
}

#[test]
fn a_set_refuses_missing_nested_runbooks_cycles_and_misnamed_files() {
    let nested = |id: &str, calls: &str| {
        format!(
            "format = 1\nid = \"{id}\"\nversion = \"1.0.0\"\ntitle = \"t\"\nsummary = \"s\"\ndata_loss = \"none\"\n\n[[steps]]\nid = \"n\"\ntitle = \"n\"\nkind = \"runbook\"\nrunbook = \"{calls}\"\n"
        )
    };
    let e = RunbookSet::from_sources(&[("runbooks/a.toml".into(), nested("a", "b")), ("runbooks/b.toml".into(), nested("b", "a"))]).unwrap_err();
    assert!(e.to_string().contains("nested runbooks call each other: a → b → a"), "{e}");

    let e = RunbookSet::from_sources(&[("runbooks/a.toml".into(), nested("a", "nope"))]).unwrap_err();
    assert_eq!((e.0[0].line, e.0[0].field.as_str()), (8, "steps[0].runbook"));
    assert!(e.0[0].message.contains("there is no runbook `nope`"), "{e}");

    let e = RunbookSet::from_sources(&[("runbooks/other.toml".into(), GOOD.to_string())]).unwrap_err();
    assert_eq!((e.0[0].line, e.0[0].field.as_str()), (2, "id"));
    assert!(e.0[0].message.contains("name the file demo.toml"), "{e}");

    // A nested runbook's required parameter must be given.
    let repoint = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/runbooks/platform-repoint.toml")).unwrap();
    let e =
        RunbookSet::from_sources(&[("runbooks/a.toml".into(), nested("a", "platform-repoint")), ("runbooks/platform-repoint.toml".into(), repoint)])
            .unwrap_err();
    assert!(e.0[0].message.contains("needs parameter `cluster`"), "{e}");
}

#[test]
fn a_failback_that_drops_a_step_another_reads_is_refused() {
    let text = format!("{GOOD}\n[failback]\ntitle = \"back\"\nsteps = [\"failover\"]\n");
    let e = RunbookSet::from_sources(&[("runbooks/demo.toml".into(), text)]).unwrap_err();
    assert!(e.0[0].message.contains("keeps no approval step"), "{e}");
    let text =
        format!("{GOOD}\n[failback]\ntitle = \"back\"\nsteps = [\"approve\", \"nope\"]\nparams = {{ target = \"${{forward.failover.form}}\" }}\n");
    let e = parse("runbooks/demo.toml", &text).unwrap_err();
    let got: Vec<(usize, &str)> = e.0.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(got, [(29, "failback.steps[1]"), (30, "failback.params.target")], "{e}");
}

#[test]
fn the_bundles_runbook_readme_names_the_whole_vocabulary() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/runbooks/README.md")).unwrap();
    for a in pj_runbook::catalog::ACTIONS {
        let row = format!("| `{}` | {} | {} |", a.name, a.outputs.join(", "), if a.mutates { "yes" } else { "no" });
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
    for c in pj_runbook::catalog::CHECKS {
        assert!(readme.contains(&format!("`{}`", c.name)), "README.md does not name {}", c.name);
    }
    for e in pj_runbook::catalog::ENV {
        assert!(readme.contains(e), "README.md does not name ${{env.{e}}}");
    }
    for rb in shipped().all().filter(|r| r.failback_of.is_none()) {
        assert!(readme.contains(&format!("| `{}` |", rb.id)), "README.md does not list {}", rb.id);
    }
}
