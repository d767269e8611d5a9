//! A fake Kubernetes API server for the tests (no kube-apiserver can be had on these machines):
//! HTTPS with a certificate from a CA of its own (given to the emulator as the EKS cluster's
//! CA), bearer tokens checked as EKS checks them, server-side apply (PATCH
//! `application/apply-patch+yaml` with a field manager), GET of any object, lists (with an
//! equality label selector), a watch of events, pod logs (a window, or followed), the pods'
//! proxy, and a Deployment controller.
//!
//! Tokens: `k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL whose signed
//! headers include `x-k8s-aws-id`, not expired; the fake then asks STS (the emulator, at the
//! URL's own host) who signed it, as EKS does. The emulator checks no signatures, so a token
//! signed with the wrong key or cluster name is not caught here.
//!
//! The controller keeps a ReplicaSet per pod template (`<deployment>-<hash>`, with its revision
//! as Kubernetes numbers them: a template seen before gets its ReplicaSet back at the next
//! revision, as a rollback does), the ReplicaSet's pods on three nodes in three zones, and
//! the events Kubernetes would record. The Deployment's status moves one step per read (never
//! by time): the first read after a change shows the new template observed but not yet
//! available, the next one rolled out. [`RolloutMode::Stuck`] makes a new template's first pod
//! fail for the given [`Stuck`] cause, leaves the old pods running (maxUnavailable 0), and
//! reports the progress deadline exceeded; [`FakeKube::break_current`] does the same to the
//! template that runs now.
//!
//! With a [`Kubelet`], the pods of the worker's Deployment also run: each is a real `pj-worker`
//! process on this machine, with the container's environment (its ConfigMap and pod name) plus
//! what a pod would get from EKS that a process here cannot: AWS (the emulator's endpoint and
//! keys, for IRSA) and the database without TLS (the tests' PostgreSQL has none). Its output is
//! the pod's log; its health port is what the pod proxy reaches. A pod removed is stopped with
//! SIGTERM, as Kubernetes does.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Why a stuck rollout's new pod does not become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stuck {
    /// The image cannot be pulled (ImagePullBackOff).
    ImagePull,
    /// The container exits soon after it starts (CrashLoopBackOff).
    CrashLoop,
    /// A ConfigMap it names is missing (CreateContainerConfigError).
    Config,
    /// No node has room for it (FailedScheduling).
    Unschedulable,
    /// It runs but its readiness probe fails.
    Readiness,
}

impl Stuck {
    fn key(self) -> &'static str {
        match self {
            Stuck::ImagePull => "image_pull",
            Stuck::CrashLoop => "crash_loop",
            Stuck::Config => "config",
            Stuck::Unschedulable => "unschedulable",
            Stuck::Readiness => "readiness",
        }
    }

    fn of(key: &str) -> Option<Stuck> {
        [Stuck::ImagePull, Stuck::CrashLoop, Stuck::Config, Stuck::Unschedulable, Stuck::Readiness].into_iter().find(|c| c.key() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutMode {
    /// Ready on the second read after a change.
    Progress,
    /// Every new template's pods fail for this cause (an earlier template brought back by a
    /// rollback still runs): the progress deadline passes.
    Stuck(Stuck),
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

struct Proc {
    name: String,
    child: std::process::Child,
}

/// A line of a pod's log with when it was written.
type LogEntry = (DateTime<Utc>, String);

/// The nodes pods are placed on, with their zones.
const NODES: [(&str, &str); 3] =
    [("ip-10-0-1-21.ec2.internal", "us-east-1a"), ("ip-10-0-2-34.ec2.internal", "us-east-1b"), ("ip-10-0-3-47.ec2.internal", "us-east-1c")];

const REVISION: &str = "deployment.kubernetes.io/revision";
/// On a ReplicaSet whose pods fail: the [`Stuck`] cause.
const STUCK: &str = "vigil.test/stuck";

struct State {
    objects: BTreeMap<String, Value>,
    kubelet: Option<Kubelet>,
    procs: Vec<Proc>,
    /// Each running pod's health port on this machine.
    ports: BTreeMap<String, u16>,
    /// Reads of each Deployment since its last change.
    reads: BTreeMap<String, u32>,
    requests: Vec<KubeRequest>,
    rollout: RolloutMode,
    /// Answer every request with this status (401, 403, 500…).
    deny: Option<u16>,
    version: u64,
    /// Events in the order recorded; sent to watchers as they come.
    events: Vec<Value>,
    event_tx: broadcast::Sender<Value>,
    /// Each pod's log lines, with when each was written; sent to followers as they come.
    logs: BTreeMap<String, Vec<LogEntry>>,
    log_tx: broadcast::Sender<(String, Option<LogEntry>)>,
    placed: usize,
    /// Open follows of each pod's log, open watches of events; `opened` wakes who waits for one.
    followers: BTreeMap<String, usize>,
    watchers: usize,
    opened: Arc<tokio::sync::Notify>,
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
        for p in &mut s.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

type HttpClient = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;
type Body = BoxBody<Bytes, Infallible>;

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
        let mut objects = BTreeMap::new();
        for (node, zone) in NODES {
            objects.insert(
                format!("/api/v1/nodes/{node}"),
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node, "uid": uuid::Uuid::new_v4().to_string(), "resourceVersion": "1",
                    "labels": {"topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": node, "eks.amazonaws.com/nodegroup": "workers"}},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.35.0-eks-aeac579"}}}),
            );
        }
        let state = Arc::new(Mutex::new(State {
            objects,
            reads: BTreeMap::new(),
            requests: vec![],
            rollout: RolloutMode::Progress,
            deny: None,
            version: 1000,
            kubelet: None,
            procs: vec![],
            ports: BTreeMap::new(),
            events: vec![],
            event_tx: broadcast::channel(1024).0,
            logs: BTreeMap::new(),
            log_tx: broadcast::channel(4096).0,
            placed: 0,
            followers: BTreeMap::new(),
            watchers: 0,
            opened: Arc::new(tokio::sync::Notify::new()),
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

    /// The pods running as processes, by name.
    pub fn pods(&self) -> Vec<String> {
        let mut s = self.state.lock().unwrap();
        s.procs.retain_mut(|p| matches!(p.child.try_wait(), Ok(None)));
        s.procs.iter().map(|p| p.name.clone()).collect()
    }

    /// Stops every pod's process as Kubernetes does (SIGTERM, then waits for it to exit).
    pub fn stop_pods(&self) {
        let procs = std::mem::take(&mut self.state.lock().unwrap().procs);
        terminate(procs);
    }

    /// How new templates roll out from now on (see [`RolloutMode`]); back to
    /// [`RolloutMode::Progress`], every failing template is mended too (what broke it is fixed)
    /// and rolls out.
    pub fn set_rollout(&self, mode: RolloutMode) {
        let mut guard = self.state.lock().unwrap();
        let s = &mut *guard;
        s.rollout = mode;
        if mode != RolloutMode::Progress {
            return;
        }
        for path in deployments(s) {
            let Some(rs) = current_replicaset(s, &path) else { continue };
            if rs["metadata"]["annotations"][STUCK].is_null() {
                continue;
            }
            let (ns, _) = deployment_parts(&path);
            let rs_name = rs["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let rs_path = format!("/apis/apps/v1/namespaces/{ns}/replicasets/{rs_name}");
            if let Some(a) = s.objects.get_mut(&rs_path).unwrap()["metadata"]["annotations"].as_object_mut() {
                a.remove(STUCK);
            }
            for pod in pods_of(s, &ns, &rs_name) {
                if !pod_ready(&s.objects[&format!("/api/v1/namespaces/{ns}/pods/{pod}")]) {
                    remove_pod(s, &ns, &pod);
                }
            }
            s.reads.remove(&path);
            reconcile(s, &self.state, &path);
        }
    }

    /// Every Deployment's current template starts failing for `cause` (its image deleted, a
    /// node lost): a replacement pod that cannot come up, the progress deadline passed. The
    /// running pods stay. [`FakeKube::set_rollout`] to Progress mends it.
    pub fn break_current(&self, cause: Stuck) {
        let mut guard = self.state.lock().unwrap();
        let s = &mut *guard;
        for path in deployments(s) {
            let Some(rs) = current_replicaset(s, &path) else { continue };
            if !rs["metadata"]["annotations"][STUCK].is_null() {
                continue;
            }
            let (ns, _) = deployment_parts(&path);
            let rs_name = rs["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let rs_path = format!("/apis/apps/v1/namespaces/{ns}/replicasets/{rs_name}");
            s.objects.get_mut(&rs_path).unwrap()["metadata"]["annotations"][STUCK] = json!(cause.key());
            add_pod(s, &self.state, &ns, &rs_name, Some(cause));
        }
    }

    /// The ReplicaSet of the Deployment's current revision.
    pub fn current_replicaset(&self, deployment: &str) -> Option<String> {
        let s = self.state.lock().unwrap();
        current_replicaset(&s, deployment).and_then(|rs| rs["metadata"]["name"].as_str().map(String::from))
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

    /// Another team's workload: a ready pod `<app>-0` in `namespace` (not run by the kubelet)
    /// under a disruption budget `<app>` that keeps `min_available` of its pods (stored again on
    /// each call: a test gives the budget room this way).
    pub fn budgeted_pod(&self, namespace: &str, app: &str, min_available: i64) {
        let pod = format!("/api/v1/namespaces/{namespace}/pods/{app}-0");
        if self.object(&pod).is_none() {
            self.insert(
                &pod,
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("{app}-0"), "namespace": namespace, "labels": {"app": app}},
                    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
            );
        }
        self.insert(
            &format!("/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{app}"),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": app, "namespace": namespace},
                "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": app}}}}),
        );
    }

    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().objects.keys().cloned().collect()
    }

    /// Drops every event, as EKS does after about an hour.
    pub fn expire_events(&self) {
        let mut s = self.state.lock().unwrap();
        s.events.clear();
        s.objects.retain(|path, _| !path.contains("/events/"));
    }

    /// Records an event about `kind` `name` in `namespace`, as a controller would.
    pub fn record_event(&self, namespace: &str, kind: &str, name: &str, type_: &str, reason: &str, message: &str) {
        let mut s = self.state.lock().unwrap();
        event(&mut s, namespace, kind, name, type_, reason, message);
    }

    /// Writes `line` to `pod`'s log (a pod without a process: a crashing container's output).
    pub fn log(&self, pod: &str, line: &str) {
        let mut s = self.state.lock().unwrap();
        append_log(&mut s, pod, line);
    }

    /// Waits until someone follows `pod`'s log (its stream is open: what is written now reaches it).
    pub async fn followed(&self, pod: &str) {
        self.opened(|s| s.followers.get(pod).copied().unwrap_or(0) > 0).await
    }

    /// Waits until someone watches events.
    pub async fn watched(&self) {
        self.opened(|s| s.watchers > 0).await
    }

    async fn opened(&self, done: impl Fn(&State) -> bool) {
        loop {
            let opened = self.state.lock().unwrap().opened.clone();
            let notified = opened.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(&self.state.lock().unwrap()) {
                return;
            }
            notified.await;
        }
    }

    /// The Deployment's pods (their API objects' names), newest revision last.
    pub fn pod_names(&self, namespace: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        let prefix = format!("/api/v1/namespaces/{namespace}/pods/");
        s.objects
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|(_, o)| o["metadata"]["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn aws_smithy_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn full(code: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder().status(code).header("content-type", content_type).body(Full::new(body.into()).boxed()).unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    full(code, "application/json", body.to_string())
}

fn object(code: u16, v: &Value) -> Response<Body> {
    full(code, "application/json", v.to_string())
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
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
    let age = (Utc::now() - signed).num_seconds();
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

/// What an API path names.
enum Target {
    /// A collection: the prefix its objects' paths start with.
    List(String),
    Object(String),
    /// A pod's log.
    Log(String, String),
    /// A request through a pod's proxy: the pod, its port, the path on it.
    Proxy(String, String, String, String),
}

fn target(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let rest = match segs.first() {
        Some(&"api") if segs.len() >= 2 => &segs[2..],
        Some(&"apis") if segs.len() >= 3 => &segs[3..],
        _ => return None,
    };
    Some(match rest {
        [_] => Target::List(path.to_string()),
        ["namespaces", _] | [_, _] => Target::Object(path.to_string()),
        ["namespaces", _, _] => Target::List(path.to_string()),
        ["namespaces", _, _, _] => Target::Object(path.to_string()),
        ["namespaces", ns, "pods", pod, "log"] => Target::Log(ns.to_string(), pod.to_string()),
        ["namespaces", ns, "pods", pod, "proxy", tail @ ..] => {
            let (pod, port) = pod.split_once(':').unwrap_or((pod, "8080"));
            Target::Proxy(ns.to_string(), pod.to_string(), port.to_string(), format!("/{}", tail.join("/")))
        }
        _ => return None,
    })
}

fn query_map(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// `labelSelector` as Kubernetes reads equality selectors (`a=b,c==d`).
fn selects(selector: Option<&String>, object: &Value) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else { return true };
    selector.split(',').all(|term| {
        let (k, v) = term.split_once("==").or_else(|| term.split_once('=')).unwrap_or((term, ""));
        object["metadata"]["labels"][k.trim()].as_str() == Some(v.trim())
    })
}

async fn handle(req: Request<hyper::body::Incoming>, state: Arc<Mutex<State>>, client: HttpClient) -> Result<Response<Body>, hyper::Error> {
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
    let q = query_map(&query);
    match (method.as_str(), target(&path)) {
        ("GET", Some(Target::Object(path))) => Ok(get(&state, &path)),
        ("GET", Some(Target::List(prefix))) if prefix.ends_with("/events") && q.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            Ok(watch_events(&state, &prefix, &q))
        }
        ("GET", Some(Target::List(prefix))) => Ok(list(&state, &prefix, &q)),
        ("GET", Some(Target::Log(ns, pod))) => Ok(pod_log(&state, &ns, &pod, &q)),
        ("GET", Some(Target::Proxy(ns, pod, port, tail))) => Ok(proxy(&state, &client, &ns, &pod, &port, &tail, &query).await),
        ("PATCH", Some(Target::Object(path))) => Ok(apply(&state, &path, &query, &content_type, &body)),
        _ => Ok(status(405, "MethodNotAllowed", &format!("{method} {path} is not served by the fake"))),
    }
}

fn get(state: &Arc<Mutex<State>>, path: &str) -> Response<Body> {
    let mut s = state.lock().unwrap();
    let Some(obj) = s.objects.get(path).cloned() else {
        return status(404, "NotFound", &format!("{path} not found"));
    };
    match obj["kind"].as_str() {
        Some("Deployment") => object(200, &read_deployment(&mut s, path)),
        Some("PodDisruptionBudget") => object(200, &with_pdb_status(&s, obj)),
        _ => object(200, &obj),
    }
}

/// The Deployment as the controller has it at this read.
fn read_deployment(s: &mut State, path: &str) -> Value {
    let reads = s.reads.entry(path.to_string()).or_insert(0);
    *reads += 1;
    let reads = *reads;
    let current = current_replicaset(s, path);
    let name = current.as_ref().map(|r| r["metadata"]["name"].as_str().unwrap_or_default().to_string());
    // A Deployment stored by a test (no ReplicaSet yet) follows the mode.
    let stuck = match &current {
        Some(rs) => rs["metadata"]["annotations"][STUCK].as_str().and_then(Stuck::of).is_some(),
        None => matches!(s.rollout, RolloutMode::Stuck(_)),
    };
    let d = s.objects.get_mut(path).unwrap();
    control(d, reads, stuck, name.as_deref());
    d.clone()
}

fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn list(state: &Arc<Mutex<State>>, prefix: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let mut s = state.lock().unwrap();
    let depth = prefix.matches('/').count() + 1;
    // A namespaced kind listed without a namespace (`/apis/policy/v1/poddisruptionbudgets`) is
    // listed across all of them.
    let (base, resource) = prefix.rsplit_once('/').unwrap_or_default();
    let across = |p: &str| {
        p.strip_prefix(&format!("{base}/namespaces/")).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('/').collect();
            parts.len() == 3 && parts[1] == resource
        })
    };
    let paths: Vec<String> =
        s.objects.keys().filter(|p| (p.starts_with(&format!("{prefix}/")) && p.matches('/').count() == depth) || across(p)).cloned().collect();
    let mut items = vec![];
    for p in paths {
        let obj = match s.objects[&p]["kind"].as_str() {
            Some("Deployment") => read_deployment(&mut s, &p),
            Some("PodDisruptionBudget") => with_pdb_status(&s, s.objects[&p].clone()),
            _ => s.objects[&p].clone(),
        };
        if selects(q.get("labelSelector"), &obj) {
            items.push(obj);
        }
    }
    if prefix.ends_with("/events") {
        items = s
            .events
            .iter()
            .filter(|e| prefix.contains(&format!("/namespaces/{}/", e["metadata"]["namespace"].as_str().unwrap_or_default())))
            .cloned()
            .collect();
    }
    let kind = items.first().and_then(|i| i["kind"].as_str()).map(|k| format!("{k}List")).unwrap_or_else(|| "List".into());
    object(200, &json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": s.version.to_string()}, "items": items}))
}

/// A watch of events: those after `resourceVersion`, then each as it is recorded.
fn watch_events(state: &Arc<Mutex<State>>, prefix: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let since: u64 = q.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let namespace = prefix.split('/').skip_while(|s| *s != "namespaces").nth(1).unwrap_or_default().to_string();
    let (backlog, mut rx) = {
        let mut s = state.lock().unwrap();
        let backlog: Vec<Value> = s.events.iter().filter(|e| rv(e) > since).cloned().collect();
        s.watchers += 1;
        s.opened.notify_waiters();
        (backlog, s.event_tx.subscribe())
    };
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(64);
    let state = state.clone();
    tokio::spawn(async move {
        let _open = Open(state, None);
        let line = |e: &Value| Bytes::from(json!({"type": "ADDED", "object": e}).to_string() + "\n");
        for e in backlog.iter().filter(|e| e["metadata"]["namespace"] == namespace.as_str()) {
            if tx.send_data(line(e)).await.is_err() {
                return;
            }
        }
        while let Ok(e) = rx.recv().await {
            if rv(&e) > since && e["metadata"]["namespace"] == namespace.as_str() && tx.send_data(line(&e)).await.is_err() {
                return;
            }
        }
    });
    Response::builder().status(200).header("content-type", "application/json").body(body.boxed()).unwrap()
}

/// An open watch or follow: counted while its stream lives.
struct Open(Arc<Mutex<State>>, Option<String>);

impl Drop for Open {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &self.1 {
            Some(pod) => *s.followers.entry(pod.clone()).or_default() -= 1,
            None => s.watchers -= 1,
        }
    }
}

fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// A pod's log: `tailLines`, `sinceSeconds`, `timestamps`; with `follow`, lines as they come
/// until the pod's process ends.
fn pod_log(state: &Arc<Mutex<State>>, ns: &str, pod: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let follow = q.get("follow").is_some_and(|v| v == "true");
    let (lines, rx) = {
        let mut s = state.lock().unwrap();
        if !s.objects.contains_key(&format!("/api/v1/namespaces/{ns}/pods/{pod}")) {
            return status(404, "NotFound", &format!("pods \"{pod}\" not found"));
        }
        if follow {
            *s.followers.entry(pod.to_string()).or_default() += 1;
            s.opened.notify_waiters();
        }
        (s.logs.get(pod).cloned().unwrap_or_default(), s.log_tx.subscribe())
    };
    let stamps = q.get("timestamps").is_some_and(|v| v == "true");
    let format = move |(t, l): &(DateTime<Utc>, String)| {
        if stamps {
            format!("{} {l}\n", t.to_rfc3339_opts(SecondsFormat::Nanos, true))
        } else {
            format!("{l}\n")
        }
    };
    let since = q.get("sinceSeconds").and_then(|v| v.parse::<i64>().ok()).map(|s| Utc::now() - chrono::Duration::seconds(s));
    let mut lines: Vec<_> = lines.into_iter().filter(|(t, _)| since.is_none_or(|s| *t >= s)).collect();
    if let Some(n) = q.get("tailLines").and_then(|v| v.parse::<usize>().ok()) {
        lines = lines.split_off(lines.len().saturating_sub(n));
    }
    let text: String = lines.iter().map(&format).collect();
    if !follow {
        return full(200, "text/plain", text);
    }
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(64);
    let (pod, mut rx) = (pod.to_string(), rx);
    let open = Open(state.clone(), Some(pod.clone()));
    tokio::spawn(async move {
        let _open = open;
        if !text.is_empty() && tx.send_data(Bytes::from(text)).await.is_err() {
            return;
        }
        while let Ok((p, line)) = rx.recv().await {
            if p != pod {
                continue;
            }
            let Some(line) = line else { return };
            if tx.send_data(Bytes::from(format(&line))).await.is_err() {
                return;
            }
        }
    });
    Response::builder().status(200).header("content-type", "text/plain").body(body.boxed()).unwrap()
}

/// The API server's proxy to a pod's port: the pod's process when it runs one.
async fn proxy(state: &Arc<Mutex<State>>, client: &HttpClient, ns: &str, pod: &str, port: &str, tail: &str, query: &str) -> Response<Body> {
    let (exists, local) = {
        let s = state.lock().unwrap();
        (s.objects.contains_key(&format!("/api/v1/namespaces/{ns}/pods/{pod}")), s.ports.get(pod).copied())
    };
    if !exists {
        return status(404, "NotFound", &format!("pods \"{pod}\" not found"));
    }
    let refused = || status(503, "ServiceUnavailable", &format!("error trying to reach service: dial tcp {pod}:{port}: connect: connection refused"));
    let Some(local) = local else { return refused() };
    let q = if query.is_empty() { String::new() } else { format!("?{query}") };
    let Ok(req) = Request::get(format!("http://127.0.0.1:{local}{tail}{q}")).body(Full::new(Bytes::new())) else { return refused() };
    let Ok(resp) = client.request(req).await else { return refused() };
    let code = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("text/plain").to_string();
    let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    full(code, &ct, body)
}

fn apply(state: &Arc<Mutex<State>>, path: &str, query: &str, content_type: &str, body: &Bytes) -> Response<Body> {
    if content_type != "application/apply-patch+yaml" {
        return status(415, "UnsupportedMediaType", "only server-side apply is served");
    }
    if !query.split('&').any(|kv| kv.starts_with("fieldManager=")) {
        return status(422, "Invalid", "fieldManager is required for apply patch");
    }
    // JSON is YAML: the apply body as sent.
    let Ok(applied) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the apply body is not JSON");
    };
    let name = path.rsplit('/').next().unwrap_or_default();
    if applied["metadata"]["name"] != name {
        return status(400, "BadRequest", "the body's name differs from the path's");
    }
    let mut guard = state.lock().unwrap();
    let s = &mut *guard;
    s.version += 1;
    let version = s.version.to_string();
    let existed = s.objects.contains_key(path);
    let mut merged = applied.clone();
    let mut spec_changed = !existed;
    match s.objects.get(path) {
        Some(old) => {
            let unchanged = strip(old) == strip(&applied);
            merged["metadata"]["uid"] = old["metadata"]["uid"].clone();
            merged["metadata"]["resourceVersion"] = if unchanged { old["metadata"]["resourceVersion"].clone() } else { json!(version) };
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
            spec_changed = old.get("spec") != applied.get("spec");
            merged["metadata"]["generation"] = json!(if spec_changed { generation + 1 } else { generation });
            merged["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
            if let Some(st) = old.get("status") {
                merged["status"] = st.clone();
            }
            // What the controller set stays (server-side apply keeps other managers' fields).
            if let Some(v) = old["metadata"]["annotations"].get(REVISION) {
                merged["metadata"]["annotations"][REVISION] = v.clone();
            }
            if spec_changed {
                s.reads.remove(path);
            }
        }
        None => {
            merged["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
            merged["metadata"]["resourceVersion"] = json!(version);
            merged["metadata"]["generation"] = json!(1);
            merged["metadata"]["creationTimestamp"] = json!(now());
        }
    }
    let deployment = merged["kind"] == "Deployment";
    s.objects.insert(path.to_string(), merged.clone());
    if deployment && spec_changed {
        reconcile(s, state, path);
    }
    object(if existed { 200 } else { 201 }, &s.objects[path])
}

/// The object as applied: without what the server sets.
fn strip(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["uid", "resourceVersion", "generation", "creationTimestamp"] {
            m.remove(k);
        }
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(REVISION);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// A stable short hash of a pod template, as the ReplicaSet's name suffix.
fn template_hash(template: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut h);
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = h.finish();
    (0..10)
        .map(|_| {
            let c = alphabet[(n % alphabet.len() as u64) as usize] as char;
            n /= alphabet.len() as u64;
            c
        })
        .collect()
}

fn deployments(s: &State) -> Vec<String> {
    s.objects.iter().filter(|(_, o)| o["kind"] == "Deployment").map(|(p, _)| p.clone()).collect()
}

fn deployment_parts(path: &str) -> (String, String) {
    let segs: Vec<&str> = path.split('/').collect();
    (segs[segs.len() - 3].to_string(), segs[segs.len() - 1].to_string())
}

fn replicasets_of<'a>(s: &'a State, path: &str) -> Vec<(&'a String, &'a Value)> {
    let (ns, name) = deployment_parts(path);
    let prefix = format!("/apis/apps/v1/namespaces/{ns}/replicasets/");
    s.objects.iter().filter(|(p, rs)| p.starts_with(&prefix) && rs["metadata"]["ownerReferences"][0]["name"] == name.as_str()).collect()
}

fn current_replicaset(s: &State, path: &str) -> Option<Value> {
    let revision = s.objects.get(path)?["metadata"]["annotations"][REVISION].as_str()?.to_string();
    replicasets_of(s, path).into_iter().find(|(_, rs)| rs["metadata"]["annotations"][REVISION] == revision.as_str()).map(|(_, rs)| rs.clone())
}

/// The Deployment controller after a change to the Deployment at `path`: the template's
/// ReplicaSet (new, or an earlier one brought back at the next revision), its pods, the old
/// ones scaled down (unless the rollout is stuck), and the events of it all.
fn reconcile(s: &mut State, state: &Arc<Mutex<State>>, path: &str) {
    let d = s.objects[path].clone();
    let (ns, name) = deployment_parts(path);
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut template = d["spec"]["template"].clone();
    let hash = template_hash(&template);
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let rs_name = format!("{name}-{hash}");
    let rs_path = format!("/apis/apps/v1/namespaces/{ns}/replicasets/{rs_name}");
    let revisions: Vec<i64> =
        replicasets_of(s, path).iter().filter_map(|(_, rs)| rs["metadata"]["annotations"][REVISION].as_str()?.parse().ok()).collect();
    let current = d["metadata"]["annotations"][REVISION].as_str().map(str::to_string);
    let same = s.objects.get(&rs_path).and_then(|rs| rs["metadata"]["annotations"][REVISION].as_str().map(str::to_string));
    let new_template = same.is_none() || same != current;
    let revision = if new_template { revisions.iter().max().unwrap_or(&0) + 1 } else { same.as_deref().unwrap_or("1").parse().unwrap_or(1) };
    // A template never seen fails when the mode says so; one seen before keeps its own fate.
    let stuck = match (s.objects.get(&rs_path), s.rollout) {
        (Some(rs), _) => rs["metadata"]["annotations"][STUCK].as_str().and_then(Stuck::of),
        (None, RolloutMode::Stuck(cause)) => Some(cause),
        (None, RolloutMode::Progress) => None,
    };
    s.version += 1;
    let mut annotations = json!({REVISION: revision.to_string()});
    if let Some(c) = stuck {
        annotations[STUCK] = json!(c.key());
    }
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": ns, "uid": s.objects.get(&rs_path).map(|r| r["metadata"]["uid"].clone()).unwrap_or(json!(uuid::Uuid::new_v4().to_string())),
            "resourceVersion": s.version.to_string(),
            "creationTimestamp": s.objects.get(&rs_path).map(|r| r["metadata"]["creationTimestamp"].clone()).unwrap_or(json!(now())),
            "labels": template["metadata"]["labels"], "annotations": annotations,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": d["metadata"]["uid"], "controller": true}]},
        "spec": {"replicas": if stuck.is_some() { 1 } else { replicas }, "selector": d["spec"]["selector"], "template": template},
    });
    s.objects.insert(rs_path.clone(), rs);
    s.objects.get_mut(path).unwrap()["metadata"]["annotations"][REVISION] = json!(revision.to_string());
    // The old ReplicaSets go to none, unless the new one cannot come up (maxUnavailable 0).
    if stuck.is_none() {
        let old: Vec<String> = replicasets_of(s, path).iter().filter(|(p, _)| **p != rs_path).map(|(p, _)| (*p).clone()).collect();
        for p in old {
            let had = s.objects[&p]["spec"]["replicas"].as_i64().unwrap_or(0);
            s.objects.get_mut(&p).unwrap()["spec"]["replicas"] = json!(0);
            let old_name = s.objects[&p]["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if had > 0 {
                event(s, &ns, "Deployment", &name, "Normal", "ScalingReplicaSet", &format!("Scaled down replica set {old_name} to 0 from {had}"));
            }
            remove_pods(s, &ns, &old_name);
        }
    }
    // The new ReplicaSet's pods, to its replicas.
    let want = if stuck.is_some() { 1 } else { replicas };
    let have = pods_of(s, &ns, &rs_name);
    if have.len() as i64 != want {
        event(s, &ns, "Deployment", &name, "Normal", "ScalingReplicaSet", &format!("Scaled up replica set {rs_name} to {want}"));
    }
    if (have.len() as i64) > want {
        let extra: Vec<String> = have[want as usize..].to_vec();
        for pod in extra {
            remove_pod(s, &ns, &pod);
        }
    }
    for _ in have.len() as i64..want {
        add_pod(s, state, &ns, &rs_name, stuck);
    }
}

fn pods_of(s: &State, ns: &str, rs: &str) -> Vec<String> {
    let prefix = format!("/api/v1/namespaces/{ns}/pods/");
    s.objects
        .iter()
        .filter(|(p, o)| p.starts_with(&prefix) && o["metadata"]["ownerReferences"][0]["name"] == rs)
        .map(|(_, o)| o["metadata"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn remove_pods(s: &mut State, ns: &str, rs: &str) {
    for pod in pods_of(s, ns, rs) {
        remove_pod(s, ns, &pod);
    }
}

fn remove_pod(s: &mut State, ns: &str, pod: &str) {
    s.objects.remove(&format!("/api/v1/namespaces/{ns}/pods/{pod}"));
    s.ports.remove(pod);
    event(s, ns, "Pod", pod, "Normal", "Killing", "Stopping container worker");
    let (gone, kept): (Vec<Proc>, Vec<Proc>) = std::mem::take(&mut s.procs).into_iter().partition(|p| p.name == pod);
    s.procs = kept;
    // Stopped in the background, as a rolling update drains its old pods.
    std::thread::spawn(move || terminate(gone));
}

/// A pod of ReplicaSet `rs`: running (and, with a kubelet, a process), or failing as `stuck` says.
fn add_pod(s: &mut State, state: &Arc<Mutex<State>>, ns: &str, rs: &str, stuck: Option<Stuck>) {
    let rs_obj = s.objects[&format!("/apis/apps/v1/namespaces/{ns}/replicasets/{rs}")].clone();
    let template = &rs_obj["spec"]["template"];
    let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..5].to_string();
    let pod = format!("{rs}-{suffix}");
    let (node, _) = NODES[s.placed % NODES.len()];
    s.placed += 1;
    let container = &template["spec"]["containers"][0];
    let cname = container["name"].as_str().unwrap_or("worker").to_string();
    let image = container["image"].as_str().unwrap_or_default().to_string();
    let started = now();
    let cond = |t: &str, ok: bool| json!({"type": t, "status": if ok { "True" } else { "False" }, "lastTransitionTime": started});
    let waiting = |reason: &str, message: &str| json!({"waiting": {"reason": reason, "message": message}});
    let (phase, node, conditions, state_, last, restarts, ready) = match stuck {
        None => (
            "Running",
            Some(node),
            vec![cond("PodScheduled", true), cond("Ready", true)],
            json!({"running": {"startedAt": started}}),
            json!({}),
            0,
            true,
        ),
        Some(Stuck::ImagePull) => (
            "Pending",
            Some(node),
            vec![cond("PodScheduled", true), cond("Ready", false)],
            waiting("ImagePullBackOff", &format!("Back-off pulling image \"{image}\"")),
            json!({}),
            0,
            false,
        ),
        Some(Stuck::CrashLoop) => (
            "Running",
            Some(node),
            vec![cond("PodScheduled", true), cond("Ready", false)],
            waiting("CrashLoopBackOff", &format!("back-off 2m40s restarting failed container={cname} pod={pod}")),
            json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": started, "finishedAt": started}}),
            5,
            false,
        ),
        Some(Stuck::Config) => (
            "Pending",
            Some(node),
            vec![cond("PodScheduled", true), cond("Ready", false)],
            waiting("CreateContainerConfigError", "configmap \"pj-worker\" not found"),
            json!({}),
            0,
            false,
        ),
        Some(Stuck::Unschedulable) => {
            let mut c = cond("PodScheduled", false);
            c["reason"] = json!("Unschedulable");
            c["message"] = json!("0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
            ("Pending", None, vec![c], json!({}), json!({}), 0, false)
        }
        Some(Stuck::Readiness) => (
            "Running",
            Some(node),
            vec![cond("PodScheduled", true), cond("Ready", false)],
            json!({"running": {"startedAt": started}}),
            json!({}),
            0,
            false,
        ),
    };
    let mut spec = template["spec"].clone();
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    let mut status = json!({"phase": phase, "conditions": conditions, "startTime": started});
    if stuck != Some(Stuck::Unschedulable) {
        status["containerStatuses"] =
            json!([{"name": cname, "image": image, "ready": ready, "restartCount": restarts, "state": state_, "lastState": last}]);
        status["podIP"] = json!(format!("10.0.{}.{}", s.placed % 3 + 1, 100 + s.placed % 100));
    }
    s.version += 1;
    let obj = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": ns, "uid": uuid::Uuid::new_v4().to_string(), "resourceVersion": s.version.to_string(),
            "creationTimestamp": started, "labels": template["metadata"]["labels"], "annotations": template["metadata"]["annotations"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rs_obj["metadata"]["uid"], "controller": true}]},
        "spec": spec, "status": status});
    s.objects.insert(format!("/api/v1/namespaces/{ns}/pods/{pod}"), obj);
    let ev = |s: &mut State, t: &str, r: &str, m: String| event(s, ns, "Pod", &pod, t, r, &m);
    match stuck {
        Some(Stuck::Unschedulable) => ev(
            s,
            "Warning",
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
                .into(),
        ),
        _ => ev(s, "Normal", "Scheduled", format!("Successfully assigned {ns}/{pod} to {}", node.unwrap_or_default())),
    }
    match stuck {
        Some(Stuck::ImagePull) => {
            ev(s, "Normal", "Pulling", format!("Pulling image \"{image}\""));
            ev(
                s,
                "Warning",
                "Failed",
                format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"),
            );
            ev(s, "Warning", "Failed", "Error: ErrImagePull".into());
            ev(s, "Normal", "BackOff", format!("Back-off pulling image \"{image}\""));
            ev(s, "Warning", "Failed", "Error: ImagePullBackOff".into());
        }
        Some(Stuck::Config) => ev(s, "Warning", "Failed", "Error: configmap \"pj-worker\" not found".into()),
        Some(Stuck::CrashLoop) => {
            ev(s, "Normal", "Started", format!("Started container {cname}"));
            ev(s, "Warning", "BackOff", format!("Back-off restarting failed container {cname} in pod {pod}_{ns}"));
            append_log(s, &pod, r#"{"level":"INFO","message":"pj-worker starting"}"#);
            append_log(s, &pod, r#"{"level":"ERROR","message":"startup failed: the database secret cannot be read: AccessDeniedException"}"#);
        }
        Some(Stuck::Readiness) => {
            ev(s, "Normal", "Started", format!("Started container {cname}"));
            ev(s, "Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503".into());
        }
        Some(Stuck::Unschedulable) => {}
        None => {
            ev(s, "Normal", "Pulled", format!("Container image \"{image}\" already present on machine"));
            ev(s, "Normal", "Started", format!("Started container {cname}"));
            start_process(s, state, ns, &pod, container);
        }
    }
}

/// Records a Kubernetes event (core/v1) about `kind` `name`.
fn event(s: &mut State, ns: &str, kind: &str, name: &str, type_: &str, reason: &str, message: &str) {
    s.version += 1;
    let at = now();
    let e = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.{:x}", s.version), "namespace": ns, "uid": uuid::Uuid::new_v4().to_string(), "resourceVersion": s.version.to_string(), "creationTimestamp": at},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns}, "type": type_, "reason": reason, "message": message,
        "count": 1, "firstTimestamp": at, "lastTimestamp": at,
        "source": {"component": if kind == "Deployment" { "deployment-controller" } else { "kubelet" }}});
    s.events.push(e.clone());
    let _ = s.event_tx.send(e);
}

fn append_log(s: &mut State, pod: &str, line: &str) {
    let entry = (Utc::now(), line.to_string());
    s.logs.entry(pod.to_string()).or_default().push(entry.clone());
    let _ = s.log_tx.send((pod.to_string(), Some(entry)));
}

/// The PDB with its status, from the ready pods it selects.
fn with_pdb_status(s: &State, mut pdb: Value) -> Value {
    let ns = pdb["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
    let selector = &pdb["spec"]["selector"]["matchLabels"];
    let prefix = format!("/api/v1/namespaces/{ns}/pods/");
    let pods: Vec<&Value> = s
        .objects
        .iter()
        .filter(|(p, o)| p.starts_with(&prefix) && selector.as_object().into_iter().flatten().all(|(k, v)| &o["metadata"]["labels"][k] == v))
        .map(|(_, o)| o)
        .collect();
    let healthy = pods
        .iter()
        .filter(|p| p["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        .count() as i64;
    let desired = match (&pdb["spec"]["minAvailable"], &pdb["spec"]["maxUnavailable"]) {
        (Value::Number(n), _) => n.as_i64().unwrap_or(0),
        (_, Value::Number(n)) => pods.len() as i64 - n.as_i64().unwrap_or(0),
        _ => 0,
    };
    pdb["status"] =
        json!({"currentHealthy": healthy, "desiredHealthy": desired, "disruptionsAllowed": (healthy - desired).max(0), "expectedPods": pods.len()});
    pdb
}

/// The Deployment's status for this read (see the module's docs).
fn control(d: &mut Value, reads: u32, stuck: bool, current: Option<&str>) {
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
    d["status"] = match (stuck, reads) {
        (true, _) => {
            json!({"observedGeneration": generation, "replicas": replicas + 1, "updatedReplicas": 1, "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": format!("ReplicaSet \"{}\" has timed out progressing.", current.unwrap_or_default())}]})
        }
        (false, 1) => {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": 0, "availableReplicas": 0})
        }
        _ => {
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                    "message": format!("ReplicaSet \"{}\" has successfully progressed.", current.unwrap_or_default())}]})
        }
    };
}

/// SIGTERM to every process at once, then waits for each to exit (the worker drains, puts back
/// what its last long poll was handed, and signs a checkpoint).
fn terminate(procs: Vec<Proc>) {
    for p in &procs {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    }
    for mut p in procs {
        let _ = p.child.wait();
    }
}

/// A free port on this machine for a pod's health endpoint.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// The pod's container as a process (with a kubelet, for `pj-worker:*` images): the
/// container's args and environment; its output becomes the pod's log.
fn start_process(s: &mut State, state: &Arc<Mutex<State>>, ns: &str, pod: &str, container: &Value) {
    let Some(k) = s.kubelet.clone() else { return };
    if !container["image"].as_str().unwrap_or_default().starts_with("pj-worker:") {
        return;
    }
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        if let Some(cm) = from["configMapRef"]["name"].as_str() {
            let data = &s.objects.get(&format!("/api/v1/namespaces/{ns}/configmaps/{cm}")).cloned().unwrap_or_default()["data"];
            for (k, v) in data.as_object().into_iter().flatten() {
                env.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let value = match (&e["value"], e["valueFrom"]["fieldRef"]["fieldPath"].as_str()) {
            (Value::String(v), _) => v.clone(),
            (_, Some("metadata.name")) => pod.to_string(),
            _ => continue,
        };
        env.insert(e["name"].as_str().unwrap_or_default().to_string(), value);
    }
    // What EKS gives a pod that a process here cannot have.
    let port = free_port();
    env.insert("PJ_LISTEN".into(), format!("127.0.0.1:{port}"));
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
    let args: Vec<String> = container["args"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(String::from)).collect();
    let mut child = std::process::Command::new(&k.worker)
        .args(&args)
        .env_clear()
        .envs(&env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} for pod {pod}: {e}", k.worker.display()));
    // Its output (both streams) becomes the pod's log: kept here for the log API and in
    // `<pod>.log` for whoever reads a failed test.
    let file = Arc::new(Mutex::new(std::fs::File::create(k.logs.join(format!("{pod}.log"))).unwrap()));
    let streams: Vec<Box<dyn std::io::Read + Send>> = vec![Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    for stream in streams {
        let (state, file, pod) = (state.clone(), file.clone(), pod.to_string());
        std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file.lock().unwrap(), "{line}");
                append_log(&mut state.lock().unwrap(), &pod, &line);
            }
            let _ = state.lock().unwrap().log_tx.send((pod, None));
        });
    }
    s.ports.insert(pod.to_string(), port);
    s.procs.push(Proc { name: pod.to_string(), child });
}
