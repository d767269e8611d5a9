//! The `vigil` binary where no AWS emulator is needed: exit codes and messages, the operator
//! log's verification, profiles from the AWS files, where data and logs live. Portable: scripts/
//! test also builds these for Windows (x86_64-pc-windows-gnu) and runs them under Wine, so the
//! Windows paths, data directory and profile parsing run on a Windows binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `vigil args` on `data`. Profiles come only from the data dir's AWS files, and SSO token
/// caches (~/.aws/sso/cache) from that home, never from the machine's own ~/.aws.
fn vigil(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", data)
        .env("HOME", data)
        .env("USERPROFILE", data)
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

/// A loopback port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn info_says_where_data_logs_and_the_store_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = vigil(d, &["info", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let info = json(&out);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(Path::new(info["data_dir"].as_str().unwrap()), d);
    assert_eq!(Path::new(info["log_dir"].as_str().unwrap()), d.join("logs"));
    assert_eq!(Path::new(info["store"].as_str().unwrap()), d.join("vigil.db"));
    assert!(d.join("vigil.db").is_file());
}

/// Without VIGIL_DATA_DIR: the OS's own place for an app's data (Windows: the roaming AppData
/// folder; Linux: XDG_DATA_HOME; macOS: Application Support).
#[test]
fn without_a_data_dir_the_store_is_in_the_os_app_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["info", "--json"])
        .env_remove("VIGIL_DATA_DIR")
        .env("XDG_DATA_HOME", d.join("share"))
        .env("XDG_STATE_HOME", d.join("state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let info = json(&out);
    let data = Path::new(info["data_dir"].as_str().unwrap());
    let logs = Path::new(info["log_dir"].as_str().unwrap());
    if cfg!(windows) {
        assert!(data.is_absolute() && data.ends_with(r"Vigil\Vigil\data"), "{info}");
        assert!(data.to_str().unwrap().contains(r"\AppData\Roaming\"), "{info}");
        assert!(logs.ends_with(r"Vigil\Vigil\data\logs") && logs.to_str().unwrap().contains(r"\AppData\Local\"), "{info}");
    } else if cfg!(target_os = "linux") {
        assert_eq!(data, d.join("share/vigil"));
        assert_eq!(logs, d.join("state/vigil"));
    }
    assert!(Path::new(info["store"].as_str().unwrap()).is_file(), "{info}");
}

#[test]
fn profiles_are_read_from_the_aws_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("aws-config"),
        "[default]\nregion = eu-west-2\n\n[profile ops]\nrole_arn = arn:aws:iam::444455556666:role/Ops\nsource_profile = default\n",
    )
    .unwrap();
    std::fs::write(d.join("aws-credentials"), "[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = x\n").unwrap();
    let out = vigil(d, &["profiles", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let list = json(&out);
    let names: Vec<&str> = list["profiles"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"default") && names.contains(&"ops"), "{list}");
    let add = vigil(d, &["env", "add", "prod", "--profile", "ops", "--region", "eu-west-2"]);
    assert_eq!(code(&add), 0, "{}", String::from_utf8_lossy(&add.stderr));
    let envs = json(&vigil(d, &["env", "list", "--json"]));
    assert_eq!(envs[0]["credentials"], serde_json::json!({ "kind": "profile", "name": "ops" }), "{envs}");
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

#[test]
fn sso_without_a_session_names_the_login_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("aws-config"),
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\n\
         [profile dev-sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n\n\
         [profile prod]\nrole_arn = arn:aws:iam::444455556666:role/Deploy\nsource_profile = dev-sso\n",
    )
    .unwrap();
    for (env, profile) in [("dev", "dev-sso"), ("prod", "prod")] {
        let add = vigil(d, &["env", "add", env, "--profile", profile, "--region", "eu-west-1"]);
        assert_eq!(code(&add), 0, "{}", String::from_utf8_lossy(&add.stderr));
        let out = vigil(d, &["env", "check", env, "--json"]);
        assert_eq!(code(&out), 4);
        let r = json(&out);
        assert_eq!(r["error"]["kind"], "sso_expired", "{r}");
        assert_eq!(r["error"]["hint"], "aws sso login --profile dev-sso", "{r}");
    }
}
