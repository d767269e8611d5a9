//! A fake Kubernetes API server for the tests (no kube-apiserver can be had on these machines):
//! HTTPS with a certificate from a CA of its own (given to the emulator as the EKS cluster's
//! CA), bearer tokens checked as EKS checks them, server-side apply (PATCH
//! `application/apply-patch+yaml` with a field manager) and GET on any namespaced or cluster
//! object, and a Deployment controller that rolls out when read.
//!
//! Tokens: `k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL whose signed
//! headers include `x-k8s-aws-id`, not expired; the fake then asks STS (the emulator, at the
//! URL's own host) who signed it, as EKS does. The emulator checks no signatures, so a token
//! signed with the wrong key or cluster name is not caught here.
//!
//! Rollouts move one step per read of the Deployment (never by time): the first read after a
//! change shows the new template observed but not yet available, the next one rolled out;
//! [`RolloutMode::Stuck`] reports the progress deadline exceeded instead.
//!
//! With a [`Kubelet`], the worker's Deployment also runs: each applied template starts its
//! replicas as real `pj-worker` processes on this machine, with the container's environment
//! (its ConfigMap and pod name) plus what a pod would get from EKS that a process here cannot:
//! AWS (the emulator's endpoint and keys, for IRSA) and the database without TLS (the tests'
//! PostgreSQL has none). A new template stops the old pods with SIGTERM, as Kubernetes does.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutMode {
    /// Ready on the second read after a change.
    Progress,
    /// The progress deadline passes: the rollout never finishes.
    Stuck,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct KubeRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    /// Who STS said signed the token (None: no valid token).
    pub caller: Option<String>,
}

/// Runs the Deployments' pods as processes (see the module's docs).
#[derive(Debug, Clone)]
pub struct Kubelet {
    /// The program every `pj-worker:*` image runs.
    pub worker: std::path::PathBuf,
    /// The AWS endpoint the pods call (the emulator) and its region.
    pub aws_endpoint: String,
    pub region: String,
    /// Where each pod's output goes (`<pod>.log`).
    pub logs: std::path::PathBuf,
}

struct Pod {
    name: String,
    deployment: String,
    child: std::process::Child,
}

struct State {
    objects: BTreeMap<String, Value>,
    kubelet: Option<Kubelet>,
    pods: Vec<Pod>,
    /// Reads of each Deployment since its last change.
    reads: BTreeMap<String, u32>,
    requests: Vec<KubeRequest>,
    rollout: RolloutMode,
    /// Answer every request with this status (401, 403, 500…).
    deny: Option<u16>,
    version: u64,
}

pub struct FakeKube {
    pub port: u16,
    /// The CA certificate, base64 of PEM (EKS's certificateAuthority.data).
    pub ca: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for p in &mut s.pods {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

type HttpClient = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

impl FakeKube {
    pub async fn start() -> FakeKube {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "kubernetes");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            objects: BTreeMap::new(),
            reads: BTreeMap::new(),
            requests: vec![],
            rollout: RolloutMode::Progress,
            deny: None,
            version: 1000,
            kubelet: None,
            pods: vec![],
        }));
        let client: HttpClient = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, state, client) = (acceptor.clone(), shared.clone(), client.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone(), client.clone()));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(tls), service).await;
                });
            }
        });
        let ca_pem = ca.pem();
        FakeKube { port, ca: aws_smithy_b64(ca_pem.as_bytes()), state, task }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The emulator's settings that make every EKS cluster this server (see the emulator's site.py).
    pub fn emulator_env(&self) -> Vec<(&'static str, String)> {
        vec![("VIGIL_EMULATOR_KUBERNETES", self.url()), ("VIGIL_EMULATOR_KUBERNETES_CA", self.ca.clone())]
    }

    /// From now on, applied Deployments run their pods (see the module's docs).
    pub fn run_pods(&self, kubelet: Kubelet) {
        std::fs::create_dir_all(&kubelet.logs).unwrap();
        self.state.lock().unwrap().kubelet = Some(kubelet);
    }

    /// The running pods' names.
    pub fn pods(&self) -> Vec<String> {
        let mut s = self.state.lock().unwrap();
        s.pods.retain_mut(|p| matches!(p.child.try_wait(), Ok(None)));
        s.pods.iter().map(|p| p.name.clone()).collect()
    }

    /// Stops every pod as Kubernetes does (SIGTERM, then waits for it to exit).
    pub fn stop_pods(&self) {
        let pods = std::mem::take(&mut self.state.lock().unwrap().pods);
        terminate(pods);
    }

    pub fn set_rollout(&self, mode: RolloutMode) {
        self.state.lock().unwrap().rollout = mode;
    }

    pub fn deny(&self, status: Option<u16>) {
        self.state.lock().unwrap().deny = status;
    }

    pub fn requests(&self) -> Vec<KubeRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The stored object at its API path (e.g. `/apis/apps/v1/namespaces/n/deployments/w`).
    pub fn object(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// Stores `object` at `path` as if applied (a Deployment made by another deploy, say).
    pub fn insert(&self, path: &str, mut object: Value) {
        let mut s = self.state.lock().unwrap();
        s.version += 1;
        object["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        object["metadata"]["resourceVersion"] = json!(s.version.to_string());
        object["metadata"]["generation"] = json!(1);
        s.objects.insert(path.to_string(), object);
    }

    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().objects.keys().cloned().collect()
    }
}

fn aws_smithy_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn status(code: u16, reason: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    Response::builder().status(code).header("content-type", "application/json").body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

fn object(code: u16, v: &Value) -> Response<Full<Bytes>> {
    Response::builder().status(code).header("content-type", "application/json").body(Full::new(Bytes::from(v.to_string()))).unwrap()
}

/// Who signed `token`, asked of STS as EKS asks it; Err says why the token is refused.
async fn caller_of(token: &str, client: &HttpClient) -> Result<String, String> {
    use base64::Engine;
    let b64 = token.strip_prefix("k8s-aws-v1.").ok_or("no k8s-aws-v1. prefix")?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).map_err(|e| format!("not base64url: {e}"))?;
    let url = url::Url::parse(&String::from_utf8(raw).map_err(|_| "not UTF-8")?).map_err(|e| format!("not a URL: {e}"))?;
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    let get = |k: &str| q.get(k).cloned().ok_or(format!("no {k}"));
    if get("Action")? != "GetCallerIdentity" {
        return Err("not GetCallerIdentity".into());
    }
    if !get("X-Amz-SignedHeaders")?.split(';').any(|h| h == "x-k8s-aws-id") {
        return Err("x-k8s-aws-id is not signed".into());
    }
    let expires: i64 = get("X-Amz-Expires")?.parse().map_err(|_| "bad X-Amz-Expires")?;
    let signed = chrono::NaiveDateTime::parse_from_str(&get("X-Amz-Date")?, "%Y%m%dT%H%M%SZ").map_err(|_| "bad X-Amz-Date")?.and_utc();
    let age = (chrono::Utc::now() - signed).num_seconds();
    if !(0..=900).contains(&expires) || age > expires.min(900) || age < -300 {
        return Err(format!("expired (signed {age} s ago, valid {expires} s)"));
    }
    // The presigned query as a signed request STS (the emulator) can route.
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
        get("X-Amz-Credential")?,
        get("X-Amz-SignedHeaders")?,
        get("X-Amz-Signature")?
    );
    let endpoint =
        format!("{}://{}", url.scheme(), url.host_str().unwrap_or("127.0.0.1")) + &url.port().map(|p| format!(":{p}")).unwrap_or_default() + "/";
    let req = Request::post(endpoint)
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from("Action=GetCallerIdentity&Version=2011-06-15")))
        .unwrap();
    let resp = client.request(req).await.map_err(|e| format!("STS unreachable: {e}"))?;
    let ok = resp.status().is_success();
    let body = String::from_utf8_lossy(&resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes()).to_string();
    if !ok {
        return Err(format!("STS refused the token: {body}"));
    }
    let arn = body.split("<Arn>").nth(1).and_then(|s| s.split("</Arn>").next()).ok_or("STS gave no Arn")?;
    Ok(arn.to_string())
}

async fn handle(req: Request<hyper::body::Incoming>, state: Arc<Mutex<State>>, client: HttpClient) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let token = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    let body = req.into_body().collect().await?.to_bytes();
    let caller = match &token {
        Some(t) => caller_of(t, &client).await,
        None => Err("no bearer token".into()),
    };
    let deny = {
        let mut s = state.lock().unwrap();
        s.requests.push(KubeRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            caller: caller.clone().ok(),
        });
        s.deny
    };
    if let Err(why) = caller {
        return Ok(status(401, "Unauthorized", &format!("Unauthorized: {why}")));
    }
    if let Some(code) = deny {
        let reason = if code == 403 { "Forbidden" } else { "InternalError" };
        return Ok(status(code, reason, &format!("{method} {path} is not allowed")));
    }
    let mut s = state.lock().unwrap();
    match method.as_str() {
        "GET" => {
            let Some(obj) = s.objects.get(&path).cloned() else {
                return Ok(status(404, "NotFound", &format!("{path} not found")));
            };
            if obj["kind"] == "Deployment" {
                let reads = s.reads.entry(path.clone()).or_insert(0);
                *reads += 1;
                let reads = *reads;
                let mode = s.rollout;
                let obj = s.objects.get_mut(&path).unwrap();
                control(obj, reads, mode);
                return Ok(object(200, obj));
            }
            Ok(object(200, &obj))
        }
        "PATCH" => {
            if content_type != "application/apply-patch+yaml" {
                return Ok(status(415, "UnsupportedMediaType", "only server-side apply is served"));
            }
            if !query.split('&').any(|kv| kv.starts_with("fieldManager=")) {
                return Ok(status(422, "Invalid", "fieldManager is required for apply patch"));
            }
            // JSON is YAML: the apply body as sent.
            let Ok(applied) = serde_json::from_slice::<Value>(&body) else {
                return Ok(status(400, "BadRequest", "the apply body is not JSON"));
            };
            let name = path.rsplit('/').next().unwrap_or_default();
            if applied["metadata"]["name"] != name {
                return Ok(status(400, "BadRequest", "the body's name differs from the path's"));
            }
            s.version += 1;
            let version = s.version.to_string();
            let existed = s.objects.contains_key(&path);
            let mut merged = applied.clone();
            let mut new_spec = !existed;
            match s.objects.get(&path) {
                Some(old) => {
                    let unchanged = strip(old) == strip(&applied);
                    merged["metadata"]["uid"] = old["metadata"]["uid"].clone();
                    merged["metadata"]["resourceVersion"] = if unchanged { old["metadata"]["resourceVersion"].clone() } else { json!(version) };
                    let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
                    let spec_changed = old.get("spec") != applied.get("spec");
                    merged["metadata"]["generation"] = json!(if spec_changed { generation + 1 } else { generation });
                    if let Some(st) = old.get("status") {
                        merged["status"] = st.clone();
                    }
                    if spec_changed {
                        s.reads.remove(&path);
                        new_spec = true;
                    }
                }
                None => {
                    merged["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
                    merged["metadata"]["resourceVersion"] = json!(version);
                    merged["metadata"]["generation"] = json!(1);
                }
            }
            let new_template = merged["kind"] == "Deployment" && new_spec;
            s.objects.insert(path.clone(), merged.clone());
            if new_template {
                if let Some(k) = s.kubelet.clone() {
                    let old: Vec<Pod> = {
                        let (gone, kept) = std::mem::take(&mut s.pods).into_iter().partition(|p| p.deployment == path);
                        s.pods = kept;
                        gone
                    };
                    let started = start_pods(&k, &s.objects, &merged);
                    s.pods.extend(started);
                    // The old pods drain in the background, as a rolling update's do.
                    std::thread::spawn(move || terminate(old));
                }
            }
            Ok(object(if existed { 200 } else { 201 }, &merged))
        }
        _ => Ok(status(405, "MethodNotAllowed", &format!("{method} is not served by the fake"))),
    }
}

/// The object as applied: without what the server sets.
fn strip(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["uid", "resourceVersion", "generation"] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// The Deployment controller: one step per read.
fn control(d: &mut Value, reads: u32, mode: RolloutMode) {
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
    d["status"] = match (mode, reads) {
        (RolloutMode::Stuck, _) => json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": 1, "availableReplicas": 0,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"pj-worker\" has timed out progressing: 0/1 pods ready (ImagePullBackOff)"}]}),
        (RolloutMode::Progress, 1) => {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": 0, "availableReplicas": 0})
        }
        _ => {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas})
        }
    };
}

/// SIGTERM to every pod at once, then waits for each to exit (the worker drains, puts back what
/// its last long poll was handed, and signs a checkpoint).
fn terminate(pods: Vec<Pod>) {
    for p in &pods {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    }
    for mut p in pods {
        let _ = p.child.wait();
    }
}

/// The Deployment's replicas as processes: the container's args and environment.
fn start_pods(k: &Kubelet, objects: &BTreeMap<String, Value>, d: &Value) -> Vec<Pod> {
    let ns = d["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let path = format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}");
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    if !container["image"].as_str().unwrap_or_default().starts_with("pj-worker:") {
        return vec![];
    }
    let mut pods = vec![];
    for i in 0..d["spec"]["replicas"].as_i64().unwrap_or(1) {
        let pod = format!("{name}-{generation}-{i}");
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for from in container["envFrom"].as_array().into_iter().flatten() {
            if let Some(cm) = from["configMapRef"]["name"].as_str() {
                let data = &objects.get(&format!("/api/v1/namespaces/{ns}/configmaps/{cm}")).cloned().unwrap_or_default()["data"];
                for (k, v) in data.as_object().into_iter().flatten() {
                    env.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
        }
        for e in container["env"].as_array().into_iter().flatten() {
            let value = match (&e["value"], e["valueFrom"]["fieldRef"]["fieldPath"].as_str()) {
                (Value::String(v), _) => v.clone(),
                (_, Some("metadata.name")) => pod.clone(),
                _ => continue,
            };
            env.insert(e["name"].as_str().unwrap_or_default().to_string(), value);
        }
        // What EKS gives a pod that a process here cannot have.
        env.insert("PJ_LISTEN".into(), "127.0.0.1:0".into());
        env.insert("PJ_S3_PATH_STYLE".into(), "true".into());
        env.insert("DATABASE_URL".into(), "postgres://localhost/?sslmode=disable".into());
        for (key, value) in [
            ("AWS_ENDPOINT_URL", k.aws_endpoint.as_str()),
            ("AWS_REGION", k.region.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            env.insert(key.into(), value.into());
        }
        let log = std::fs::File::create(k.logs.join(format!("{pod}.log"))).unwrap();
        let args: Vec<String> = container["args"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(String::from)).collect();
        let child = std::process::Command::new(&k.worker)
            .args(&args)
            .env_clear()
            .envs(&env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} for pod {pod}: {e}", k.worker.display()));
        pods.push(Pod { name: pod, deployment: path.clone(), child });
    }
    pods
}
