//! The `vigil` binary end to end: exit codes, human and JSON output, against the AWS emulator.
//! (What needs no emulator is in offline.rs, which also runs on Windows under Wine.)
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use vigil_tests::{free_port, Moto};

fn vigil(data: &Path, args: &[&str]) -> Output {
    vigil_with(data, args, &[])
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

#[test]
fn add_list_check_select_and_remove_against_the_emulator() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let endpoint = moto.endpoint();

    let out = vigil(d, &["env", "add", "sandbox", "--region", "us-east-1", "--emulator", "--endpoint", &endpoint]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));

    let list = json(&vigil(d, &["env", "list", "--json"]));
    assert_eq!(list[0]["name"], "sandbox");
    assert_eq!(list[0]["credentials"]["kind"], "emulator");

    let check = vigil(d, &["env", "check", "sandbox", "--json"]);
    assert_eq!(code(&check), 0);
    assert_eq!(json(&check)["identity"]["account"], "123456789012");

    // Without a current environment, `check` says how to choose one.
    let none = vigil(d, &["env", "check"]);
    assert_eq!(code(&none), 3);
    assert!(String::from_utf8_lossy(&none.stderr).contains("vigil env select"));

    assert_eq!(code(&vigil(d, &["env", "select", "sandbox"])), 0);
    let human = vigil(d, &["env", "check"]);
    assert_eq!(code(&human), 0);
    assert!(String::from_utf8_lossy(&human.stdout).contains("account 123456789012"));

    // Removing without a terminal needs --yes; refusing removes nothing.
    let refused = vigil(d, &["env", "remove", "sandbox"]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert_eq!(json(&vigil(d, &["env", "list", "--json"])).as_array().unwrap().len(), 1);
    assert_eq!(code(&vigil(d, &["env", "remove", "sandbox", "--yes"])), 0);
    assert_eq!(json(&vigil(d, &["env", "list", "--json"])).as_array().unwrap().len(), 0);

    let log = json(&vigil(d, &["oplog", "list", "--json"]));
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["environment.remove", "environment.select", "environment.add"]);
    assert_eq!(log[0]["actor"].as_str().unwrap(), vigil_core::core::os_user());
}

/// PutMetricData through moto's query protocol.
fn put_metric(endpoint: &str, name: &str, at: i64, value: f64) {
    let ts = chrono_free_rfc3339(at);
    moto_call(
        endpoint,
        &format!(
            "Action=PutMetricData&Version=2010-08-01&Namespace=PatientJourney&MetricData.member.1.MetricName={name}\
             &MetricData.member.1.Value={value}&MetricData.member.1.Unit=Count&MetricData.member.1.Timestamp={ts}\
             &MetricData.member.1.Dimensions.member.1.Name=Environment&MetricData.member.1.Dimensions.member.1.Value=sandbox\
             &MetricData.member.1.Dimensions.member.2.Name=Component&MetricData.member.1.Dimensions.member.2.Value=deid-worker"
        ),
    );
}

/// `2026-11-24T10:05:00Z` from Unix seconds (minute precision is all the test needs).
fn chrono_free_rfc3339(t: i64) -> String {
    let out = Command::new("date").args(["-u", "-d", &format!("@{t}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn metrics_get_reads_the_platform_metrics_as_text_csv_and_json() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let endpoint = moto.endpoint();
    assert_eq!(code(&vigil(d, &["sandbox", "attach", &endpoint])), 0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let at = (now / 60 - 3) * 60;
    put_metric(&endpoint, "DocumentsIngested", at, 42.0);

    let csv = vigil(d, &["metrics", "get", "documents", "--range", "1h", "--csv"]);
    assert_eq!(code(&csv), 0, "{}", String::from_utf8_lossy(&csv.stderr));
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("component,chart,series,unit,time,value\n"), "{text}");
    assert!(text.contains(&format!("platform,documents,ingested,Count,{},42\n", chrono_free_rfc3339(at))), "{text}");

    let j = json(&vigil(d, &["metrics", "get", "platform", "--json"]));
    assert_eq!(j["api_calls"], 1);
    assert!(j["charts"].as_array().unwrap().len() >= 5);

    let human = vigil(d, &["metrics", "get", "documents"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("last           42"), "{}", String::from_utf8_lossy(&human.stdout));

    let bad = vigil(d, &["metrics", "get", "documents", "--range", "5y"]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unit"));
    // Aurora's charts need the DB cluster id: not shown until the environment names it.
    let j = json(&vigil(d, &["metrics", "get", "aurora", "--json"]));
    assert_eq!(j["charts"].as_array().unwrap().len(), 0);
    assert!(j["unavailable"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().contains("db_cluster_id")), "{j}");
    assert_eq!(code(&vigil(d, &["env", "edit", "sandbox", "--param", "db_cluster_id=pj-db"])), 0);
    let j = json(&vigil(d, &["metrics", "get", "aurora", "--json"]));
    assert!(j["charts"].as_array().unwrap().len() >= 5 && j["unavailable"].as_array().unwrap().is_empty(), "{j}");
    let params = vigil(d, &["metrics", "params"]);
    assert!(String::from_utf8_lossy(&params.stdout).lines().any(|l| l.starts_with("db_cluster_id") && l.contains("pj-db")));
    let bad = vigil(d, &["env", "edit", "sandbox", "--param", "db_cluster=pj-db"]);
    assert_eq!(code(&bad), 2, "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("db_cluster_id"));

    let unknown = vigil(d, &["metrics", "get", "nonsense"]);
    assert_eq!(code(&unknown), 2);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("choose from"));
}

/// A query-protocol call to moto (it does not check signatures); panics unless HTTP 200.
fn moto_call(endpoint: &str, params: &str) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{params}",
        params.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200"), "{resp}");
}

#[test]
fn alarms_list_groups_by_component_and_filters_by_state() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let endpoint = moto.endpoint();
    assert_eq!(code(&vigil(d, &["sandbox", "attach", &endpoint])), 0);
    for (name, metric) in [("pj-sandbox-platform-failed-jobs", "FailedJobs"), ("pj-sandbox-aurora-cpu", "CPUUtilization")] {
        moto_call(
            &endpoint,
            &format!(
                "Action=PutMetricAlarm&Version=2010-08-01&AlarmName={name}&Namespace=PatientJourney&MetricName={metric}\
                 &Statistic=Sum&Period=300&EvaluationPeriods=1&Threshold=0&ComparisonOperator=GreaterThanThreshold"
            ),
        );
    }
    moto_call(
        &endpoint,
        "Action=SetAlarmState&Version=2010-08-01&AlarmName=pj-sandbox-platform-failed-jobs&StateValue=ALARM&StateReason=3+of+5+periods+above+0",
    );
    moto_call(&endpoint, "Action=SetAlarmState&Version=2010-08-01&AlarmName=pj-sandbox-aurora-cpu&StateValue=OK&StateReason=below");

    let all = vigil(d, &["alarms", "list", "--json"]);
    assert_eq!(code(&all), 6, "an alarm is firing");
    let list = json(&all);
    let rows: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["component"].as_str().unwrap(), a["name"].as_str().unwrap(), a["state"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, vec![("aurora", "pj-sandbox-aurora-cpu", "OK"), ("platform", "pj-sandbox-platform-failed-jobs", "ALARM")]);

    let firing = json(&vigil(d, &["alarms", "list", "--state", "ALARM", "--json"]));
    assert_eq!(firing.as_array().unwrap().len(), 1);
    assert_eq!(firing[0]["reason"], "3 of 5 periods above 0");
    let text = vigil(d, &["alarms", "list", "--state", "ALARM"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("platform\n  ALARM"), "{}", String::from_utf8_lossy(&text.stdout));
    let bad = vigil(d, &["alarms", "list", "--state", "RED"]);
    assert_eq!(code(&bad), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn db_and_audit_commands_search_page_show_and_verify() {
    use vigil_tests::platform_db::{generate, TestDb};
    let db = TestDb::create("vigil_cli").await;
    let key = pj_audit::Ed25519SigningKey::from_bytes(&[9u8; 32]);
    generate(&db.pool, 2, 500, 100, &key).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = db.options.get_port().to_string();
    assert_eq!(code(&vigil(d, &["sandbox", "attach", &format!("http://127.0.0.1:{}", free_port())])), 0);
    // Not configured yet: says how to set it.
    let none = vigil(d, &["audit", "search"]);
    assert_eq!(code(&none), 1);
    assert!(String::from_utf8_lossy(&none.stderr).contains("vigil db set"), "{}", String::from_utf8_lossy(&none.stderr));
    // A read-only Vigil (a compliance officer's) refuses changes but reads.
    let ro = vigil(d, &["--read-only", "env", "add", "x", "--region", "us-east-1"]);
    assert_eq!(code(&ro), 2);
    assert!(String::from_utf8_lossy(&ro.stderr).contains("read-only"), "{}", String::from_utf8_lossy(&ro.stderr));
    // The documented VIGIL_READ_ONLY=1 (and its other spellings) refuses for being read-only,
    // not for a bad flag value; 0 leaves the console writable.
    let with_env = |value: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).env("VIGIL_DATA_DIR", d).env("VIGIL_READ_ONLY", value).output().unwrap()
    };
    for value in ["1", "true", "yes"] {
        let ro = with_env(value, &["db", "set", "--host", "127.0.0.1", "--database", "x", "--user", "postgres", "--auth", "trust"]);
        assert_eq!(code(&ro), 2);
        let err = String::from_utf8_lossy(&ro.stderr);
        assert!(err.contains("read-only") && err.contains("not allowed"), "VIGIL_READ_ONLY={value}: {err}");
        assert_eq!(code(&with_env(value, &["env", "list"])), 0, "reading works with VIGIL_READ_ONLY={value}");
    }
    let writable = with_env("0", &["env", "add", "rw-check", "--region", "us-east-1"]);
    assert_eq!(code(&writable), 0, "{}", String::from_utf8_lossy(&writable.stderr));
    assert_eq!(code(&vigil(d, &["env", "remove", "rw-check", "--yes"])), 0);
    assert_eq!(code(&vigil(d, &["--read-only", "env", "list"])), 0);
    // Trust is refused off this machine.
    let remote = vigil(d, &["db", "set", "--host", "db.example.com", "--database", &db.name, "--user", "postgres", "--auth", "trust"]);
    assert_eq!(code(&remote), 2);
    let set = vigil(d, &["db", "set", "--host", "127.0.0.1", "--port", &port, "--database", &db.name, "--user", "postgres", "--auth", "trust"]);
    assert_eq!(code(&set), 0, "{}", String::from_utf8_lossy(&set.stderr));
    let check = vigil(d, &["db", "check"]);
    assert_eq!(code(&check), 0, "{}", String::from_utf8_lossy(&check.stderr));
    assert!(String::from_utf8_lossy(&check.stdout).contains("audit log: readable"));

    // A page, then the next one from the position it printed.
    let first = vigil(d, &["audit", "search", "--category", "ssn", "--limit", "5"]);
    let text = String::from_utf8_lossy(&first.stdout).to_string();
    assert_eq!(text.lines().count(), 6, "{text}");
    let after = text.lines().last().unwrap().strip_prefix("more: --after ").unwrap().to_string();
    let second = json(&vigil(d, &["audit", "search", "--category", "ssn", "--limit", "5", "--after", &after, "--json"]));
    assert_eq!(second["rows"].as_array().unwrap().len(), 5);
    assert!(second["rows"][0]["seq"].as_i64().unwrap() > 0);
    assert_eq!(code(&vigil(d, &["audit", "search", "--document", "not-an-id"])), 2);

    // Verify needs the pinned key; with it the chains hold (exit 0), tampered they do not (exit 5).
    let nokey = vigil(d, &["audit", "verify"]);
    assert_eq!(code(&nokey), 1);
    assert!(String::from_utf8_lossy(&nokey.stderr).contains("audit_public_keys"));
    let pk = format!("audit_public_keys={}", hex::encode(key.verifying_key().to_bytes()));
    assert_eq!(code(&vigil(d, &["env", "edit", "sandbox", "--param", &pk])), 0);
    let ok = vigil(d, &["audit", "verify"]);
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 1000 records in 2 streams"));
    sqlx::query("UPDATE audit_log SET actor = 'user:eve' WHERE stream_id = 'pj-worker-1' AND seq = 321").execute(&db.pool).await.unwrap();
    let broken = vigil(d, &["audit", "verify"]);
    assert_eq!(code(&broken), 5);
    assert!(
        String::from_utf8_lossy(&broken.stdout).contains("BROKEN  pj-worker-1: at #321 (modified)"),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
    let out = d.join("evidence.csv");
    let export = vigil(d, &["audit", "export", "--stream", "pj-worker-0", "--out", out.to_str().unwrap(), "--json"]);
    assert_eq!(code(&export), 0, "{}", String::from_utf8_lossy(&export.stderr));
    let w = json(&export);
    assert_eq!(w["rows"], 500);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 501);
    // The PDF report: exit 5 since a chain is broken; its data SHA-256 is that of the CSV the
    // same filters (closed at the report's time) write.
    let pdf = d.join("report.pdf");
    let report = vigil(d, &["audit", "export", "--format", "pdf", "--stream", "pj-worker-1", "--out", pdf.to_str().unwrap(), "--json"]);
    assert_eq!(code(&report), 5, "{}", String::from_utf8_lossy(&report.stderr));
    let r = json(&report);
    assert_eq!((r["records"].as_u64(), r["verification"].as_str()), (Some(500), Some("broken")));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let again = d.join("again.csv");
    let csv = json(&vigil(
        d,
        &["audit", "export", "--stream", "pj-worker-1", "--to", r["to"].as_str().unwrap(), "--out", again.to_str().unwrap(), "--json"],
    ));
    assert_eq!(csv["sha256"], r["data_sha256"]);
    // Jobs: failures by class; a permanent one is refused with why; a class retry asks first.
    let corrupt = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO jobs (id, kind, source_uri, status, attempts, max_attempts, error_class, error_message, permanent, finished_at)
         VALUES ($1, 'deidentify', 's3://pj-documents/input/bad.pdf', 'failed', 1, 3, 'corrupt', 'unreadable PDF', true, now())",
    )
    .bind(corrupt)
    .execute(&db.pool)
    .await
    .unwrap();
    let groups = json(&vigil(d, &["jobs", "list", "--failed", "--json"]));
    assert_eq!(groups[0]["error_class"], "corrupt");
    assert_eq!(groups[0]["count"], 1);
    let refused = vigil(d, &["jobs", "retry", &corrupt.to_string(), "--yes"]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("failed for good (corrupt)"), "{}", String::from_utf8_lossy(&refused.stderr));
    let unconfirmed = vigil(d, &["jobs", "retry", "--class", "corrupt"]);
    assert_eq!(code(&unconfirmed), 2);
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    // Removing the database settings asks first; without a terminal it needs --yes.
    let unset = vigil(d, &["db", "unset"]);
    assert_eq!(code(&unset), 2);
    assert!(String::from_utf8_lossy(&unset.stderr).contains("--yes"));
    assert_eq!(code(&vigil(d, &["db", "check"])), 0, "the settings are still there");
    let show = vigil(d, &["jobs", "show", &corrupt.to_string()]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("upload a good copy"));

    let show = vigil(d, &["audit", "show", "pj-worker-1", "321"]);
    assert_eq!(code(&show), 5);
    assert!(String::from_utf8_lossy(&show.stdout).contains("DOES NOT match"));
    // What is not there exits 3, as documented (and says so).
    let missing = vigil(d, &["audit", "show", "pj-worker-1", "999999"]);
    assert_eq!(code(&missing), 3, "{}", String::from_utf8_lossy(&missing.stderr));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no audit record pj-worker-1#999999"));
    let missing = vigil(d, &["jobs", "show", &uuid::Uuid::new_v4().to_string()]);
    assert_eq!(code(&missing), 3, "{}", String::from_utf8_lossy(&missing.stderr));
    db.drop_db().await;
}

/// An SSO profile, directly or at the start of a role chain, without a started session names the
/// exact login command. HOME is this test's own, so a session on the machine running the tests
/// cannot make it pass or fail.
/// An AWS fault (through the harness's fault injector) is one classified error in the CLI's JSON
/// and text, with what to do; the next run works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_fault_is_a_classified_error_and_the_next_run_works() {
    use vigil_tests::faults::{Fault, FaultProxy};
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let run = |args: Vec<String>| {
        let d = d.clone();
        tokio::task::spawn_blocking(move || vigil(&d, &args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let add = run(args(&["env", "add", "fx", "--region", "us-east-1", "--emulator", "--endpoint", &proxy.endpoint()])).await.unwrap();
    assert_eq!(code(&add), 0, "{}", String::from_utf8_lossy(&add.stderr));
    assert_eq!(code(&run(args(&["env", "select", "fx"])).await.unwrap()), 0);

    proxy.inject("monitoring", Some("GetMetricData"), Fault::Throttle { retry_after: Some(1) }, 10);
    let out = run(args(&["metrics", "get", "platform", "--json"])).await.unwrap();
    assert_eq!(code(&out), 1);
    let e = json(&out);
    assert_eq!(e["error"]["kind"], "throttled", "{e}");
    assert!(e["error"]["hint"].as_str().unwrap().contains("try again"), "{e}");
    let text = run(args(&["metrics", "get", "platform"])).await.unwrap();
    let err = String::from_utf8_lossy(&text.stderr);
    assert!(err.contains("cloudwatch:GetMetricData") && err.contains("Rate exceeded"), "{err}");
    proxy.clear();
    let ok = run(args(&["metrics", "get", "platform", "--json"])).await.unwrap();
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));

    proxy.inject("sts", Some("GetCallerIdentity"), Fault::ExpiredToken, 1);
    let out = run(args(&["env", "check", "fx", "--json"])).await.unwrap();
    assert_eq!(code(&out), 4);
    assert_eq!(json(&out)["error"]["kind"], "expired_credentials");
    assert_eq!(code(&run(args(&["env", "check", "fx"])).await.unwrap()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_then_destroy_through_the_cli_with_exit_codes_and_what_was_kept() {
    let (moto, _kube) = vigil_tests::platform().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    let b = bundle.path().to_str().unwrap();
    assert_eq!(code(&vigil(d, &["env", "add", "prod", "--region", "us-east-1", "--emulator", "--endpoint", &moto.endpoint()])), 0);
    assert_eq!(code(&vigil(d, &["env", "select", "prod"])), 0);

    // An untrusted bundle is refused (usage error), then trusted.
    let untrusted = vigil(d, &["deploy", "preflight", "--bundle", b]);
    assert_eq!(code(&untrusted), 2, "{}", String::from_utf8_lossy(&untrusted.stderr));
    assert_eq!(code(&vigil(d, &["deploy", "trust", "--name", "test releases", "--key", &vigil_tests::bundle_public_key()])), 0);
    let pre = vigil(d, &["deploy", "preflight", "--bundle", b]);
    assert_eq!(code(&pre), 0, "{}", String::from_utf8_lossy(&pre.stdout));
    let plan = json(&vigil(d, &["deploy", "plan", "--bundle", b, "--json"]));
    let applied = vigil(d, &["deploy", "apply", plan["id"].as_str().unwrap(), "--json"]);
    assert_eq!(code(&applied), 0, "{}", String::from_utf8_lossy(&applied.stderr));
    assert_eq!(json(&applied)["state"], "succeeded");

    // The deployed platform validates; the record is written with its SHA-256.
    let validated = vigil(d, &["deploy", "validate"]);
    assert_eq!(code(&validated), 0, "{}", String::from_utf8_lossy(&validated.stdout));
    assert!(String::from_utf8_lossy(&validated.stdout).contains("pass  Every stack complete"));
    let pdf = d.join("record.pdf");
    let record = json(&vigil(d, &["deploy", "validate", "--pdf", pdf.to_str().unwrap(), "--json"]));
    assert_eq!(record["validation"]["ok"], true);
    assert_eq!(record["deployment"], plan["id"]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));

    // The cluster: the bundle's 1.35 is in standard support by the emulator's EKS calendar
    // (until 2027-03-27) and nothing is in ERROR (exit 0); a refresh is started.
    let cluster = vigil(d, &["eks", "cluster"]);
    let text = String::from_utf8_lossy(&cluster.stdout);
    assert_eq!(code(&cluster), 0, "{text}{}", String::from_utf8_lossy(&cluster.stderr));
    assert!(text.contains("Kubernetes 1.35") && text.contains("next version: 1.36") && text.contains("node groups:"), "{text}");
    let o = json(&vigil(d, &["eks", "cluster", "--json"]));
    assert_eq!(o["support"]["status"], "STANDARD_SUPPORT", "{o}");
    assert_eq!(o["nodegroups"][0]["version"], "1.35", "{o}");
    let refresh = vigil(d, &["eks", "refresh-insights"]);
    assert_eq!(code(&refresh), 0);
    assert!(String::from_utf8_lossy(&refresh.stdout).contains("insights refresh started"));

    // The worker: rolled out (exit 0) with its history and pods; bad input is a usage error,
    // an unconfirmed restart too; a confirmed scale within the tier is done and logged.
    let workloads = vigil(d, &["eks", "workloads"]);
    let text = String::from_utf8_lossy(&workloads.stdout);
    assert_eq!(code(&workloads), 0, "{text}{}", String::from_utf8_lossy(&workloads.stderr));
    assert!(text.contains("pj-worker (worker) — rolled_out") && text.contains("tier allows 2–4") && text.contains("first revision"), "{text}");
    let o = json(&vigil(d, &["eks", "workloads", "--json"]));
    assert_eq!(o["services"][0]["pods"].as_array().unwrap().len(), 2, "{o}");
    assert_eq!(code(&vigil(d, &["eks", "logs", "--since", "5w"])), 2);
    assert_eq!(code(&vigil(d, &["eks", "restart", "--confirm", "staging"])), 2);
    assert_eq!(code(&vigil(d, &["eks", "scale", "--replicas", "9", "--confirm", "prod"])), 2);
    let scaled = vigil(d, &["eks", "scale", "--replicas", "3", "--confirm", "prod"]);
    assert_eq!(code(&scaled), 0, "{}", String::from_utf8_lossy(&scaled.stderr));
    assert!(String::from_utf8_lossy(&scaled.stdout).contains("scaled from 2 to 3 replicas"));
    let log = json(&vigil(d, &["oplog", "list", "--json"]));
    assert!(log.as_array().unwrap().iter().any(|r| r["action"] == "eks.scale"), "{log}");

    // The upgrade cockpit: 1.35 → 1.36, nothing in the way (exit 0); a version that goes down
    // is a usage error, an upgrade without the cluster's name typed too, and nothing starts.
    let plan = vigil(d, &["eks", "upgrade-plan", "--bundle", b]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(code(&plan), 0, "{text}{}", String::from_utf8_lossy(&plan.stderr));
    assert!(text.contains("Kubernetes 1.35 → 1.36") && text.contains("nothing blocks it") && text.contains("pod disruption budgets:"), "{text}");
    let bad = vigil(d, &["eks", "upgrade-plan", "--to", "1.34", "--bundle", b]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("only goes up"), "{}", String::from_utf8_lossy(&bad.stderr));
    assert_eq!(code(&vigil(d, &["eks", "upgrade", "--to", "1.36", "--confirm", "prod", "--bundle", b])), 2);
    assert!(json(&vigil(d, &["dr", "runs", "--json"])).as_array().unwrap().is_empty());

    // The timeline: the deploy's stack events, the worker's revision; one source; bad
    // input is a usage error.
    let t = vigil(d, &["timeline"]);
    let text = String::from_utf8_lossy(&t.stdout);
    assert_eq!(code(&t), 0, "{text}{}", String::from_utf8_lossy(&t.stderr));
    assert!(text.contains("cloudformation") && text.contains("CREATE_COMPLETE") && text.contains("rollout: "), "{text}");
    let o = json(&vigil(d, &["timeline", "--source", "cloudformation", "--since", "2h", "--json"]));
    assert!(o["entries"].as_array().unwrap().iter().all(|e| e["source"] == "cloudformation"), "{o}");
    assert_eq!(o["sources"].as_array().unwrap().len(), 1);
    assert_eq!(code(&vigil(d, &["timeline", "--since", "2w"])), 2);
    assert_eq!(code(&vigil(d, &["timeline", "--source", "logs"])), 2);

    // Backups: the bucket has no recovery point yet (exit 9), the database is restorable by
    // its point-in-time recovery; bad input is a usage error.
    let status = vigil(d, &["backup", "status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(code(&status), 9, "{text}");
    assert!(text.contains("FAIL  documents") && text.contains("ok    aurora") && text.contains("RPO 15 min"), "{text}");
    assert!(text.contains("recovery  not protected by AWS Backup"), "{text}");
    let o = json(&vigil(d, &["backup", "status", "--json"]));
    assert_eq!(o["components"].as_array().unwrap().len(), 6, "{o}");
    let bad = vigil(d, &["backup", "jobs", "--kind", "snapshot"]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use backup, copy or restore"));
    let jobs = vigil(d, &["backup", "jobs"]);
    assert_eq!(code(&jobs), 0);
    assert!(String::from_utf8_lossy(&jobs.stdout).contains("no backup jobs in the last 7 days"));
    // An on-demand backup: without the name typed it says what it would do; then it runs.
    let db = o["components"][0]["name"].as_str().unwrap().to_string();
    let unconfirmed = vigil(d, &["backup", "start", "aurora"]);
    assert_eq!(code(&unconfirmed), 2);
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains(&format!("confirm with {db}")));
    let started = json(&vigil(d, &["backup", "start", "aurora", "--confirm", &db, "--json"]));
    assert_eq!(started["state"], "COMPLETED", "{started}");
    // Its point restored to a new cluster, with instances, followed to its end and kept.
    let point = started["recovery_point"].as_str().unwrap();
    let target = format!("{db}-restored");
    let restored = vigil(d, &["backup", "restore", point, "--target", &target, "--confirm", &target]);
    let text = String::from_utf8_lossy(&restored.stdout);
    assert_eq!(code(&restored), 0, "{text}{}", String::from_utf8_lossy(&restored.stderr));
    assert!(text.contains("restored ") && text.contains(&format!(":cluster:{db} → {target} in ")), "{text}");
    assert!(text.contains("(within the RTO)") && text.contains(&format!("instances  {target}-1")), "{text}");
    let again = vigil(d, &["backup", "restore", point, "--target", &target, "--confirm", &target]);
    assert_eq!(code(&again), 1);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let kept = json(&vigil(d, &["backup", "restores", "--json"]));
    assert_eq!((kept[0]["target"].as_str(), kept[0]["state"].as_str()), (Some(target.as_str()), Some("restored")), "{kept}");
    // To a point in time: a time outside the window is refused; "latest" restores.
    let pitr = format!("{db}-pitr");
    let early = vigil(d, &["backup", "restore-time", "2001-01-01T00:00:00Z", "--target", &pitr, "--confirm", &pitr]);
    assert_eq!(code(&early), 2, "{}", String::from_utf8_lossy(&early.stderr));
    assert!(String::from_utf8_lossy(&early.stderr).contains("outside"), "{}", String::from_utf8_lossy(&early.stderr));
    let restored = vigil(d, &["backup", "restore-time", "latest", "--target", &pitr, "--confirm", &pitr]);
    let text = String::from_utf8_lossy(&restored.stdout);
    assert_eq!(code(&restored), 0, "{text}{}", String::from_utf8_lossy(&restored.stderr));
    assert!(text.contains(&format!("→ {pitr} in ")) && text.contains("restored to ") && text.contains(&format!("instances  {pitr}-1")), "{text}");
    // The backup job's events, as AWS Backup sent them; a bad id is a usage error.
    let events = vigil(d, &["backup", "events", started["id"].as_str().unwrap()]);
    let text = String::from_utf8_lossy(&events.stdout);
    assert_eq!(code(&events), 0, "{text}");
    assert!(text.contains("RUNNING   Backup Job State Change") && text.contains("COMPLETED Backup Job State Change (100.0 %)"), "{text}");
    let bad = vigil(d, &["backup", "events", "not a job"]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a job id"));
    // A restore test of the database: restored, validated, deleted (exit 0 when it passes).
    let tested = vigil(d, &["backup", "restore-test", "--component", "aurora", "--confirm", "prod"]);
    let text = String::from_utf8_lossy(&tested.stdout);
    assert_eq!(code(&tested), 0, "{text}{}", String::from_utf8_lossy(&tested.stderr));
    assert!(text.contains("-rt-") && text.contains("validated and deleted"), "{text}");
    // The compliance controls: some fail on a fresh platform (exit 9); the report written.
    let (pdf, csv) = (d.join("compliance.pdf"), d.join("compliance.csv"));
    let controls = vigil(d, &["backup", "controls", "--pdf", pdf.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&controls.stdout);
    assert_eq!(code(&controls), 9, "{text}");
    assert!(text.contains("ok    BACKUP_RECOVERY_POINT_ENCRYPTED") && text.contains("FAIL  BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION"), "{text}");
    assert!(text.contains(&format!("wrote {}", pdf.display())) && std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"), "{text}");
    assert!(std::fs::read_to_string(&csv).unwrap().contains("PJ_RPO_ACHIEVABLE"));

    // Nothing needs recovery; an upgrade plan says what a newer bundle changes and what it
    // does first.
    let rec = vigil(d, &["deploy", "recover"]);
    assert_eq!(code(&rec), 0);
    assert!(String::from_utf8_lossy(&rec.stdout).contains("no stack of prod needs recovery"));
    let newer = vigil_tests::signed_bundle("1.1.0", |_| {});
    let up = vigil(d, &["deploy", "upgrade", "--bundle", newer.path().to_str().unwrap()]);
    assert_eq!(code(&up), 0, "{}", String::from_utf8_lossy(&up.stderr));
    let text = String::from_utf8_lossy(&up.stdout);
    assert!(text.contains("upgrade 1.0.0 → 1.1.0") && text.contains("image    pj-worker:1.0.0 → pj-worker:1.1.0"), "{text}");
    assert!(text.contains("first: snapshot pj-prod-pre-1-1-0-") && text.contains("(+0)"), "{text}");

    // destroy shows the plan (what goes, what stays) and changes nothing.
    let shown = vigil(d, &["deploy", "destroy"]);
    assert_eq!(code(&shown), 0);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("delete pj-prod-alarms") && text.contains("KEPT AWS::S3::Bucket"), "{text}");
    assert!(text.contains("--confirm prod"), "{text}");
    let wrong = vigil(d, &["deploy", "destroy", "--confirm", "yes"]);
    assert_eq!(code(&wrong), 2);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("(prod)"));
    assert_eq!(json(&vigil(d, &["deploy", "status", "--json"]))["state"], "planned");

    let destroyed = vigil(d, &["deploy", "destroy", "--confirm", "prod"]);
    assert_eq!(code(&destroyed), 0, "{}", String::from_utf8_lossy(&destroyed.stderr));
    let text = String::from_utf8_lossy(&destroyed.stdout);
    assert!(text.contains("succeeded") && text.contains("KEPT AWS::RDS::DBClusterSnapshot"), "{text}");
    let gone = vigil(d, &["deploy", "destroy", "--json"]);
    assert_eq!(code(&gone), 3);
    assert_eq!(json(&gone)["error"]["kind"], "not_found");
    // Nothing left: validation fails (exit 7) and says why.
    let after = vigil(d, &["deploy", "validate"]);
    assert_eq!(code(&after), 7);
    assert!(String::from_utf8_lossy(&after.stdout).contains("FAIL  Every stack complete"));
}

/// A platform deployed into the emulator, behind a fault injector, for the kill tests.
struct Killable {
    _moto: Moto,
    _kube: vigil_tests::kube::FakeKube,
    proxy: vigil_tests::faults::FaultProxy,
    dir: tempfile::TempDir,
    bundle: tempfile::TempDir,
}

async fn killable() -> Killable {
    let (moto, kube) = vigil_tests::platform().await;
    let proxy = vigil_tests::faults::FaultProxy::start(&moto.endpoint()).await;
    Killable { _moto: moto, _kube: kube, proxy, dir: tempfile::tempdir().unwrap(), bundle: vigil_tests::signed_bundle("1.0.0", |_| {}) }
}

/// `vigil args` on `data` with `env`, on a blocking thread (the test's fake servers go on answering).
fn spawned(data: &Path, args: Vec<String>, env: Vec<(&'static str, String)>) -> tokio::task::JoinHandle<Output> {
    let d = data.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vigil_with(&d, &args.iter().map(String::as_str).collect::<Vec<_>>(), &env)
    })
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Vigil killed (SIGKILL) while CloudFormation works on the fourth stack: the journal still says
/// "applying", and `vigil deploy resume` re-attaches to that stack and finishes, executing each
/// stack's change set once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vigil_killed_mid_apply_re_attaches_and_finishes() {
    use vigil_tests::faults::Fault;
    let k = killable().await;
    let (proxy, d, b) = (&k.proxy, k.dir.path().to_path_buf(), k.bundle.path().to_str().unwrap().to_string());
    let run = |args: Vec<String>| spawned(&d, args, vec![]);
    let args = owned;
    assert_eq!(code(&run(args(&["env", "add", "prod", "--region", "us-east-1", "--emulator", "--endpoint", &proxy.endpoint()])).await.unwrap()), 0);
    assert_eq!(code(&run(args(&["env", "select", "prod"])).await.unwrap()), 0);
    let key = vigil_tests::bundle_public_key();
    assert_eq!(code(&run(args(&["deploy", "trust", "--name", "test releases", "--key", &key])).await.unwrap()), 0);
    let plan = json(&run(args(&["deploy", "plan", "--bundle", &b, "--json"])).await.unwrap());
    let plan_id = plan["id"].as_str().unwrap().to_string();

    // The fourth stack's events never come back: its change set is executing when Vigil dies.
    proxy.inject_after("cloudformation", Some("DescribeStackEvents"), 3, Fault::Hang, 1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["deploy", "apply", &plan_id])
        .env("VIGIL_DATA_DIR", &d)
        .env("HOME", &d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while proxy.seen().iter().filter(|s| s.action == "DescribeStackEvents" && s.fault.is_some()).count() == 0 {
        assert!(std::time::Instant::now() < deadline, "the apply never reached the fourth stack");
        assert!(child.try_wait().unwrap().is_none(), "vigil ended before it was killed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    proxy.clear();

    let status = json(&run(args(&["deploy", "status", "--json"])).await.unwrap());
    assert_eq!(status["state"], "applying", "{status}");
    let states: Vec<&str> = status["stacks"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states[..4], ["done", "done", "done", "applying"], "{status}");

    let resumed = run(args(&["deploy", "resume", "--json"])).await.unwrap();
    assert_eq!(code(&resumed), 0, "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(json(&resumed)[0]["state"], "succeeded");
    let executes = proxy.seen().iter().filter(|s| s.action == "ExecuteChangeSet" && s.fault.is_none()).count();
    assert_eq!(executes, 9, "each stack's change set executed once");
}

/// `vigil args` on `data` with `env` added. Profiles come only from the data dir's AWS files, and
/// SSO token caches (~/.aws/sso/cache) from that home, never from the machine's own ~/.aws.
fn vigil_with(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", data)
        .env("HOME", data)
        .env("AWS_CONFIG_FILE", data.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("aws-credentials"))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run vigil")
}

/// The `vigil` process stopped at every step boundary of the in-region failover, as a crash
/// would stop it (debug builds abort at `VIGIL_DR_STOP_AT`): `vigil dr resume` goes on from
/// the journal and the failover is sent exactly once, each boundary in turn (N/N).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vigil_killed_at_every_step_boundary_resumes_without_doing_anything_twice() {
    let k = killable().await;
    let (proxy, d, b) = (&k.proxy, k.dir.path().to_path_buf(), k.bundle.path().to_str().unwrap().to_string());
    let run = |args: Vec<String>, env: Vec<(&'static str, String)>| spawned(&d, args, env);
    let args = owned;
    let ok = |o: &Output| assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    ok(&run(args(&["env", "add", "prod", "--region", "us-east-1", "--emulator", "--endpoint", &proxy.endpoint()]), vec![]).await.unwrap());
    ok(&run(args(&["env", "select", "prod"]), vec![]).await.unwrap());
    ok(&run(args(&["deploy", "trust", "--name", "test releases", "--key", &vigil_tests::bundle_public_key()]), vec![]).await.unwrap());
    let plan = json(&run(args(&["deploy", "plan", "--bundle", &b, "--json"]), vec![]).await.unwrap());
    ok(&run(args(&["deploy", "apply", plan["id"].as_str().unwrap()]), vec![]).await.unwrap());
    let envs = json(&run(args(&["env", "list", "--json"]), vec![]).await.unwrap());
    let env = envs.as_array().unwrap().iter().find(|e| e["name"] == "prod").unwrap().clone();
    let db = env["deployment"]["db_cluster_id"].as_str().unwrap().to_string();
    ok(&run(vigil_tests::superuser_db_set(&env), vec![]).await.unwrap());

    let sent = || proxy.seen().iter().filter(|s| s.action == "FailoverDBCluster" && s.fault.is_none()).count();
    let boundaries = [
        "before:find-target",
        "acting:find-target",
        "acted:find-target",
        "done:find-target",
        "before:approve",
        "before:failover",
        "acting:failover",
        "acted:failover",
        "done:failover",
        "before:reconnect",
        "done:reconnect",
    ];
    let stop = |at: &str| vec![("VIGIL_DR_STOP_AT", at.to_string())];
    for (k, at) in boundaries.iter().enumerate() {
        let sent_before = sent();
        let before_approval = at.ends_with("find-target") || *at == "before:approve";
        let started =
            run(args(&["dr", "run", "aurora-failover", "--drill", "--bundle", &b]), if before_approval { stop(at) } else { vec![] }).await.unwrap();
        let runs = json(&run(args(&["dr", "runs", "--json"]), vec![]).await.unwrap());
        let id = runs[0]["id"].as_str().unwrap().to_string();
        if before_approval {
            assert_eq!(started.status.code(), None, "{at}: vigil was not stopped: {}", String::from_utf8_lossy(&started.stdout));
            // Resumed, it goes on to the approval.
            let resumed = run(args(&["dr", "resume", &id, "--bundle", &b]), vec![]).await.unwrap();
            assert_eq!(
                resumed.status.code(),
                Some(4),
                "{at}: {}\n{}",
                String::from_utf8_lossy(&resumed.stdout),
                String::from_utf8_lossy(&resumed.stderr)
            );
            ok(&run(args(&["dr", "approve", &id, "--confirm", &db, "--bundle", &b]), vec![]).await.unwrap());
        } else {
            assert_eq!(started.status.code(), Some(4), "{at}: {}", String::from_utf8_lossy(&started.stderr));
            let approved = run(args(&["dr", "approve", &id, "--confirm", &db, "--bundle", &b]), stop(at)).await.unwrap();
            assert_eq!(approved.status.code(), None, "{at}: vigil was not stopped: {}", String::from_utf8_lossy(&approved.stdout));
            ok(&run(args(&["dr", "resume", &id, "--bundle", &b]), vec![]).await.unwrap());
        }
        let done = json(&run(args(&["dr", "runs", &id, "--json"]), vec![]).await.unwrap());
        assert_eq!(done["state"], "succeeded", "{at}: {done:#}");
        assert_eq!(sent() - sent_before, 1, "{at}: FailoverDBCluster sent {} times", sent() - sent_before);
        // The writer moved: the run waited until the target wrote (as RDS answered).
        let failover = done["steps"].as_array().unwrap().iter().find(|s| s["path"] == "failover").unwrap();
        assert_ne!(failover["outputs"]["from"], failover["outputs"]["to"], "{at}: {failover:#}");
        let waited = failover["checks"].as_array().unwrap().iter().find(|c| c["phase"] == "wait").unwrap();
        assert!(
            waited["ok"].as_bool().unwrap() && waited["check"].as_str().unwrap().contains(failover["outputs"]["to"].as_str().unwrap()),
            "{at}: {waited:#}"
        );
        assert_eq!(failover["found_done"], *at == "acted:failover", "{at}: {failover:#}");
        println!("boundary {}/{} ({at}): resumed, nothing done twice", k + 1, boundaries.len());
    }

    // The rest of `vigil dr`: a dry run (exit 9 when a check fails, here a restore from AWS
    // Backup with no recovery point taken), a runbook's steps, the lease, a run's report.
    let dry = run(args(&["dr", "dry-run", "aurora-failover", "--bundle", &b]), vec![]).await.unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", String::from_utf8_lossy(&dry.stdout));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("ready"));
    let dry = run(args(&["dr", "dry-run", "aurora-backup-restore", "--bundle", &b, "--json"]), vec![]).await.unwrap();
    assert_eq!(dry.status.code(), Some(9), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(json(&dry)["ready"], false);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("no completed AWS Backup recovery point"), "{}", String::from_utf8_lossy(&dry.stdout));
    let shown = run(args(&["dr", "show", "aurora-failover", "--bundle", &b]), vec![]).await.unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("rollback rds.failover_cluster"), "{}", String::from_utf8_lossy(&shown.stdout));
    let lease = run(args(&["dr", "lease"]), vec![]).await.unwrap();
    assert!(String::from_utf8_lossy(&lease.stdout).contains("no console holds the DR lease"));
    let runs = json(&run(args(&["dr", "runs", "--json"]), vec![]).await.unwrap());
    assert_eq!(runs.as_array().unwrap().len(), boundaries.len());
    let pdf = d.join("drill.pdf");
    let report =
        json(&run(args(&["dr", "report", runs[0]["id"].as_str().unwrap(), "--out", pdf.to_str().unwrap(), "--json"]), vec![]).await.unwrap());
    assert_eq!(report["rto_met"], true);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let missing = run(args(&["dr", "show", "nope", "--bundle", &b]), vec![]).await.unwrap();
    assert_eq!(missing.status.code(), Some(3));
}
