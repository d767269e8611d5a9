//! Deploy benchmark: the platform bundle into the AWS emulator from a fresh environment —
//! Vigil's verify + plan + apply (journal, progress, protection, deployment parameters), then
//! the validation of what was deployed (click to validated), against
//! a bare baseline in the same run (the same nine change sets created and executed straight
//! through the SDK, no verification, plan, journal or progress); and the AWS calls Vigil makes,
//! per stack and per progress update pushed to the page.
//! `cargo bench -p vigil-tests --bench deploy` (moto from scripts/test's venv)

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use vigil_aws::cloudformation::{ChangeKind, CloudFormation};
use vigil_core::deploy::templates::{stack_name, Template, STACKS};
use vigil_core::App;
use vigil_dto::deploy::DeployRequest;
use vigil_dto::{Credentials, EnvironmentInput};
use vigil_tests::faults::FaultProxy;
use vigil_tests::Moto;

struct Timings {
    plan: f64,
    apply: f64,
    validated: f64,
    reports: usize,
}

async fn vigil_deploy(endpoint: &str, name: &str, bundle: &std::path::Path, proxy: &FaultProxy) -> (Timings, usize) {
    let data = tempfile::tempdir().unwrap();
    let app = App::open_with_secrets(
        &data.path().join("vigil.db"),
        vigil_core::aws::profiles::ProfileSource::from_contents("", ""),
        "bench",
        Arc::new(vigil_core::secrets::MemoryStore::default()),
    )
    .await
    .unwrap();
    let env = EnvironmentInput {
        name: name.into(),
        credentials: Credentials::Emulator,
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint.into()),
        deployment: Default::default(),
        platform_db: None,
    };
    app.environments().add(&env).await.unwrap();
    app.deploy().trust("bench", &vigil_tests::bundle_public_key()).await.unwrap();
    let request = DeployRequest { environment: name.into(), tier: "small".into(), ..Default::default() };
    let t = Instant::now();
    let plan = app.deploy().plan(&request, Some(bundle)).await.unwrap();
    let planned = t.elapsed().as_secs_f64();
    let reports = AtomicUsize::new(0);
    let out = app
        .deploy()
        .apply(&plan.id, None, &|_| {
            reports.fetch_add(1, Ordering::Relaxed);
        })
        .await
        .unwrap();
    assert_eq!(out.state, "succeeded");
    let applied = t.elapsed().as_secs_f64();
    let before = proxy.seen().len();
    let v = app.deploy().validate(name).await.unwrap();
    assert!(v.ok, "{:#?}", v.checks);
    let validated = t.elapsed().as_secs_f64();
    let timings = Timings { plan: planned, apply: applied, validated, reports: reports.load(Ordering::Relaxed) };
    (timings, proxy.seen().len() - before)
}

/// The baseline: each stack's change set made and executed straight through the SDK.
async fn bare_deploy(endpoint: &str, platform: &str, bundle: &std::path::Path) -> f64 {
    let ctx = vigil_tests::emulator_context(endpoint).await;
    let cf = CloudFormation::new(&ctx, "bench");
    let tiers: BTreeMap<String, vigil_core::deploy::cost::Tier> =
        vigil_core::deploy::cost::tiers(&std::fs::read_to_string(bundle.join("tiers.json")).unwrap()).unwrap();
    let t = Instant::now();
    let mut outputs = BTreeMap::new();
    for stack in STACKS {
        let template = Template::parse(stack, std::fs::read_to_string(bundle.join(format!("cloudformation/{stack}.yaml"))).unwrap()).unwrap();
        let params: Vec<(String, String)> = template.fill(platform, tiers["small"].parameters.get(stack), &outputs).unwrap().into_iter().collect();
        let name = stack_name(platform, stack);
        let id = cf.create_change_set(&name, "bare", ChangeKind::Create, &template.body, &params, &[]).await.unwrap();
        cf.execute_change_set(&name, &id).await.unwrap();
        outputs.extend(cf.stack(&name).await.unwrap().unwrap().outputs);
    }
    t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    let (mut vigil, mut bare) = (vec![], vec![]);
    let mut calls: Vec<(String, usize)> = vec![];
    let mut per_report = 0.0;
    let mut validation_calls = 0;
    for run in 0..3 {
        // A fresh emulator each run, so every deploy starts from an empty account.
        let (moto, _kube) = vigil_tests::platform().await;
        let proxy = FaultProxy::start(&moto.endpoint()).await;
        let (t, validation) = vigil_deploy(&proxy.endpoint(), &format!("bench{run}"), bundle.path(), &proxy).await;
        validation_calls = validation;
        let seen = proxy.seen();
        let seen = &seen[..seen.len() - validation];
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for s in seen {
            *by.entry(format!("{}:{}", s.service, s.action)).or_default() += 1;
        }
        per_report = seen.len() as f64 / t.reports as f64;
        calls = by.into_iter().collect();
        vigil.push(t);
        // Its own emulator too: the OIDC issuer of an emulated cluster is the same for every
        // cluster of a region, so two platforms' providers would clash in one.
        let other = Moto::start();
        bare.push(bare_deploy(&other.endpoint(), &format!("bare{run}"), bundle.path()).await);
    }
    vigil.sort_by(|a, b| a.validated.total_cmp(&b.validated));
    bare.sort_by(|a, b| a.total_cmp(b));
    let m = &vigil[1];
    println!(
        "sandbox deploy, 9 stacks, median of 3 (by click to validated): Vigil verify+plan {:.2} s, plan+apply {:.2} s, click to validated {:.2} s; bare change sets {:.2} s (ratio {:.2} applied, {:.2} validated)",
        m.plan,
        m.apply,
        m.validated,
        bare[1],
        m.apply / bare[1],
        m.validated / bare[1]
    );
    println!("AWS calls of one validation: {validation_calls}");
    let total: usize = calls.iter().map(|c| c.1).sum();
    println!("AWS calls of one Vigil deploy: {total} in all, {per_report:.1} per progress update pushed");
    for (action, n) in calls {
        println!("  {action}: {n}");
    }
}
