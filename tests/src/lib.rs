//! Test harness shared by the integration and end-to-end tests: starts the AWS emulator (moto),
//! a virtual display (Xvfb) and tauri-driver as child processes that stop when dropped.
//! Readiness is polled (a socket accepting, a file appearing), never guessed with sleeps.

pub mod faults;
pub mod kube;
pub mod platform_db;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where scripts/lib/setup.sh installs tools and builds (outside the clone).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("VIGIL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").expect("HOME is set")).join(".cache/vigil"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().unwrap().port()
}

/// Polls `ready` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "{what} was not ready within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something listens on `port`. A connect to a free loopback port in the ephemeral
/// range can connect to itself (TCP simultaneous open), which is not a listener.
fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200))
        .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok())
}

/// A child process, started in a process group of its own; on drop the whole group (the
/// child and everything it started, e.g. WebKitWebDriver and the app) is killed and reaped.
pub struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(cmd: &mut Command, what: &str) -> Proc {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    Proc(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what} ({e}); run scripts/test, which installs it")))
}

/// The AWS emulator on a free loopback port: moto's server with Vigil's extensions
/// (scripts/lib/emulator: the resource types moto's CloudFormation skips, and fixes to its
/// template reading), started by the emulator venv's Python.
pub struct Moto {
    pub port: u16,
    _proc: Proc,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// With the emulator's site settings in `env` (scripts/lib/emulator/vigil_moto/site.py):
    /// e.g. a [`kube::FakeKube`] as every EKS cluster's API, the tests' PostgreSQL as Aurora.
    pub fn start_with(env: &[(&str, String)]) -> Moto {
        let python = cache_dir().join("venv/bin/python");
        let serve = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/emulator/serve.py");
        // The emulator binds a port of the system's choosing and prints it once it listens.
        let mut proc = spawn(
            Command::new(&python)
                .arg(&serve)
                .args(["-H", "127.0.0.1", "-p", "0"])
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
            "the AWS emulator (moto with Vigil's extensions)",
        );
        let stdout = proc.0.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            lines.for_each(drop); // keep the pipe drained
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(Ok(line))) => line,
            other => panic!("the AWS emulator did not say its port within 60 s ({other:?}); run scripts/test, which installs it"),
        };
        let port = line.strip_prefix("port ").and_then(|p| p.trim().parse().ok()).unwrap_or_else(|| panic!("the AWS emulator said {line:?}"));
        Moto { port, _proc: proc }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The AWS SDK configuration for the emulator at `endpoint`: region us-east-1 and dummy
/// keys (the emulator accepts any).
pub async fn emulator_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let creds = aws_credential_types::Credentials::new("test", "test", None, None, "test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

/// Vigil's AWS context for the emulator at `endpoint` (environment "sandbox", us-east-1, the
/// emulator's keys), as the console builds it.
pub async fn emulator_context(endpoint: &str) -> vigil_aws::AwsContext {
    let all = vigil_aws::AwsContexts::new(vigil_aws::profiles::ProfileSource::from_contents("", ""), Default::default());
    all.get(&vigil_aws::Target {
        environment: "sandbox".into(),
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint.into()),
        credentials: vigil_dto::Credentials::Emulator,
    })
    .await
}

/// The emulator as the AWS account of a deployed platform: moto whose EKS clusters are a
/// [`kube::FakeKube`] and whose Aurora clusters are the tests' PostgreSQL (each cluster a
/// database of its own), so a deploy's set-up (keys, migrations, logins, manifests, rollout)
/// runs against real servers; the applied worker Deployment runs as pj-worker processes (the
/// fake's kubelet), so the validation's smoke test has a worker to test.
pub async fn platform() -> (Moto, kube::FakeKube) {
    platform_with(&[]).await
}

/// As [`platform`], with each of `regions` given a Kubernetes API server of its own (the EKS
/// clusters made there answer from it: a second region's platform, for the DR runbooks). Those
/// servers run no pods: their Deployments roll out as the fake's controller says.
pub async fn platform_in(regions: &[&str]) -> (Moto, kube::FakeKube, Vec<kube::FakeKube>) {
    let mut others = vec![];
    let mut env = vec![];
    for region in regions {
        let k = kube::FakeKube::start().await;
        let var = format!("VIGIL_EMULATOR_KUBERNETES_{}", region.to_uppercase().replace('-', "_"));
        env.push((var.clone(), k.url()));
        env.push((format!("{var}_CA"), k.ca.clone()));
        others.push(k);
    }
    let (moto, kube) = platform_with(&env).await;
    (moto, kube, others)
}

async fn platform_with(extra: &[(String, String)]) -> (Moto, kube::FakeKube) {
    let kube = kube::FakeKube::start().await;
    let (host, port) = platform_db::server_addr();
    let mut env: Vec<(&str, String)> = kube.emulator_env();
    env.extend(extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
    env.push(("VIGIL_EMULATOR_POSTGRES", format!("postgres://postgres@{host}:{port}")));
    let moto = Moto::start_with(&env);
    kube.run_pods(kube::Kubelet {
        worker: worker_binary(),
        aws_endpoint: moto.endpoint(),
        region: "us-east-1".into(),
        logs: artifacts_dir().join(format!("pods-{}", kube.port)),
    });
    (moto, kube)
}

/// The built platform worker (VIGIL_WORKER_BIN, else <target>/debug/pj-worker).
pub fn worker_binary() -> PathBuf {
    built("VIGIL_WORKER_BIN", "pj-worker", "run scripts/test (or cargo build -p pj-worker)")
}

/// A binary the scripts build: `var` when set, else the debug build in the shared target dir.
fn built(var: &str, name: &str, how: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| cache_dir().join("target"));
    let bin = target.join("debug").join(name);
    assert!(bin.is_file(), "{} is not built; {how}", bin.display());
    bin
}

/// An X server without a screen, on a display number nobody uses.
pub struct Xvfb {
    pub display: String,
    _proc: Proc,
}

/// Held while a display number is picked and its server comes up, so parallel tests differ.
static DISPLAY_PICK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Xvfb {
    pub fn start() -> Xvfb {
        let _picking = DISPLAY_PICK.lock().unwrap_or_else(|e| e.into_inner());
        let n = (99..400)
            .find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists() && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
            .expect("a free X display number");
        let display = format!(":{n}");
        let proc = spawn(
            Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "Xvfb",
        );
        let socket = format!("/tmp/.X11-unix/X{n}");
        wait_until("Xvfb", Duration::from_secs(20), || Path::new(&socket).exists());
        Xvfb { display, _proc: proc }
    }

    /// A PNG of the whole display (the real window as drawn), written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(path)
            .status()
            .expect("run ImageMagick's import (scripts/test installs it)");
        assert!(status.success(), "import failed for {}", path.display());
        let head = std::fs::read(path).expect("the screenshot file");
        assert!(head.starts_with(b"\x89PNG"), "{} is not a PNG", path.display());
    }
}

/// tauri-driver (which starts WebKitWebDriver, which starts the app) on free ports.
pub struct TauriDriver {
    pub port: u16,
    _proc: Proc,
}

impl TauriDriver {
    /// `env` is passed to the app (through the drivers, which inherit it).
    pub fn start(display: &str, env: &[(&str, String)]) -> TauriDriver {
        let bin = which("tauri-driver").unwrap_or_else(|| cache_dir().join("tools/bin/tauri-driver"));
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", display)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let proc = spawn(&mut cmd, "tauri-driver");
        wait_until("tauri-driver", Duration::from_secs(30), || accepts(port));
        // tauri-driver forwards a new session to WebKitWebDriver, which it starts itself; a
        // request before that one listens is dropped (seen as "IncompleteMessage").
        wait_until("WebKitWebDriver", Duration::from_secs(30), || accepts(native));
        TauriDriver { port, _proc: proc }
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
}

/// The desktop app binary under test: VIGIL_APP_BIN, or the debug build in the shared target dir.
pub fn app_binary() -> PathBuf {
    built("VIGIL_APP_BIN", "vigil-app", "run scripts/test (it builds the ui, then the app)")
}

/// Where tests leave screenshots and other artifacts: VIGIL_ARTIFACTS or <target>/test-artifacts.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("VIGIL_ARTIFACTS").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| cache_dir().join("target")).join("test-artifacts")
    });
    std::fs::create_dir_all(&dir).expect("create the artifacts dir");
    dir
}

/// An HTTP server on loopback that answers every request with `status` and `body`, and keeps
/// the request heads it saw (to inspect what the SDK sent).
pub struct FakeHttp {
    pub port: u16,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeHttp {
    pub async fn start(status: &'static str, body: &'static str) -> FakeHttp {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read the head and the body (Content-Length) of one request.
                    loop {
                        let Ok(n) = sock.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text[..end]
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok()).flatten()
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                seen.lock().unwrap().push(text[..end].to_string());
                                break;
                            }
                        }
                    }
                    let resp =
                        format!("HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        FakeHttp { port, requests }
    }
}

/// The test publisher's signing key (tests only; the console trusts it only when told to).
pub const BUNDLE_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// The test publisher's public key, hex.
pub fn bundle_public_key() -> String {
    hex::encode(pj_bundle::signing_key(BUNDLE_KEY).expect("a key").verifying_key().as_bytes())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the repository's bundle (deploy-bundles), unsigned.
pub fn bundle_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy-bundles"), dir.path());
    dir
}

/// Signs the bundle at `dir` as `version` for consoles from `min_console` on, with the test key.
pub fn sign_bundle(dir: &Path, version: &str, min_console: &str) {
    let key = pj_bundle::signing_key(BUNDLE_KEY).expect("a key");
    let signer = pj_bundle::Signer { name: "Patient Journey test releases".into(), public_key: bundle_public_key() };
    let manifest =
        pj_bundle::build(dir, "patient-journey", version, min_console, vec!["cloudformation:CreateChangeSet".into()], signer).expect("a manifest");
    pj_bundle::sign(dir, &manifest, &key).expect("signed");
}

/// The repository's bundle, edited by `edit`, signed as `version` with the test key.
pub fn signed_bundle(version: &str, edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = bundle_copy();
    edit(dir.path());
    sign_bundle(dir.path(), version, "0.1.0");
    dir
}

/// `vigil db set …` signing the console in to a deployed platform's database as the tests'
/// PostgreSQL superuser (the emulator's PostgreSQL has no IAM authentication, so the console's
/// IAM login cannot be used; scripts/run does the same), from the environment as
/// `vigil env list --json` shows it.
pub fn superuser_db_set(env: &serde_json::Value) -> Vec<String> {
    let pg = &env["platform_db"];
    let port = pg["port"].as_u64().expect("the deploy set the platform database").to_string();
    let host = pg["host"].as_str().unwrap_or_default().to_string();
    let database = pg["database"].as_str().unwrap_or_default().to_string();
    ["db", "set", "--host", &host, "--port", &port, "--database", &database, "--user", "postgres", "--auth", "trust"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
