//! Backup compliance controls over 1,000 resources and 50,000 recovery points, each figure
//! against a naive per-resource way in the same run:
//! - evaluation time excluding AWS: every control over an indexed inventory
//!   (`controls::evaluate_all`) vs each resource judged alone, going through every point, copy
//!   and restore for it (`controls::evaluate_naive`; the same verdicts, asserted);
//! - AWS calls to read the recovery points, counted at the fault proxy in front of the emulator
//!   holding them: each vault listed once, page by page (what `compliance` does) vs asking
//!   for each resource's points (ListRecoveryPointsByResource per resource).
//!
//! `cargo bench -p vigil-tests --bench backup_controls --profile dev` (BENCH_RESOURCES and
//! BENCH_POINTS override 1,000 and 50 per resource).

use std::collections::HashMap;
use std::time::Instant;
use vigil_aws::backup::{Backup, PlanInfo, RuleInfo, SelectionInfo};
use vigil_core::backup::controls::{self, Inventory, Resource};
use vigil_core::backup::coverage::Home;
use vigil_dto::backup::{BackupJobView, RecoveryPointView, VaultView};
use vigil_tests::faults::FaultProxy;

const DAY: i64 = 86_400_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A synthetic account: `resources` Aurora clusters and buckets, `per` points each over two
/// vaults (one locked), a copy and a restore job for every other resource.
fn inventory(resources: usize, per: usize) -> Inventory {
    let now = 1_780_000_000_000;
    let arn = |i: usize| {
        if i.is_multiple_of(2) {
            format!("arn:aws:rds:eu-west-1:111122223333:cluster:db-{i}")
        } else {
            format!("arn:aws:s3:::bucket-{i}")
        }
    };
    let tags = vec![("pj:backup".to_string(), "true".to_string())];
    let rule = |name: &str, continuous: bool| RuleInfo {
        name: name.into(),
        vault: "pj".into(),
        continuous,
        schedule: (!continuous).then(|| "cron(0 3 * * ? *)".into()),
        delete_after_days: Some(35),
        ..Default::default()
    };
    let mut points = Vec::with_capacity(resources * per);
    for i in 0..resources {
        for j in 0..per {
            points.push(RecoveryPointView {
                arn: format!("{}/rp-{j}", arn(i)),
                vault: if j.is_multiple_of(2) { "pj".into() } else { "other".into() },
                resource: arn(i),
                status: "COMPLETED".into(),
                created_ms: now - (j as i64) * DAY / 4 - (i as i64) * 1000,
                encrypted: !(i + j).is_multiple_of(97),
                delete_after_days: Some(if j % 50 == 7 { 7 } else { 35 }),
                ..Default::default()
            });
        }
    }
    let job = |kind: &str, i: usize| BackupJobView {
        kind: kind.into(),
        id: format!("{kind}-{i}"),
        state: "COMPLETED".into(),
        resource: arn(i),
        destination_vault: Some("arn:aws:backup:us-west-2:444455556666:backup-vault:dr".into()),
        recovery_point: Some(format!("{}/rp-0", arn(i))),
        created_ms: now - DAY,
        completed_ms: Some(now - DAY + 20 * 60_000),
        ..Default::default()
    };
    let vault = |name: &str, locked: bool| VaultView {
        name: name.into(),
        arn: format!("arn:aws:backup:eu-west-1:111122223333:backup-vault:{name}"),
        locked,
        min_retention_days: locked.then_some(7),
        max_retention_days: locked.then_some(400),
        vault_type: "BACKUP_VAULT".into(),
        ..Default::default()
    };
    Inventory {
        now_ms: now,
        home: Home { region: "eu-west-1".into(), account: Some("111122223333".into()) },
        resources: (0..resources).map(|i| Resource { arn: arn(i), resource_type: "S3".into(), tags: tags.clone(), holds_data: true }).collect(),
        plans: vec![(
            PlanInfo { id: "p".into(), name: "pj".into(), rules: vec![rule("continuous", true), rule("daily", false)] },
            vec![SelectionInfo {
                resources: vec!["*".into()],
                conditions: vec![("aws:ResourceTag/pj:backup".into(), "true".into())],
                ..Default::default()
            }],
        )],
        vaults: vec![vault("pj", true), vault("other", false)],
        points,
        copies: (0..resources).step_by(2).map(|i| job("copy", i)).collect(),
        restore_jobs: (0..resources).step_by(2).map(|i| job("restore", i)).collect(),
        restores: vec![],
        restorable: (0..resources).step_by(2).map(|i| (arn(i), now - 60_000)).collect::<HashMap<_, _>>(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let resources = env("BENCH_RESOURCES", 1000);
    let per = env("BENCH_POINTS", 50);

    // Evaluation, excluding AWS.
    let inv = inventory(resources, per);
    let runs = 3;
    let (mut fast, mut naive) = (vec![], vec![]);
    let mut verdicts = (vec![], vec![]);
    for _ in 0..runs {
        let t = Instant::now();
        verdicts.0 = controls::evaluate_all(&inv);
        fast.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        verdicts.1 = controls::evaluate_naive(&inv);
        naive.push(t.elapsed().as_secs_f64());
    }
    assert_eq!(verdicts.0, verdicts.1, "both ways give the same verdicts");
    let failing: usize = verdicts.0.iter().map(|c| c.failing).sum();
    println!(
        "evaluation of {} controls over {resources} resources, {} points ({failing} failing verdicts), median of {runs}: indexed {:.3} s, naive per resource {:.3} s ({:.0}x)",
        verdicts.0.len(),
        inv.points.len(),
        median(fast.clone()),
        median(naive.clone()),
        median(naive) / median(fast)
    );

    // AWS calls to read the points, against the emulator holding them.
    let moto = vigil_tests::Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let sdk = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let backup = aws_sdk_backup::Client::new(&sdk);
    backup.create_backup_vault().backup_vault_name("pj").send().await.unwrap();
    let t = Instant::now();
    let buckets: Vec<String> = (0..resources).map(|i| format!("bench-{i}")).collect();
    for chunk in buckets.chunks(64) {
        let mut set = tokio::task::JoinSet::new();
        for b in chunk {
            let (s3, b) = (s3.clone(), b.clone());
            set.spawn(async move { s3.create_bucket().bucket(b).send().await.unwrap() });
        }
        while set.join_next().await.is_some() {}
    }
    let jobs: Vec<usize> = (0..resources).flat_map(|i| std::iter::repeat_n(i, per)).collect();
    for chunk in jobs.chunks(64) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            let backup = backup.clone();
            set.spawn(async move {
                let bucket = format!("arn:aws:s3:::bench-{i}");
                backup
                    .start_backup_job()
                    .backup_vault_name("pj")
                    .resource_arn(bucket)
                    .iam_role_arn("arn:aws:iam::123456789012:role/b")
                    .send()
                    .await
                    .unwrap()
            });
        }
        while set.join_next().await.is_some() {}
    }
    println!("seeded {resources} buckets and {} recovery points in {:.0} s", resources * per, t.elapsed().as_secs_f64());

    let ctx = vigil_tests::emulator_context(&proxy.endpoint()).await;
    let reader = Backup::new(&ctx, "bench");
    let t = Instant::now();
    let by_vault = reader.recovery_points("pj", None).await.unwrap();
    let vault_time = t.elapsed().as_secs_f64();
    let vault_calls = proxy.count("backup", Some("ListRecoveryPointsByBackupVault"));
    let t = Instant::now();
    let mut by_resource = 0;
    for b in &buckets {
        by_resource += reader.points_of(&format!("arn:aws:s3:::{b}"), usize::MAX).await.unwrap().len();
    }
    let resource_time = t.elapsed().as_secs_f64();
    let resource_calls = proxy.count("backup", Some("ListRecoveryPointsByResource"));
    assert_eq!((by_vault.len(), by_resource), (resources * per, resources * per));
    println!(
        "reading {} points: by vault {vault_calls} calls ({vault_time:.1} s in the emulator), by resource {resource_calls} calls ({resource_time:.1} s)",
        resources * per
    );
}
