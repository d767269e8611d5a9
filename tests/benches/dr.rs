//! DR benchmark: the runbook engine's own overhead per step. The in-region failover run by
//! Vigil (lease, journal and operator log at every step, prechecks, the wait, the worker and
//! ledger checks) on a platform deployed into the emulator, against the bare AWS calls of the
//! same runbook in the same run — the writer and a reader in another zone found, the failover
//! sent, the cluster polled until the new writer writes — straight through the SDK, at the same
//! poll interval. Both failover the same cluster, taking turns.
//! `cargo bench -p vigil-tests --bench dr --profile dev` (moto from scripts/test's venv, the
//! tests' PostgreSQL from scripts/lib/pg.sh)

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use vigil_aws::rds::Rds;
use vigil_dto::dr::RunRequest;
use vigil_tests::faults::FaultProxy;

const POLL: Duration = Duration::from_millis(20);
const RUNS: usize = 7;

/// The bare runbook: what an operator's script would call, nothing else.
async fn bare_failover(rds: &Rds, db: &str) -> f64 {
    let t = Instant::now();
    let c = rds.cluster(db).await.unwrap().unwrap();
    let instances = rds.instances(db).await.unwrap();
    let writer = c.members.iter().find(|(_, w)| *w).unwrap().0.clone();
    let zone = instances.iter().find(|i| i.id == writer).unwrap().zone.clone();
    let target = instances.iter().find(|i| i.id != writer && i.zone != zone && i.status == "available").unwrap().id.clone();
    rds.failover_cluster(db, &target).await.unwrap();
    loop {
        let c = rds.cluster(db).await.unwrap().unwrap();
        if c.status == "available" && c.members.iter().any(|(i, w)| *w && *i == target) {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    let data = tempfile::tempdir().unwrap();
    let app = common::deployed(data.path(), &moto.endpoint(), &proxy.endpoint()).await.dr_poll(POLL);
    common::as_superuser(&app).await;
    let db = app.environments().get("prod").await.unwrap().deployment["db_cluster_id"].clone();
    let rds = Rds::new(&vigil_tests::emulator_context(&proxy.endpoint()).await, "bench");
    let progress = vigil_core::progress::Progress::default();

    let (mut vigil, mut bare, mut calls, mut bare_calls, mut steps) = (vec![], vec![], 0, 0, 0);
    let mut by = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..RUNS {
        let before = proxy.seen().len();
        let t = Instant::now();
        let run = app
            .dr()
            .start(Some(bundle.path()), &RunRequest { runbook: "aurora-failover".into(), drill: true, ..Default::default() }, &progress)
            .await
            .unwrap();
        let run = app.dr().approve(Some(bundle.path()), &run.id, &db, &progress).await.unwrap();
        vigil.push(t.elapsed().as_secs_f64());
        assert_eq!(run.state, "succeeded", "{run:#?}");
        calls = proxy.seen().len() - before;
        by.clear();
        for s in &proxy.seen()[before..] {
            *by.entry(format!("{}:{}", s.service, s.action)).or_default() += 1;
        }
        steps = run.steps.len();
        let before = proxy.seen().len();
        bare.push(bare_failover(&rds, &db).await);
        bare_calls = proxy.seen().len() - before;
    }
    let (v, b) = (median(vigil), median(bare));
    println!("in-region failover, median of {RUNS} (the engine's poll and the bare one's: {} ms)", POLL.as_millis());
    println!("  Vigil, {steps} steps: {v:.3} s, {calls} AWS calls (the EKS token checks of the fake Kubernetes API among them)");
    println!("    {}", by.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "));
    println!("  bare SDK calls of the same runbook: {b:.3} s, {bare_calls} AWS calls");
    println!("  Vigil beyond the bare calls: {:.3} s in all, {:.1} ms per step", v - b, (v - b) * 1000.0 / steps as f64);
}
