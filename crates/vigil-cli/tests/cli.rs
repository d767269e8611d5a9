//! The `vigil` binary end to end: exit codes, human and JSON output, against the AWS emulator.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use vigil_tests::{free_port, Moto};

fn vigil(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", data)
        // Profiles come only from these (empty) files, never from the machine's ~/.aws.
        .env("AWS_CONFIG_FILE", data.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("aws-credentials"))
        .stdin(Stdio::null())
        .output()
        .expect("run vigil")
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
    assert_eq!(log[0]["actor"].as_str().unwrap(), vigil_core::console::os_user());
}

#[test]
fn failures_have_clear_messages_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dead = format!("http://127.0.0.1:{}", free_port());
    assert_eq!(code(&vigil(d, &["env", "add", "dead", "--region", "us-east-1", "--emulator", "--endpoint", &dead])), 0);

    let check = vigil(d, &["env", "check", "dead", "--json"]);
    assert_eq!(code(&check), 4);
    assert_eq!(json(&check)["error"]["kind"], "endpoint_unreachable");

    let bad_region = vigil(d, &["env", "add", "x", "--region", "Europe"]);
    assert_eq!(code(&bad_region), 2);
    assert!(String::from_utf8_lossy(&bad_region.stderr).contains("region"));

    let unknown_profile = vigil(d, &["env", "add", "x", "--region", "eu-west-1", "--profile", "nope", "--json"]);
    assert_eq!(code(&unknown_profile), 2);
    assert_eq!(json(&unknown_profile)["error"]["kind"], "unknown_profile");

    let emulator_to_aws = vigil(d, &["env", "add", "x", "--region", "eu-west-1", "--emulator"]);
    assert_eq!(code(&emulator_to_aws), 2);

    let missing = vigil(d, &["env", "check", "nope"]);
    assert_eq!(code(&missing), 3);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no environment named 'nope'"));
}

#[tokio::test]
async fn oplog_verify_passes_then_locates_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    for name in ["a", "b", "c"] {
        assert_eq!(code(&vigil(&d, &["env", "add", name, "--region", "eu-west-1"])), 0);
    }
    let ok = vigil(&d, &["oplog", "verify"]);
    assert_eq!(code(&ok), 0);
    assert!(String::from_utf8_lossy(&ok.stdout).contains("OK: 3 records"));

    let store = vigil_core::store::Store::open(&d.join("vigil.db")).await.unwrap();
    sqlx::query("UPDATE oplog SET target = 'z' WHERE seq = 2").execute(store.pool()).await.unwrap();
    store.pool().close().await;

    let broken = vigil(&d, &["oplog", "verify", "--json"]);
    assert_eq!(code(&broken), 5);
    let report = json(&broken);
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_break"]["seq"], 2);
    assert_eq!(report["first_break"]["kind"], "modified");
}

#[test]
fn sandbox_attach_creates_and_selects_the_sandbox_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&vigil(d, &["sandbox", "attach", "http://127.0.0.1:4566"])), 0);
    let list = json(&vigil(d, &["env", "list", "--json"]));
    assert_eq!(list[0]["name"], "sandbox");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["endpoint_url"], "http://127.0.0.1:4566");
}
