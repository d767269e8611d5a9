//! A Deployment read from the cluster as an operator needs it: its ReplicaSets (the rollout
//! history, with what each revision changed), its pods and the zones of their nodes, the
//! namespace's events (listed, or watched as they come), its pods' logs (a window, or followed
//! across every pod), a pod's own endpoints through the API server's proxy, and a rollback to
//! an earlier revision (as `kubectl rollout undo`); and the cluster's pod disruption budgets
//! with the pods each covers (what would stop a node group's drain).

use crate::{classify, reapplicable, KubeError};
use futures_util::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod, PodTemplateSpec};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams, WatchEvent, WatchParams};
use std::collections::BTreeMap;

/// The annotation Kubernetes numbers a Deployment's revisions with.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH: &str = "pod-template-hash";

/// Everything of one Deployment the Services page shows, read at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub deployment: Deployment,
    /// Its ReplicaSets (owned by it), any order.
    pub replicasets: Vec<ReplicaSet>,
    /// Its pods (selected by its selector).
    pub pods: Vec<Pod>,
    /// The namespace's events, as the cluster still keeps them.
    pub events: Vec<Event>,
    /// Node name → zone (empty when nodes may not be listed).
    pub zones: BTreeMap<String, String>,
}

/// One revision of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub revision: i64,
    pub replicaset: String,
    pub hash: Option<String>,
    pub images: Vec<String>,
    /// RFC 3339.
    pub created: Option<String>,
    pub replicas: i32,
    pub ready: i32,
    /// The Deployment runs this revision's template now.
    pub current: bool,
    /// What this revision changed from the one before it, in words.
    pub changes: Vec<String>,
}

fn selector_of(d: &Deployment) -> String {
    let labels = d.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Deployment `name` with its ReplicaSets, pods, the namespace's events and the nodes' zones;
/// None when there is no such Deployment.
pub async fn snapshot(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<Snapshot>, KubeError> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let Some(deployment) = deployments.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))? else {
        return Ok(None);
    };
    let selected = ListParams::default().labels(&selector_of(&deployment));
    let rs: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let replicasets = rs
        .list(&selected)
        .await
        .map_err(|e| classify(&e, "list the ReplicaSets"))?
        .items
        .into_iter()
        .filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.kind == "Deployment" && o.name == name))
        .collect();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pods = pods.list(&selected).await.map_err(|e| classify(&e, "list the pods"))?.items;
    let events = events(client, namespace).await?;
    // Zones are a help, not a need: a role that may not list nodes still sees the rest.
    let nodes: Api<Node> = Api::all(client.clone());
    let zones = match nodes.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter_map(|n| {
                let zone = n.metadata.labels.as_ref()?.get("topology.kubernetes.io/zone")?.clone();
                Some((n.metadata.name?, zone))
            })
            .collect(),
        Err(e) => {
            tracing::info!(error = %e, "nodes not listed: pods are shown without their zones");
            BTreeMap::new()
        }
    };
    Ok(Some(Snapshot { deployment, replicasets, pods, events, zones }))
}

/// The names of Deployment `name`'s pods (every revision's); None when there is no such
/// Deployment. Two reads, for the logs: not the whole [`snapshot`].
pub async fn pod_names(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<Vec<String>>, KubeError> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let Some(deployment) = deployments.get_opt(name).await.map_err(|e| classify(&e, &format!("read Deployment {name}")))? else {
        return Ok(None);
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods.list(&ListParams::default().labels(&selector_of(&deployment))).await.map_err(|e| classify(&e, "list the pods"))?;
    Ok(Some(list.items.into_iter().filter_map(|p| p.metadata.name).collect()))
}

/// A pod disruption budget as a node drain meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub namespace: String,
    pub name: String,
    /// How many of its pods may be evicted now (`status.disruptionsAllowed`).
    pub allowed: i32,
    pub healthy: i32,
    pub desired: i32,
    /// The pods it selects.
    pub pods: Vec<String>,
}

/// Every pod disruption budget in the cluster, with the pods it selects.
pub async fn budgets(client: &kube::Client) -> Result<Vec<Budget>, KubeError> {
    let api: Api<PodDisruptionBudget> = Api::all(client.clone());
    let list = api.list(&ListParams::default()).await.map_err(|e| classify(&e, "list the pod disruption budgets"))?;
    let mut out = vec![];
    for b in list.items {
        let namespace = b.metadata.namespace.clone().unwrap_or_default();
        let labels = b.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(|s| s.match_labels.clone()).unwrap_or_default();
        let selector = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let pods = pods.list(&ListParams::default().labels(&selector)).await.map_err(|e| classify(&e, "list the pods"))?;
        let status = b.status.unwrap_or_default();
        out.push(Budget {
            namespace,
            name: b.metadata.name.unwrap_or_default(),
            allowed: status.disruptions_allowed,
            healthy: status.current_healthy,
            desired: status.desired_healthy,
            pods: pods.items.into_iter().filter_map(|p| p.metadata.name).collect(),
        });
    }
    Ok(out)
}

/// The namespace's events as the cluster keeps them now.
pub async fn events(client: &kube::Client, namespace: &str) -> Result<Vec<Event>, KubeError> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    Ok(api.list(&ListParams::default()).await.map_err(|e| classify(&e, "list the events"))?.items)
}

/// The namespace's events from `resource_version` on ("0": from what the cluster still keeps),
/// each as it is recorded; the stream ends when the API server closes the watch.
pub async fn watch_events(
    client: &kube::Client,
    namespace: &str,
    resource_version: &str,
) -> Result<futures_util::stream::BoxStream<'static, Result<Event, KubeError>>, KubeError> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let stream = api.watch(&WatchParams::default(), resource_version).await.map_err(|e| classify(&e, "watch the events"))?;
    Ok(stream
        .map_err(|e| classify(&e, "watch the events"))
        .filter_map(|item| async move {
            match item {
                Ok(WatchEvent::Added(e) | WatchEvent::Modified(e)) => Some(Ok(e)),
                Ok(WatchEvent::Deleted(_) | WatchEvent::Bookmark(_)) => None,
                Ok(WatchEvent::Error(s)) => Some(Err(KubeError {
                    kind: "api",
                    message: format!("the events' watch ended: {} ({})", s.message, s.code),
                    hint: "watch again".into(),
                })),
                Err(e) => Some(Err(e)),
            }
        })
        .boxed())
}

fn revision_of(rs: &ReplicaSet) -> Option<i64> {
    rs.metadata.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

fn images(t: &PodTemplateSpec) -> Vec<String> {
    t.spec.iter().flat_map(|s| s.containers.iter()).filter_map(|c| c.image.clone()).collect()
}

/// A template without what the ReplicaSet adds to it (its hash label).
fn bare(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(l) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        l.remove(HASH);
    }
    t
}

/// What `next` changed from `prev`, in words: images, arguments, environment, the restart
/// annotation, resources; anything else as "pod template changed".
pub fn changes(prev: &PodTemplateSpec, next: &PodTemplateSpec) -> Vec<String> {
    let (prev, next) = (bare(prev), bare(next));
    let mut out = vec![];
    let containers = |t: &PodTemplateSpec| t.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
    let (pc, nc) = (containers(&prev), containers(&next));
    for n in &nc {
        let Some(p) = pc.iter().find(|p| p.name == n.name) else {
            out.push(format!("container {} added", n.name));
            continue;
        };
        if p.image != n.image {
            out.push(format!("image {} → {}", p.image.clone().unwrap_or_default(), n.image.clone().unwrap_or_default()));
        }
        if p.args != n.args || p.command != n.command {
            out.push(format!("container {}'s command or arguments", n.name));
        }
        let env = |c: &k8s_openapi::api::core::v1::Container| -> BTreeMap<String, String> {
            c.env.iter().flatten().map(|e| (e.name.clone(), e.value.clone().unwrap_or_else(|| "(from a reference)".into()))).collect()
        };
        let (pe, ne) = (env(p), env(n));
        for (k, v) in &ne {
            match pe.get(k) {
                None => out.push(format!("env {k} set")),
                Some(old) if old != v => out.push(format!("env {k}: {old} → {v}")),
                _ => {}
            }
        }
        for k in pe.keys().filter(|k| !ne.contains_key(*k)) {
            out.push(format!("env {k} removed"));
        }
        if p.env_from != n.env_from {
            out.push(format!("container {}'s configuration sources", n.name));
        }
        if p.resources != n.resources {
            out.push(format!("container {}'s resources", n.name));
        }
        if p.readiness_probe != n.readiness_probe || p.liveness_probe != n.liveness_probe {
            out.push(format!("container {}'s probes", n.name));
        }
    }
    for p in pc.iter().filter(|p| !nc.iter().any(|n| n.name == p.name)) {
        out.push(format!("container {} removed", p.name));
    }
    let annotation = |t: &PodTemplateSpec, k: &str| t.metadata.as_ref().and_then(|m| m.annotations.as_ref()).and_then(|a| a.get(k)).cloned();
    if let Some(at) = annotation(&next, crate::RESTARTED_AT).filter(|at| annotation(&prev, crate::RESTARTED_AT).as_ref() != Some(at)) {
        out.push(format!("restarted at {at}"));
    }
    if out.is_empty() && prev != next {
        out.push("pod template changed".into());
    }
    out
}

/// The Deployment's revisions, newest first, each with what it changed.
pub fn history(d: &Deployment, replicasets: &[ReplicaSet]) -> Vec<Revision> {
    let current = d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).and_then(|r| r.parse::<i64>().ok());
    let mut sets: Vec<(&ReplicaSet, i64)> = replicasets.iter().filter_map(|r| Some((r, revision_of(r)?))).collect();
    sets.sort_by_key(|(_, rev)| *rev);
    let template = |r: &ReplicaSet| r.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
    let mut out: Vec<Revision> = sets
        .iter()
        .enumerate()
        .map(|(i, (r, rev))| {
            let t = template(r);
            Revision {
                revision: *rev,
                replicaset: r.metadata.name.clone().unwrap_or_default(),
                hash: r.metadata.labels.as_ref().and_then(|l| l.get(HASH)).cloned(),
                images: images(&t),
                created: r.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
                replicas: r.status.as_ref().map(|s| s.replicas).or_else(|| r.spec.as_ref().and_then(|s| s.replicas)).unwrap_or(0),
                ready: r.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
                current: current == Some(*rev),
                changes: match i {
                    0 => vec!["first revision".into()],
                    _ => changes(&template(sets[i - 1].0), &t),
                },
            }
        })
        .collect();
    out.reverse();
    out
}

/// Rolls Deployment `name` back to `revision` as `kubectl rollout undo --to-revision` does: its
/// template becomes that revision's (applied as `manager`), which Kubernetes then numbers as
/// the next revision. Err `not_found` when there is no such revision.
pub async fn rollback(client: &kube::Client, namespace: &str, name: &str, revision: i64, manager: &str) -> Result<(), KubeError> {
    let snap = snapshot(client, namespace, name)
        .await?
        .ok_or_else(|| KubeError::new("not_found", format!("there is no Deployment {name} in {namespace}"), "deploy the platform first"))?;
    let Some(rs) = snap.replicasets.iter().find(|r| revision_of(r) == Some(revision)) else {
        let known: Vec<String> = history(&snap.deployment, &snap.replicasets).iter().map(|r| r.revision.to_string()).collect();
        return Err(KubeError::new(
            "not_found",
            format!("Deployment {name} has no revision {revision} (it keeps {})", if known.is_empty() { "none".into() } else { known.join(", ") }),
            "pick one of the revisions in its history",
        ));
    };
    let template = bare(&rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default());
    let mut v = reapplicable(&snap.deployment)?;
    v["spec"]["template"] = serde_json::to_value(&template)
        .map_err(|e| KubeError::new("api", format!("revision {revision}'s template cannot be read ({e})"), "report this"))?;
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    api.patch(name, &PatchParams::apply(manager).force(), &Patch::Apply(&v))
        .await
        .map_err(|e| classify(&e, &format!("roll Deployment {name} back to revision {revision}")))?;
    Ok(())
}

/// Why Deployment `name`'s rollout does not finish, judged from the pods of its newest revision
/// and the events (None: nothing wrong found, or no such Deployment).
pub async fn diagnose(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<crate::workload::StuckCause>, KubeError> {
    let Some(snap) = snapshot(client, namespace, name).await? else { return Ok(None) };
    let history = history(&snap.deployment, &snap.replicasets);
    let hash = history.iter().find(|r| r.current).and_then(|r| r.hash.clone());
    Ok(crate::workload::stuck_cause(&snap.pods, hash.as_deref(), &snap.events))
}

/// One line of a pod's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub pod: String,
    /// RFC 3339 as the kubelet stamped it (empty when it did not).
    pub time: String,
    pub text: String,
}

fn parse_line(pod: &str, line: &str) -> LogLine {
    let (time, text) = match line.split_once(' ') {
        Some((t, rest)) if chrono_like(t) => (t.to_string(), rest.to_string()),
        _ => (String::new(), line.to_string()),
    };
    LogLine { pod: pod.to_string(), time, text }
}

/// A kubelet timestamp: `2026-12-03T09:00:00.123456789Z`.
fn chrono_like(t: &str) -> bool {
    t.len() >= 20 && t.as_bytes()[4] == b'-' && t.as_bytes()[10] == b'T' && t.ends_with('Z')
}

/// The last `tail` lines (each pod) of the last `since_seconds` of `pods`' logs, merged in
/// time order.
pub async fn logs(
    client: &kube::Client,
    namespace: &str,
    pods: &[String],
    since_seconds: Option<i64>,
    tail: Option<i64>,
) -> Result<Vec<LogLine>, KubeError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = LogParams { timestamps: true, since_seconds, tail_lines: tail, ..LogParams::default() };
    let mut out = vec![];
    for pod in pods {
        let text = api.logs(pod, &params).await.map_err(|e| classify(&e, &format!("read pod {pod}'s log")))?;
        out.extend(text.lines().map(|l| parse_line(pod, l)));
    }
    out.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(out)
}

/// `pods`' logs followed: every new line of any of them as it is written (after the last
/// `tail` of each); a pod's stream ends when its container does.
pub async fn follow_logs(
    client: &kube::Client,
    namespace: &str,
    pods: &[String],
    tail: Option<i64>,
) -> Result<futures_util::stream::BoxStream<'static, Result<LogLine, KubeError>>, KubeError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = LogParams { follow: true, timestamps: true, tail_lines: tail, ..LogParams::default() };
    let mut streams = vec![];
    for pod in pods {
        let reader = api.log_stream(pod, &params).await.map_err(|e| classify(&e, &format!("follow pod {pod}'s log")))?;
        let name = pod.clone();
        let lines = reader.lines().map(move |l| {
            l.map(|l| parse_line(&name, &l))
                .map_err(|e| KubeError::new("unreachable", format!("pod {name}'s log broke off ({e})"), "follow it again"))
        });
        streams.push(lines.boxed());
    }
    Ok(futures_util::stream::select_all(streams).boxed())
}

/// GET `path` on `pod`'s `port` through the API server's proxy: the status and body as the pod
/// answered (or the API server, when it could not reach the pod). `client` should be a
/// [`crate::probe_client`]: a not-ready pod's 503 is an answer, not a reason to retry.
pub async fn pod_proxy_get(client: &kube::Client, namespace: &str, pod: &str, port: u16, path: &str) -> Result<(u16, String), KubeError> {
    let uri = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy{path}");
    let req = http::Request::get(&uri)
        .body(kube::client::Body::from(Vec::new()))
        .map_err(|e| KubeError::new("invalid", format!("{uri} is not a request ({e})"), "report this"))?;
    let doing = format!("reach pod {pod} through the API server");
    // Sent raw: whatever the pod (or the proxy) answered is the answer, a 503 included.
    let res = client.send(req).await.map_err(|e| classify(&e, &doing))?;
    let code = res.status().as_u16();
    let body = res.into_body().collect_bytes().await.map_err(|e| classify(&e, &doing))?;
    let text = String::from_utf8_lossy(&body).to_string();
    match code {
        // The API server's own refusals are errors to classify; a pod's answer is kept.
        401 | 403 => {
            let message =
                serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["message"].as_str().map(str::to_string)).unwrap_or(text);
            let status = kube::core::Status::failure(&message, if code == 401 { "Unauthorized" } else { "Forbidden" }).with_code(code);
            Err(classify(&kube::Error::Api(status.boxed()), &doing))
        }
        _ => Ok((code, text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(revision: i64, image: &str, extra_env: Option<(&str, &str)>, restarted: Option<&str>) -> ReplicaSet {
        let mut env = vec![json!({"name": "RUST_LOG", "value": "info"})];
        if let Some((k, v)) = extra_env {
            env.push(json!({"name": k, "value": v}));
        }
        let mut annotations = json!({});
        if let Some(at) = restarted {
            annotations[crate::RESTARTED_AT] = json!(at);
        }
        serde_json::from_value(json!({
            "metadata": {"name": format!("w-{revision}"), "labels": {HASH: format!("h{revision}")}, "annotations": {REVISION: revision.to_string()}},
            "spec": {"replicas": 1, "selector": {}, "template": {"metadata": {"labels": {"app": "w", HASH: format!("h{revision}")}, "annotations": annotations},
                "spec": {"containers": [{"name": "worker", "image": image, "env": env}]}}},
            "status": {"replicas": 1, "readyReplicas": 1}
        }))
        .unwrap()
    }

    #[test]
    fn the_history_says_what_each_revision_changed_newest_first() {
        let d: Deployment =
            serde_json::from_value(json!({"metadata": {"name": "w", "annotations": {REVISION: "3"}}, "spec": {"selector": {}, "template": {}}}))
                .unwrap();
        let sets = [
            rs(3, "pj-worker:1.1.0", Some(("PJ_MODE", "fast")), Some("2026-12-03T09:00:00Z")),
            rs(1, "pj-worker:1.0.0", None, None),
            rs(2, "pj-worker:1.1.0", None, None),
        ];
        let h = history(&d, &sets);
        assert_eq!(h.iter().map(|r| (r.revision, r.current)).collect::<Vec<_>>(), [(3, true), (2, false), (1, false)]);
        assert_eq!(h[2].changes, ["first revision"]);
        assert_eq!(h[1].changes, ["image pj-worker:1.0.0 → pj-worker:1.1.0"]);
        assert_eq!(h[0].changes, ["env PJ_MODE set", "restarted at 2026-12-03T09:00:00Z"]);
        assert_eq!((h[0].images.as_slice(), h[0].hash.as_deref()), (&["pj-worker:1.1.0".to_string()][..], Some("h3")));
        // The hash label alone is no change.
        let (a, b) = (rs(1, "x", None, None), rs(2, "x", None, None));
        let t = |r: &ReplicaSet| r.spec.clone().unwrap().template.unwrap();
        assert!(changes(&t(&a), &t(&b)).is_empty());
    }

    #[test]
    fn log_lines_keep_the_kubelets_timestamp_apart_from_the_text() {
        let l = parse_line("p", "2026-12-03T09:00:00.123456789Z {\"level\":\"INFO\"} a b");
        assert_eq!((l.time.as_str(), l.text.as_str()), ("2026-12-03T09:00:00.123456789Z", "{\"level\":\"INFO\"} a b"));
        let l = parse_line("p", "no stamp here");
        assert_eq!((l.time.as_str(), l.text.as_str()), ("", "no stamp here"));
    }
}
