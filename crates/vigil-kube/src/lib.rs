//! Vigil's Kubernetes layer, for the platform's EKS cluster: a client built from the cluster's
//! endpoint, its CA (certificates are verified against it alone) and a bearer token minted in
//! process (`vigil_aws::eks::token`; no kubeconfig, no exec plugin, no aws binary);
//! server-side apply of manifests as one field manager; a Deployment's restart (as
//! `kubectl rollout restart`) and its rollout as `kubectl rollout status` judges it; its history,
//! pods, events and logs ([`inspect`]) and the cause of a stuck rollout ([`workload`]). Errors
//! are classified with what to do.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::Value;
use std::time::Duration;

pub use k8s_openapi;
pub use kube::Client;

pub mod inspect;
pub mod workload;

/// Where the cluster is and how to call it.
#[derive(Clone)]
pub struct Cluster {
    /// The API server's URL (https).
    pub endpoint: String,
    /// The cluster CA as EKS gives it: base64 of PEM.
    pub ca: String,
    /// A bearer token (`k8s-aws-v1.…`).
    pub token: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

/// A classified failure: what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KubeError {
    /// unauthorized, forbidden, unreachable, tls, timeout, invalid, not_found, api.
    pub kind: &'static str,
    pub message: String,
    pub hint: String,
}

impl KubeError {
    fn new(kind: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        KubeError { kind, message: message.into(), hint: hint.into() }
    }
}

const TIMEOUT: Duration = Duration::from_secs(20);

/// A client for `cluster`. Nothing is sent until it is used. It retries what the API server
/// says to try again (429, 503, 504).
pub fn client(cluster: &Cluster) -> Result<kube::Client, KubeError> {
    client_with(cluster, true)
}

/// A client for `cluster` that never retries: for a pod's own endpoints through the proxy,
/// whose 503 is the pod's answer (not ready), not the API server's.
pub fn probe_client(cluster: &Cluster) -> Result<kube::Client, KubeError> {
    client_with(cluster, false)
}

fn client_with(cluster: &Cluster, retry: bool) -> Result<kube::Client, KubeError> {
    let uri: http::Uri = cluster.endpoint.parse().map_err(|e| {
        KubeError::new("invalid", format!("the cluster's endpoint {:?} is not a URL ({e})", cluster.endpoint), "check the cluster in the EKS console")
    })?;
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(ca_certificates(&cluster.ca)?);
    config.connect_timeout = Some(TIMEOUT);
    config.read_timeout = Some(TIMEOUT);
    config.write_timeout = Some(TIMEOUT);
    config.auth_info.token = Some(secrecy::SecretString::from(cluster.token.clone()));
    config.default_retry = retry;
    kube::Client::try_from(config).map_err(|e| classify(&e, "connect"))
}

/// The DER certificates in EKS's certificateAuthority.data (base64 of PEM).
fn ca_certificates(data: &str) -> Result<Vec<Vec<u8>>, KubeError> {
    let bad = |why: String| {
        KubeError::new("tls", format!("the cluster's CA cannot be read ({why})"), "describe the cluster again; EKS gives its CA as base64 PEM")
    };
    use base64::Engine;
    let pem_text = base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|e| bad(format!("not base64: {e}")))?;
    let certs = pem::parse_many(pem_text).map_err(|e| bad(e.to_string()))?;
    let der: Vec<Vec<u8>> = certs.into_iter().filter(|p| p.tag() == "CERTIFICATE").map(|p| p.into_contents()).collect();
    if der.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    Ok(der)
}

/// What server-side apply did to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object's resourceVersion changed (it was created or changed).
    pub changed: bool,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

/// The API resource of a manifest (its plural made from the kind, as kubectl's does for
/// built-in kinds: no discovery round trip).
fn resource_of(object: &Value) -> Result<(ApiResource, Option<String>, String), KubeError> {
    let invalid =
        |why: &str| KubeError::new("invalid", format!("a manifest {why}"), "the bundle's manifests are signed: report this to its publisher");
    let api_version = str_at(object, &["apiVersion"]).ok_or_else(|| invalid("has no apiVersion"))?;
    let kind = str_at(object, &["kind"]).ok_or_else(|| invalid("has no kind"))?;
    let name = str_at(object, &["metadata", "name"]).ok_or_else(|| invalid(&format!("of kind {kind} has no name")))?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    Ok((ar, str_at(object, &["metadata", "namespace"]).map(str::to_string), name.to_string()))
}

/// Applies `objects` in order with server-side apply as `manager` (forcing ownership of the
/// fields it sets, as a deploy tool must).
pub async fn apply(client: &kube::Client, objects: &[Value], manager: &str) -> Result<Vec<Applied>, KubeError> {
    let mut out = vec![];
    for object in objects {
        let (ar, namespace, name) = resource_of(object)?;
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        let what = format!("{} {}", ar.kind, name);
        let before = api.get_opt(&name).await.map_err(|e| classify(&e, &format!("read {what}")))?;
        let after = api
            .patch(&name, &PatchParams::apply(manager).force(), &Patch::Apply(object))
            .await
            .map_err(|e| classify(&e, &format!("apply {what}")))?;
        let version = |o: &DynamicObject| o.metadata.resource_version.clone();
        out.push(Applied { kind: ar.kind.clone(), namespace, name, changed: before.as_ref().map(version) != Some(version(&after)) });
    }
    Ok(out)
}

/// The pod-template annotation a restart sets (`kubectl rollout restart` sets its own).
pub const RESTARTED_AT: &str = "vigil.io/restarted-at";

/// The Deployment as it would be applied again: without what the server sets.
pub fn reapplicable(d: &Deployment) -> Result<Value, KubeError> {
    let mut v = serde_json::to_value(d).map_err(|e| KubeError::new("api", format!("the Deployment cannot be read back ({e})"), "report this"))?;
    v["apiVersion"] = Value::from("apps/v1");
    v["kind"] = Value::from("Deployment");
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    Ok(v)
}

/// Restarts Deployment `name` as `kubectl rollout restart` does: its pod template gets
/// [`RESTARTED_AT`] = `at`, so every replica is replaced and starts with its configuration read
/// afresh (a secret's new value). Applied as `manager`. False when there is no such Deployment.
pub async fn restart(client: &kube::Client, namespace: &str, name: &str, manager: &str, at: &str) -> Result<bool, KubeError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let Some(d) = api.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))? else {
        return Ok(false);
    };
    let mut v = reapplicable(&d)?;
    v["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] = Value::from(at);
    api.patch(name, &PatchParams::apply(manager).force(), &Patch::Apply(&v))
        .await
        .map_err(|e| classify(&e, &format!("restart Deployment {name}")))?;
    Ok(true)
}

/// The annotation a Deployment scaled to none keeps its earlier replicas in.
pub const REPLICAS_BEFORE_STOP: &str = "vigil.io/replicas-before-stop";

/// Deployment `name`'s replicas, and how many it had before [`scale`] stopped it (when it
/// did); None when there is no such Deployment.
pub async fn replicas(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<(i32, Option<i32>)>, KubeError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = api.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))?;
    Ok(d.map(|d| {
        let before = d.metadata.annotations.as_ref().and_then(|a| a.get(REPLICAS_BEFORE_STOP)).and_then(|v| v.parse().ok());
        (d.spec.and_then(|s| s.replicas).unwrap_or(1), before)
    }))
}

/// Scales Deployment `name` to `replicas` (as `kubectl scale`), re-applied whole as `manager`;
/// scaled to none, it keeps how many it had in [`REPLICAS_BEFORE_STOP`] (started again, that is
/// dropped). False when there is no such Deployment.
pub async fn scale(client: &kube::Client, namespace: &str, name: &str, manager: &str, replicas: i32) -> Result<bool, KubeError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let Some(d) = api.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))? else {
        return Ok(false);
    };
    let now = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let mut v = reapplicable(&d)?;
    if replicas == 0 && now > 0 {
        v["metadata"]["annotations"][REPLICAS_BEFORE_STOP] = Value::from(now.to_string());
    } else if replicas > 0 {
        if let Some(a) = v["metadata"]["annotations"].as_object_mut() {
            a.remove(REPLICAS_BEFORE_STOP);
        }
    }
    v["spec"]["replicas"] = Value::from(replicas);
    api.patch(name, &PatchParams::apply(manager).force(), &Patch::Apply(&v)).await.map_err(|e| classify(&e, &format!("scale Deployment {name}")))?;
    Ok(true)
}

/// When Deployment `name` was last restarted by [`restart`] (its [`RESTARTED_AT`]), if ever.
pub async fn restarted_at(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<String>, KubeError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = api.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))?;
    Ok(d.and_then(|d| d.spec?.template.metadata?.annotations?.remove(RESTARTED_AT)))
}

/// Where a Deployment's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rollout {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// Every replica runs the newest template and is available.
    pub done: bool,
    /// The rollout will not finish on its own (its progress deadline passed), with why.
    pub failed: Option<String>,
    /// What it waits for, in words.
    pub waiting_for: Option<String>,
}

/// Judges a Deployment as `kubectl rollout status` does.
pub fn rollout_of(d: &Deployment) -> Rollout {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = d.status.clone().unwrap_or_default();
    let mut r = Rollout {
        desired,
        updated: status.updated_replicas.unwrap_or(0),
        ready: status.ready_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        ..Rollout::default()
    };
    let generation = d.metadata.generation.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        r.waiting_for = Some("the controller to see the new template".into());
        return r;
    }
    if let Some(c) =
        status.conditions.unwrap_or_default().iter().find(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    {
        r.failed = Some(c.message.clone().unwrap_or_else(|| "the rollout's progress deadline passed".into()));
        return r;
    }
    let total = status.replicas.unwrap_or(0);
    r.waiting_for = if r.updated < desired {
        Some(format!("{} of {desired} replicas updated", r.updated))
    } else if total > r.updated {
        Some(format!("{} old replicas to stop", total - r.updated))
    } else if r.available < r.updated {
        Some(format!("{} of {} updated replicas available", r.available, r.updated))
    } else {
        None
    };
    r.done = r.waiting_for.is_none();
    r
}

/// The rollout of Deployment `name` in `namespace`, or None when there is no such Deployment.
pub async fn rollout(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<Rollout>, KubeError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = api.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))?;
    Ok(d.as_ref().map(rollout_of))
}

/// A kube error in the operator's words.
pub fn classify(e: &kube::Error, doing: &str) -> KubeError {
    match e {
        kube::Error::Api(s) => match s.code {
            401 => KubeError::new(
                "unauthorized",
                format!("the cluster did not accept Vigil's token to {doing} ({})", s.message),
                "the cluster does not know these AWS credentials: give their IAM principal an EKS access entry (AmazonEKSClusterAdminPolicy) or use the credentials that created the cluster",
            ),
            403 => KubeError::new(
                "forbidden",
                format!("the cluster refused to let Vigil {doing}: {}", s.message),
                "the IAM principal's access entry lacks this permission: associate AmazonEKSClusterAdminPolicy (or a role that may apply the platform's namespace)",
            ),
            404 => KubeError::new("not_found", format!("{doing}: not found ({})", s.message), "check the cluster's version supports the bundle's manifests"),
            422 | 400 => KubeError::new("invalid", format!("the cluster rejected the manifest to {doing}: {}", s.message), "the bundle's manifests are signed: report this to its publisher"),
            409 => KubeError::new("conflict", format!("{doing}: conflict ({})", s.message), "try again: another client changed the object meanwhile"),
            429 => KubeError::new("throttled", format!("the cluster is busy ({})", s.message), "try again in a minute"),
            c => KubeError::new("api", format!("the cluster answered {c} to {doing}: {}", s.message), "try again; if it persists, check the cluster's health in the EKS console"),
        },
        kube::Error::RustlsTls(err) => KubeError::new(
            "tls",
            format!("no trusted TLS connection to the cluster to {doing} ({err})"),
            "the API server's certificate does not match the cluster's CA: describe the cluster again",
        ),
        other => {
            let text = chain(other);
            let lower = text.to_ascii_lowercase();
            if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
                KubeError::new("tls", format!("no trusted TLS connection to the cluster to {doing} ({text})"), "the API server's certificate does not match the cluster's CA: describe the cluster again")
            } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed") {
                KubeError::new("timeout", format!("the cluster did not answer in time to {doing} ({text})"), "check this machine reaches the cluster's API endpoint, then try again")
            } else {
                KubeError::new(
                    "unreachable",
                    format!("the cluster's API endpoint could not be reached to {doing} ({text})"),
                    "a private endpoint is reached only from inside the VPC (VPN, Direct Connect, a bastion): connect, then try again",
                )
            }
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(v: Value) -> Deployment {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_deployment_is_applied_again_without_what_the_server_set() {
        let d = deployment(serde_json::json!({
            "metadata": {"name": "w", "namespace": "ns", "uid": "u", "resourceVersion": "7", "generation": 3, "managedFields": [{}], "labels": {"a": "b"}},
            "spec": {"replicas": 2, "selector": {}, "template": {"metadata": {"labels": {"app": "w"}}}},
            "status": {"replicas": 2}
        }));
        let v = reapplicable(&d).unwrap();
        assert_eq!((v["apiVersion"].as_str(), v["kind"].as_str()), (Some("apps/v1"), Some("Deployment")));
        let meta = v["metadata"].as_object().unwrap();
        let mut keys = meta.keys().collect::<Vec<_>>();
        keys.sort();
        assert_eq!(keys, ["labels", "name", "namespace"]);
        assert!(v.get("status").is_none());
        assert_eq!(v["spec"]["template"]["metadata"]["labels"]["app"], "w");
    }

    #[test]
    fn rollouts_are_judged_as_kubectl_does() {
        let base = |status: Value| {
            deployment(
                serde_json::json!({"metadata": {"name": "w", "generation": 2}, "spec": {"replicas": 2, "selector": {}, "template": {}}, "status": status}),
            )
        };
        let r = rollout_of(&base(serde_json::json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2})));
        assert!(!r.done && r.waiting_for.unwrap().contains("controller"));
        let r = rollout_of(&base(serde_json::json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2})));
        assert_eq!(r.waiting_for.as_deref(), Some("1 of 2 replicas updated"));
        let r = rollout_of(&base(serde_json::json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2})));
        assert_eq!(r.waiting_for.as_deref(), Some("1 old replicas to stop"));
        let r = rollout_of(&base(
            serde_json::json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 1}),
        ));
        assert_eq!(r.waiting_for.as_deref(), Some("1 of 2 updated replicas available"));
        let r = rollout_of(&base(
            serde_json::json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}),
        ));
        assert!(r.done && r.failed.is_none() && r.ready == 2);
        let r = rollout_of(&base(serde_json::json!({"observedGeneration": 2, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"w-1\" has timed out progressing."}]})));
        assert!(!r.done && r.failed.unwrap().contains("timed out"));
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn the_ca_is_read_from_base64_pem_and_bad_data_says_why() {
        let pem_text = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let encoded = b64(pem_text.as_bytes());
        assert_eq!(ca_certificates(&encoded).unwrap(), vec![vec![1, 2, 3]]);
        assert_eq!(ca_certificates("!!!").unwrap_err().kind, "tls");
        assert!(ca_certificates(&b64(b"no pem here")).unwrap_err().message.contains("cannot be read"));
    }

    #[test]
    fn manifests_name_their_resource() {
        let (ar, ns, name) =
            resource_of(&serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}})).unwrap();
        assert_eq!(
            (ar.group.as_str(), ar.version.as_str(), ar.plural.as_str(), ns.as_deref(), name.as_str()),
            ("apps", "v1", "deployments", Some("n"), "w")
        );
        let (ar, ns, _) = resource_of(&serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})).unwrap();
        assert_eq!((ar.plural.as_str(), ns), ("namespaces", None));
        let (ar, _, _) =
            resource_of(&serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"}})).unwrap();
        assert_eq!(ar.plural, "networkpolicies");
        assert_eq!(resource_of(&serde_json::json!({"kind": "X"})).unwrap_err().kind, "invalid");
    }
}
