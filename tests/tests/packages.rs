//! The Linux packages as users get them, made by `scripts/package --update-test` (scripts/test
//! runs it first and sets VIGIL_PACKAGES): the deb installed on this machine and the AppImage,
//! each launched under Xvfb until its window shows and its ui is ready; an older AppImage that
//! is offered the next version from a manifest served on loopback and refuses a download whose
//! signature does not match, then installs the genuine one and restarts into it. `#[ignore]`d for a plain `cargo test` (no packages); scripts/test includes them.

use fantoccini::{ClientBuilder, Locator};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_tests::{app_binary, artifacts_dir, spawn, wait_until, TauriDriver, Xvfb};

/// Where scripts/package --update-test left the packages, and their two versions.
fn packages() -> (PathBuf, String, String) {
    let dir = PathBuf::from(std::env::var_os("VIGIL_PACKAGES").expect("VIGIL_PACKAGES: run scripts/test, which packages the app first"));
    let versions = std::fs::read_to_string(dir.join("versions")).expect("the packages' versions file");
    let mut v = versions.split_whitespace().map(String::from);
    (dir, v.next().unwrap(), v.next().unwrap())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// As root, or through `sudo -n` (failing rather than asking for a password; CI runs as root).
fn privileged(args: &[&str]) -> Command {
    if run(Command::new("id").arg("-u")).trim() == "0" {
        let mut cmd = Command::new(args[0]);
        cmd.args(&args[1..]);
        cmd
    } else {
        let mut cmd = Command::new("sudo");
        cmd.arg("-n").args(args);
        cmd
    }
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Launches `program` on a display of its own with a fresh data directory and waits until its
/// window is mapped and its ui said it is ready (the wasm ui loaded and called the app); leaves a
/// screenshot named `shot`.
fn shows_its_window(program: &Path, env: &[(&str, String)], shot: &str) {
    let xvfb = Xvfb::start();
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("stderr.log");
    let _app = spawn(
        Command::new(program)
            .env("DISPLAY", &xvfb.display)
            .env("VIGIL_DATA_DIR", data.path().join("data"))
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap()),
        "the packaged app",
    );
    wait_until("the app's window", Duration::from_secs(90), || {
        let tree = Command::new("xwininfo").args(["-display", &xvfb.display, "-root", "-tree"]).output().unwrap();
        String::from_utf8_lossy(&tree.stdout).contains("\"Vigil\"")
    });
    wait_until("the app's ui", Duration::from_secs(90), || std::fs::read_to_string(&log).unwrap_or_default().contains("ui ready"));
    xvfb.screenshot(&artifacts_dir().join(shot));
}

/// Removes the installed deb when the test ends, however it ends.
struct Installed(String);
impl Drop for Installed {
    fn drop(&mut self) {
        let _ = privileged(&["dpkg", "--purge", &self.0]).stdout(Stdio::null()).status();
    }
}

#[test]
#[ignore = "needs the packages: scripts/test makes them"]
fn the_deb_installs_with_the_cli_and_the_signed_bundle_and_shows_its_window() {
    let (dir, version, _) = packages();
    let deb = dir.join(format!("Vigil_{version}_amd64.deb"));
    let fields = run(Command::new("dpkg-deb").args(["-f"]).arg(&deb).args(["Package", "Version", "Depends", "Maintainer", "Description"]));
    assert!(fields.contains(&format!("Version: {version}")), "{fields}");
    assert!(fields.contains("libwebkit2gtk-4.1-0"), "the deb depends on the system's WebKitGTK: {fields}");
    let name = fields.lines().find_map(|l| l.strip_prefix("Package: ")).unwrap().trim().to_string();
    run(privileged(&["dpkg", "-i", deb.to_str().unwrap()]).stdout(Stdio::null()));
    let _installed = Installed(name.clone());
    let files = run(Command::new("dpkg").args(["-L", &name]));
    for f in ["/usr/bin/vigil-app", "/usr/bin/vigil", "/usr/lib/Vigil/bundle/bundle.json"] {
        assert!(files.lines().any(|l| l == f), "{f} not in the package: {files}");
    }
    assert!(files.lines().any(|l| l.starts_with("/usr/share/applications/") && l.ends_with(".desktop")), "{files}");
    assert_eq!(run(Command::new("/usr/bin/vigil-app").arg("--version")).trim(), format!("Vigil {version}"));
    // The installed CLI finds the signed bundle installed beside it and verifies it.
    let data = tempfile::tempdir().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read("/usr/lib/Vigil/bundle/bundle.json").unwrap()).unwrap();
    let key = manifest["signer"]["public_key"].as_str().unwrap();
    let cli = |args: &[&str]| run(Command::new("/usr/bin/vigil").env("VIGIL_DATA_DIR", data.path()).args(args));
    cli(&["deploy", "trust", "--name", "package test", "--key", key]);
    let summary: serde_json::Value = serde_json::from_str(&cli(&["--json", "deploy", "bundle"])).unwrap();
    assert_eq!(summary["version"], manifest["version"], "{summary}");
    shows_its_window(Path::new("/usr/bin/vigil-app"), &[], "package-deb.png");
}

#[test]
#[ignore = "needs the packages: scripts/test makes them"]
fn the_rpm_carries_the_app_the_cli_and_the_signed_bundle() {
    let (dir, version, _) = packages();
    let rpm = dir.join(format!("Vigil-{version}-1.x86_64.rpm"));
    let info = run(Command::new("rpm").args(["-qp", "--queryformat", "%{VERSION} %{LICENSE}\n"]).arg(&rpm));
    assert_eq!(info.trim(), format!("{version} Apache-2.0"));
    let files = run(Command::new("rpm").args(["-qlp"]).arg(&rpm));
    for f in ["/usr/bin/vigil-app", "/usr/bin/vigil", "/usr/lib/Vigil/bundle/bundle.json"] {
        assert!(files.lines().any(|l| l == f), "{f} not in the rpm: {files}");
    }
    let requires = run(Command::new("rpm").args(["-qpR"]).arg(&rpm));
    assert!(requires.contains("libwebkit2gtk-4.1.so.0"), "{requires}");
}

/// Where /dev/fuse is missing (containers, CI) an AppImage runs extracted: the runtime's own
/// switch, as its users are told in README. The runtime extracts into `$TMPDIR/appimage_extracted_
/// <digest>` and removes it when the program exits, so two runs of the same file at once (these
/// tests run in parallel) each get a `TMPDIR` of their own.
fn extracted(tmp: &Path) -> [(&'static str, String); 2] {
    [("APPIMAGE_EXTRACT_AND_RUN", "1".into()), ("TMPDIR", tmp.display().to_string())]
}

#[test]
#[ignore = "needs the packages: scripts/test makes them"]
fn the_appimage_runs_and_shows_its_window() {
    let (dir, version, _) = packages();
    let image = dir.join(format!("Vigil_{version}_amd64.AppImage"));
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(&image).arg("--version").envs(extracted(tmp.path())).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("Vigil {version}"), "{out:?}");
    run(Command::new(&image).arg("--appimage-extract").current_dir(tmp.path()).stdout(Stdio::null()));
    let root = tmp.path().join("squashfs-root");
    for f in ["AppRun", "usr/bin/vigil-app", "usr/bin/vigil", "usr/lib/Vigil/bundle/bundle.json", "vigil-app.desktop"] {
        assert!(root.join(f).exists(), "{f} not in the AppImage");
    }
    shows_its_window(&image, &extracted(tmp.path()), "package-appimage.png");
}

/// A static file server on loopback whose files the test changes while it runs.
struct Files {
    port: u16,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Files {
    async fn start() -> Files {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Default::default();
        let served = files.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let served = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let body = served.lock().unwrap().get(req.uri().path()).cloned();
                        async move {
                            let (status, body) = match body {
                                Some(b) => (200, b),
                                None => (404, b"not found".to_vec()),
                            };
                            hyper::Response::builder().status(status).body(http_body_util::Full::new(bytes::Bytes::from(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                });
            }
        });
        Files { port, files }
    }

    fn put(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.into(), body);
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// The release manifest the release workflow publishes, for `version` at `url`.
fn manifest(version: &str, url: &str, signature: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": version,
        "notes": format!("Vigil {version}\n- the Services page shows the worker's rollouts"),
        "pub_date": "2026-12-01T09:00:00Z",
        "platforms": { "linux-x86_64-appimage": { "signature": signature, "url": url } }
    }))
    .unwrap()
}

#[tokio::test]
#[ignore = "needs the packages: scripts/test makes them"]
async fn an_appimage_refuses_a_tampered_update_then_updates_itself_and_restarts() {
    let (dir, version, next) = packages();
    let installed_dir = tempfile::tempdir().unwrap();
    let installed = installed_dir.path().join("Vigil.AppImage");
    std::fs::copy(dir.join(format!("Vigil_{version}_amd64.AppImage")), &installed).unwrap();
    let before = sha256(&installed);
    let new_image = dir.join(format!("next/Vigil_{next}_amd64.AppImage"));
    let new_bytes = std::fs::read(&new_image).unwrap();
    let signature = std::fs::read_to_string(dir.join(format!("next/Vigil_{next}_amd64.AppImage.sig"))).unwrap();

    // First the server gives a download altered after signing (its last byte changed).
    let server = Files::start().await;
    let mut tampered = new_bytes;
    *tampered.last_mut().unwrap() ^= 0xff;
    server.put("/Vigil.AppImage", tampered);
    server.put("/latest.json", manifest(&next, &server.url("/Vigil.AppImage"), signature.trim()));

    let xvfb = Xvfb::start();
    let data = tempfile::tempdir().unwrap();
    let endpoint = server.url("/latest.json");
    let data_dir = data.path().display().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let mut env = vec![("VIGIL_DATA_DIR", data_dir), ("VIGIL_UPDATE_ENDPOINT", endpoint)];
    env.extend(extracted(tmp.path()));
    let driver = TauriDriver::start(&xvfb.display, &env);
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), serde_json::json!({ "application": installed }));
    let mut builder = ClientBuilder::native();
    let url = format!("http://127.0.0.1:{}", driver.port);
    let client = tokio::time::timeout(Duration::from_secs(120), builder.capabilities(caps).connect(&url))
        .await
        .expect("the AppImage did not start under WebDriver within 2 minutes")
        .expect("a WebDriver session");
    let find = |css: &'static str| {
        let client = client.clone();
        async move {
            client
                .wait()
                .at_most(Duration::from_secs(60))
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
        }
    };

    // Offered at start, with what is new; nothing is installed until the operator asks.
    let offer = find("#update-banner #update-offer").await;
    assert_eq!(offer.attr("data-version").await.unwrap().as_deref(), Some(next.as_str()));
    assert!(find("#update-notes").await.text().await.unwrap().contains("rollouts"));
    xvfb.screenshot(&artifacts_dir().join("update-offer.png"));
    find("#update-install").await.click().await.unwrap();
    let error = find("#update-error").await;
    assert_eq!(error.attr("data-kind").await.unwrap().as_deref(), Some("update_signature"), "{}", error.text().await.unwrap());
    assert!(error.text().await.unwrap().contains("nothing was installed"));
    assert_eq!(sha256(&installed), before, "a refused update leaves the installed app as it was");

    // Then the genuine download: written over the AppImage, logged, and the app restarts into it.
    server.put("/Vigil.AppImage", std::fs::read(&new_image).unwrap());
    find("#update-install").await.click().await.unwrap();
    let log_dir = data.path().join("logs");
    let started = format!("Vigil {next} starting");
    // Polled without blocking: this runtime's one thread also serves the download.
    let mut restarted = false;
    for _ in 0..1800 {
        restarted = logs(&log_dir).contains(&started);
        if restarted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !restarted {
        let shown = match client.find(Locator::Css("#update-error")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => "(no error shown)".into(),
        };
        let replaced = sha256(&installed) == sha256(&new_image);
        let procs = run(Command::new("ps").args(["-eo", "pid,ppid,pgid,stat,args"]));
        let tmp_files = run(Command::new("find").arg(tmp.path()).args(["-maxdepth", "2"]));
        panic!(
            "the app did not restart into {next} within 3 minutes; the AppImage replaced: {replaced}; the page shows: {shown}\nthe app's log:\n{}\nprocesses:\n{procs}\nits TMPDIR:\n{tmp_files}",
            logs(&log_dir)
        );
    }
    assert_eq!(sha256(&installed), sha256(&new_image), "the AppImage is now the next version's");
    let shown = run(Command::new(&installed).arg("--version").envs(extracted(tmp.path())));
    assert_eq!(shown.trim(), format!("Vigil {next}"));
    let left: Vec<_> = std::fs::read_dir(installed_dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["Vigil.AppImage"], "nothing left beside the AppImage");
    // The install is in the operator log: to what, from what and where from.
    let cli = app_binary().with_file_name("vigil");
    let oplog: serde_json::Value =
        serde_json::from_str(&run(Command::new(cli).args(["oplog", "list", "--json"]).env("VIGIL_DATA_DIR", data.path()))).unwrap();
    let record =
        oplog.as_array().unwrap().iter().find(|r| r["action"] == "update.install").unwrap_or_else(|| panic!("no update.install in {oplog:#}"));
    assert_eq!(record["target"], next.as_str());
    let details: serde_json::Value = serde_json::from_str(record["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["from"], version.as_str());
    assert_eq!(details["url"], server.url("/Vigil.AppImage"));

    let _ = client.close().await;
    drop(driver);
    kill_with_data_dir(data.path());
}

/// The app's log files, joined (the app writes them under the data directory's `logs`).
fn logs(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else { return String::new() };
    entries.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect::<Vec<_>>().join("\n")
}

/// Kills every process started with this data directory (the app the update restarted is no
/// child of the test's WebDriver).
fn kill_with_data_dir(data: &Path) {
    let wanted = format!("VIGIL_DATA_DIR={}", data.display());
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
            let _ = Command::new("kill").arg("-KILL").arg(entry.file_name()).status();
        }
    }
}
