//! The fault injector: an HTTP proxy between the AWS SDK and the emulator that a test scripts
//! to answer chosen requests with a fault instead of the emulator's answer — throttling (with
//! Retry-After), a 5xx, latency, a connection closed mid-request, a request that never gets an
//! answer, expired credentials — and that records every request it sees (service and action), so
//! a test can also count calls (how often credentials were fetched from STS, say).
//!
//! Point an environment's endpoint at [`FaultProxy::endpoint`]; requests not matched by a rule go
//! to the emulator unchanged. Errors are written in each protocol's own shape (awsQuery XML for
//! CloudWatch and STS, awsJson for SQS and CloudWatch Logs), so the SDK parses them as it would
//! AWS's.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to answer instead of the emulator.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// HTTP 400 with the service's throttling error code; `Retry-After` when given (seconds).
    Throttle { retry_after: Option<u32> },
    /// This HTTP status (500, 502, 503...) with an internal-failure error.
    Status(u16),
    /// The emulator's answer, this much later.
    Latency(Duration),
    /// The connection closed with no answer.
    Reset,
    /// No answer at all, until the client gives up.
    Hang,
    /// The service's expired-token error (credentials that were good have expired).
    ExpiredToken,
    /// The request reaches the emulator and is carried out, but the connection closes before
    /// the answer: the caller cannot tell whether it happened.
    Lost,
}

/// A request the proxy saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The signing name in the request's credential scope: `monitoring`, `sts`, `sqs`, `logs`...
    pub service: String,
    /// The operation: `GetMetricData`, `SendMessage`, `AssumeRole`... For S3 (REST), the SDK's
    /// `x-id` (`PutObject`), else the object operation by method (`HeadObject`) or the method and
    /// the bucket's first sub-resource (`GET versioning`).
    pub action: String,
    /// The fault answered, if one was.
    pub fault: Option<Fault>,
}

struct Rule {
    service: String,
    action: Option<String>,
    fault: Fault,
    /// Matching requests let through before the fault starts.
    skip: usize,
    remaining: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

pub struct FaultProxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Client = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (e.g. the emulator's endpoint).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fault proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let upstream: Arc<str> = upstream.trim_end_matches('/').into();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, client, upstream) = (shared.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone(), client.clone(), upstream.clone()));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                });
            }
        });
        FaultProxy { port, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers the next `times` requests to `service` (its signing name), of `action` when given,
    /// with `fault`. Rules are tried in the order they were added.
    pub fn inject(&self, service: &str, action: Option<&str>, fault: Fault, times: usize) {
        self.inject_after(service, action, 0, fault, times);
    }

    /// As [`FaultProxy::inject`], after letting `skip` matching requests through.
    pub fn inject_after(&self, service: &str, action: Option<&str>, skip: usize, fault: Fault, times: usize) {
        let rule = Rule { service: service.into(), action: action.map(String::from), fault, skip, remaining: times };
        self.state.lock().unwrap().rules.push(rule);
    }

    /// Forgets the rules that are left.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many requests of `service` (and `action`, when given) were seen.
    pub fn count(&self, service: &str, action: Option<&str>) -> usize {
        self.seen().iter().filter(|s| s.service == service && action.is_none_or(|a| s.action == a)).count()
    }
}

/// The signing name from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/<service>/aws4_request`.
fn service_of(req: &Request<hyper::body::Incoming>) -> String {
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(3)).unwrap_or("unknown").to_string()
}

/// Services whose REST protocol answers errors in JSON (their GETs carry no JSON content type).
const REST_JSON: [&str; 2] = ["backup", "eks"];

fn is_json(content_type: &str) -> bool {
    content_type.contains("x-amz-json")
}

/// The operation: `X-Amz-Target: Service.Operation` (awsJson), `Action=` in the form (awsQuery),
/// for AWS Backup and EKS (REST) their method and path, or for S3 what the method does to the path
/// (path-style: `/bucket/key`).
fn action_of(service: &str, parts: &hyper::http::request::Parts, target: Option<&str>, body: &[u8]) -> String {
    if let Some(t) = target {
        return t.rsplit('.').next().unwrap_or(t).to_string();
    }
    if service == "backup" {
        if let Some(op) = backup_action(parts.method.as_str(), parts.uri.path()) {
            return op.into();
        }
    }
    if service == "eks" {
        if let Some(op) = eks_action(parts.method.as_str(), parts.uri.path()) {
            return op.into();
        }
    }
    if service == "s3" {
        // The Rust SDK names most operations in `x-id`; the rest by what the method does.
        let query: Vec<(String, String)> = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
        if let Some((_, op)) = query.iter().find(|(k, _)| k == "x-id") {
            return op.clone();
        }
        let object = parts.uri.path().trim_start_matches('/').split_once('/').is_some_and(|(_, key)| !key.is_empty());
        let method = parts.method.as_str();
        return match (object, query.first(), method) {
            (true, None, "PUT") => "PutObject".into(),
            (true, None, "GET") => "GetObject".into(),
            (true, None, "HEAD") => "HeadObject".into(),
            (true, None, "DELETE") => "DeleteObject".into(),
            (_, Some((sub, _)), m) => format!("{m} {sub}"),
            (_, None, m) => m.into(),
        };
    }
    url::form_urlencoded::parse(body).find(|(k, _)| k == "Action").map(|(_, v)| v.into_owned()).unwrap_or_else(|| "unknown".into())
}

/// AWS Backup's REST operations by method and path (the ones Vigil calls).
fn backup_action(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("PUT", ["backup-jobs"]) => "StartBackupJob",
        ("GET", ["backup-jobs"]) => "ListBackupJobs",
        ("GET", ["backup-jobs", _]) => "DescribeBackupJob",
        ("PUT", ["restore-jobs"]) => "StartRestoreJob",
        ("GET", ["restore-jobs"]) => "ListRestoreJobs",
        ("GET", ["restore-jobs", _]) => "DescribeRestoreJob",
        ("PUT", ["copy-jobs"]) => "StartCopyJob",
        ("GET", ["copy-jobs"]) => "ListCopyJobs",
        ("GET", ["backup-vaults"]) => "ListBackupVaults",
        ("GET", ["backup-vaults", _]) => "DescribeBackupVault",
        ("GET", ["backup-vaults", _, "access-policy"]) => "GetBackupVaultAccessPolicy",
        ("GET", ["backup-vaults", _, "recovery-points"]) => "ListRecoveryPointsByBackupVault",
        ("GET", ["backup-vaults", _, "recovery-points", .., "restore-metadata"]) => "GetRecoveryPointRestoreMetadata",
        ("GET", ["backup-vaults", _, "recovery-points", ..]) => "DescribeRecoveryPoint",
        ("DELETE", ["backup-vaults", _, "recovery-points", ..]) => "DeleteRecoveryPoint",
        ("GET", ["resources"]) => "ListProtectedResources",
        ("GET", ["resources", .., "recovery-points"]) => "ListRecoveryPointsByResource",
        ("GET", ["backup", "plans"]) => "ListBackupPlans",
        ("GET", ["backup", "plans", _]) => "GetBackupPlan",
        ("GET", ["backup", "plans", _, "selections"]) => "ListBackupSelections",
        ("GET", ["backup", "plans", _, "selections", _]) => "GetBackupSelection",
        ("GET", ["audit", "frameworks"]) => "ListFrameworks",
        ("GET", ["audit", "frameworks", _]) => "DescribeFramework",
        _ => return None,
    })
}

/// EKS's REST operations by method and path (the ones Vigil calls).
fn eks_action(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("GET", ["cluster-versions"]) => "DescribeClusterVersions",
        ("GET", ["addons", "supported-versions"]) => "DescribeAddonVersions",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("POST", ["clusters", _, "updates"]) => "UpdateClusterVersion",
        ("GET", ["clusters", _, "updates"]) => "ListUpdates",
        ("GET", ["clusters", _, "updates", _]) => "DescribeUpdate",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("POST", ["clusters", _, "node-groups", _, "update-version"]) => "UpdateNodegroupVersion",
        ("GET", ["clusters", _, "addons"]) => "ListAddons",
        ("GET", ["clusters", _, "addons", _]) => "DescribeAddon",
        ("POST", ["clusters", _, "addons", _, "update"]) => "UpdateAddon",
        ("POST", ["clusters", _, "insights"]) => "ListInsights",
        ("GET", ["clusters", _, "insights", _]) => "DescribeInsight",
        ("POST", ["clusters", _, "insights-refresh"]) => "StartInsightsRefresh",
        ("GET", ["clusters", _, "insights-refresh"]) => "DescribeInsightsRefresh",
        ("GET", ["clusters", _, "access-entries"]) => "ListAccessEntries",
        ("GET", ["clusters", _, "access-entries", .., "access-policies"]) => "ListAssociatedAccessPolicies",
        ("GET", ["clusters", _, "access-entries", ..]) => "DescribeAccessEntry",
        _ => return None,
    })
}

/// How a service answers an error: JSON (awsJson, REST-JSON), S3's bare `<Error>` (restXml) or
/// the query protocols' `<ErrorResponse>`.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Json,
    S3,
    Query,
}

fn error_response(shape: Shape, status: u16, code: &str, message: &str, retry_after: Option<u32>) -> Response<Full<Bytes>> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let json = shape == Shape::Json;
    let (content_type, body) = if json {
        ("application/x-amz-json-1.1", serde_json::json!({ "__type": code, "message": message }).to_string())
    } else if shape == Shape::S3 {
        ("application/xml", format!("<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"))
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if status < 500 { "Sender" } else { "Receiver" }
            ),
        )
    };
    let mut r = Response::builder()
        .status(StatusCode::from_u16(status).expect("a valid status"))
        .header("content-type", content_type)
        .header("x-amzn-requestid", request_id);
    if json {
        r = r.header("x-amzn-errortype", code);
    }
    if let Some(s) = retry_after {
        r = r.header("retry-after", s.to_string());
    }
    r.body(Full::new(Bytes::from(body))).expect("a valid response")
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    client: Client,
    upstream: Arc<str>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let service = service_of(&req);
    let shape =
        if is_json(req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default()) || REST_JSON.contains(&service.as_str()) {
            Shape::Json
        } else if service == "s3" {
            Shape::S3
        } else {
            Shape::Query
        };
    let json = shape == Shape::Json;
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(String::from);
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let action = action_of(&service, &parts, target.as_deref(), &body);
    let fault = {
        let mut st = state.lock().unwrap();
        let rule = st.rules.iter_mut().find(|r| r.remaining > 0 && r.service == service && r.action.as_ref().is_none_or(|a| *a == action));
        let fault = match rule {
            Some(r) if r.skip > 0 => {
                r.skip -= 1;
                None
            }
            Some(r) => {
                r.remaining -= 1;
                Some(r.fault.clone())
            }
            None => None,
        };
        st.seen.push(Seen { service: service.clone(), action: action.clone(), fault: fault.clone() });
        fault
    };
    match fault {
        Some(Fault::Throttle { retry_after }) => {
            // S3 throttles with 503 SlowDown.
            let (status, code) = match shape {
                Shape::Json => (400, "ThrottlingException"),
                Shape::S3 => (503, "SlowDown"),
                Shape::Query => (400, "Throttling"),
            };
            return Ok(error_response(shape, status, code, "Rate exceeded", retry_after));
        }
        Some(Fault::Status(s)) => {
            let code = match (s, shape) {
                (503, _) => "ServiceUnavailable",
                (_, Shape::S3) => "InternalError",
                _ => "InternalFailure",
            };
            return Ok(error_response(shape, s, code, "The service had an internal failure (injected)", None));
        }
        Some(Fault::ExpiredToken) => {
            let code = if json { "ExpiredTokenException" } else { "ExpiredToken" };
            return Ok(error_response(shape, 400, code, "The security token included in the request is expired", None));
        }
        Some(Fault::Reset) => return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset")),
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "injected hang"));
        }
        Some(Fault::Latency(d)) => tokio::time::sleep(d).await,
        Some(Fault::Lost) | None => {}
    }
    let lost = fault == Some(Fault::Lost);
    let uri = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut forward = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        if k != "host" {
            forward = forward.header(k, v);
        }
    }
    let forward = forward.body(Full::new(body)).map_err(std::io::Error::other)?;
    let answer = client.request(forward).await.map_err(std::io::Error::other)?;
    if lost {
        return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected: the answer was lost"));
    }
    let (parts, body) = answer.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let mut back = Response::builder().status(parts.status);
    for (k, v) in &parts.headers {
        if k != "transfer-encoding" && k != "content-length" {
            back = back.header(k, v);
        }
    }
    back.body(Full::new(body)).map_err(std::io::Error::other)
}
