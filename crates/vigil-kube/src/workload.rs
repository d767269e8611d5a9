//! A Deployment's pods as an operator reads them, and the actual cause of a rollout that does
//! not finish: an image that cannot be pulled, a container that keeps crashing, a pod no node
//! can take, a configuration the container cannot start with, or a readiness probe that fails.
//! Pure functions over the API's objects, so each cause is tested without a cluster.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

/// One pod of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodInfo {
    pub name: String,
    /// Pending, Running, Succeeded, Failed, Unknown.
    pub phase: String,
    pub ready: bool,
    /// Restarts of all its containers.
    pub restarts: i32,
    pub node: Option<String>,
    /// The ReplicaSet's pod-template-hash: which revision the pod runs.
    pub template_hash: Option<String>,
    /// RFC 3339.
    pub started: Option<String>,
    /// Why it is not running or not ready, in words (None: running and ready).
    pub problem: Option<String>,
}

/// Why a rollout does not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckCause {
    /// image_pull, crash_loop, config, unschedulable, readiness.
    pub kind: &'static str,
    /// The pod it was seen on.
    pub pod: String,
    /// What Kubernetes said.
    pub detail: String,
    /// What to do about it.
    pub hint: &'static str,
}

const IMAGE_PULL: [&str; 4] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];
const CONFIG: [&str; 2] = ["CreateContainerConfigError", "CreateContainerError"];

fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let s = pod.status.as_ref();
    s.and_then(|s| s.init_container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(s.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten())
}

fn waiting(c: &ContainerStatus) -> Option<(&str, &str)> {
    let w = c.state.as_ref()?.waiting.as_ref()?;
    Some((w.reason.as_deref().unwrap_or_default(), w.message.as_deref().unwrap_or_default()))
}

/// How the container last ended, e.g. "Error, exit code 1".
fn last_exit(c: &ContainerStatus) -> Option<String> {
    let t = c.last_state.as_ref()?.terminated.as_ref()?;
    Some(format!("{}, exit code {}", t.reason.as_deref().unwrap_or("terminated"), t.exit_code))
}

fn unschedulable(pod: &Pod) -> Option<String> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let c = conditions.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    Some(c.message.clone().unwrap_or_else(|| c.reason.clone().unwrap_or_else(|| "not scheduled".into())))
}

/// The latest readiness-probe failure Kubernetes reported for `pod`.
fn probe_failure<'a>(pod: &str, events: &'a [Event]) -> Option<&'a str> {
    events
        .iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(pod) && e.reason.as_deref() == Some("Unhealthy"))
        .filter_map(|e| e.message.as_deref())
        .rfind(|m| m.starts_with("Readiness probe failed"))
}

/// Why one pod is not running and ready (None: it is).
pub fn pod_cause(pod: &Pod, events: &[Event]) -> Option<StuckCause> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let cause = |kind, detail: String, hint| Some(StuckCause { kind, pod: name.clone(), detail, hint });
    for c in statuses(pod) {
        let Some((reason, message)) = waiting(c) else { continue };
        let image = c.image.as_str();
        if IMAGE_PULL.contains(&reason) {
            return cause(
                "image_pull",
                format!("{reason}: {image}{}", if message.is_empty() { String::new() } else { format!(" ({message})") }),
                "the image or its tag does not exist, or the nodes may not pull it: check the image in ECR and the node role's ECR permissions",
            );
        }
        if reason == "CrashLoopBackOff" {
            let exit = last_exit(c).map(|e| format!(", last ended {e}")).unwrap_or_default();
            return cause(
                "crash_loop",
                format!("container {} restarted {} times{exit}", c.name, c.restart_count),
                "the container exits soon after it starts: read its logs (the previous run's) for the error",
            );
        }
        if CONFIG.contains(&reason) {
            return cause(
                "config",
                format!("{reason}: {message}"),
                "a Secret or ConfigMap the pod names is missing, or a key in it: create it, or deploy the platform again",
            );
        }
    }
    if let Some(why) = unschedulable(pod) {
        return cause("unschedulable", why, "no node can take the pod: scale the node group up (within the tier), or lower the pod's requests");
    }
    let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    if running && !is_ready(pod) {
        let detail =
            probe_failure(&name, events).map(str::to_string).unwrap_or_else(|| "running, not ready: its readiness probe does not pass".into());
        return cause(
            "readiness",
            detail,
            "the service runs but says it is not ready: read its logs, and check what /readyz depends on (database, queue)",
        );
    }
    None
}

fn is_ready(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The cause of a stuck rollout: the first problem among the pods of the newest revision
/// (`template_hash`), in the order a fix must come (a pull before a crash before readiness).
pub fn stuck_cause(pods: &[Pod], template_hash: Option<&str>, events: &[Event]) -> Option<StuckCause> {
    let newest: Vec<&Pod> = pods.iter().filter(|p| template_hash.is_none() || hash_of(p).as_deref() == template_hash).collect();
    let causes: Vec<StuckCause> = newest.iter().filter_map(|p| pod_cause(p, events)).collect();
    let rank = |k: &str| ["image_pull", "config", "crash_loop", "unschedulable", "readiness"].iter().position(|x| *x == k).unwrap_or(9);
    causes.into_iter().min_by_key(|c| rank(c.kind))
}

fn hash_of(pod: &Pod) -> Option<String> {
    pod.metadata.labels.as_ref()?.get("pod-template-hash").cloned()
}

/// `pod` as the Services page lists it.
pub fn pod_info(pod: &Pod, events: &[Event]) -> PodInfo {
    let status = pod.status.as_ref();
    PodInfo {
        name: pod.metadata.name.clone().unwrap_or_default(),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into()),
        ready: is_ready(pod),
        restarts: statuses(pod).map(|c| c.restart_count).sum(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        template_hash: hash_of(pod),
        started: status.and_then(|s| s.start_time.as_ref()).map(|t| t.0.to_string()),
        problem: pod_cause(pod, events).map(|c| c.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, hash: &str, status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"app": "w", "pod-template-hash": hash}},
            "spec": {"containers": [{"name": "worker"}], "nodeName": "ip-10-0-1-5"},
            "status": status
        }))
        .unwrap()
    }

    fn waiting(reason: &str, message: &str) -> serde_json::Value {
        json!({"phase": "Pending", "containerStatuses": [{"name": "worker", "image": "pj-worker:9", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": reason, "message": message}}}]})
    }

    fn running(ready: bool, restarts: i32) -> serde_json::Value {
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "worker", "image": "pj-worker:9", "imageID": "", "ready": ready, "restartCount": restarts, "state": {"running": {}}}]})
    }

    fn event(pod: &str, reason: &str, message: &str) -> Event {
        serde_json::from_value(
            json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": pod}, "reason": reason, "message": message}),
        )
        .unwrap()
    }

    #[test]
    fn each_cause_of_a_stuck_rollout_is_named_with_what_kubernetes_said() {
        let pull = pod("w-2-a", "2", waiting("ImagePullBackOff", "Back-off pulling image \"pj-worker:9\""));
        let c = stuck_cause(std::slice::from_ref(&pull), Some("2"), &[]).unwrap();
        assert_eq!((c.kind, c.pod.as_str()), ("image_pull", "w-2-a"));
        assert!(c.detail.contains("pj-worker:9") && c.detail.starts_with("ImagePullBackOff"), "{}", c.detail);

        let crash: Pod = serde_json::from_value(json!({
            "metadata": {"name": "w-2-b", "labels": {"pod-template-hash": "2"}},
            "status": {"phase": "Running", "containerStatuses": [{"name": "worker", "image": "pj-worker:9", "imageID": "", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 3}}}]}
        }))
        .unwrap();
        let c = stuck_cause(std::slice::from_ref(&crash), Some("2"), &[]).unwrap();
        assert_eq!(c.kind, "crash_loop");
        assert_eq!(c.detail, "container worker restarted 4 times, last ended Error, exit code 3");

        let pending = pod(
            "w-2-c",
            "2",
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/2 nodes are available: 2 Insufficient cpu."}]}),
        );
        let c = stuck_cause(std::slice::from_ref(&pending), Some("2"), &[]).unwrap();
        assert_eq!((c.kind, c.detail.as_str()), ("unschedulable", "0/2 nodes are available: 2 Insufficient cpu."));

        let unready = pod("w-2-d", "2", running(false, 0));
        let events = [
            event("w-2-d", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
            event("w-1-x", "Unhealthy", "Readiness probe failed: other pod"),
        ];
        let c = stuck_cause(std::slice::from_ref(&unready), Some("2"), &events).unwrap();
        assert_eq!((c.kind, c.detail.as_str()), ("readiness", "Readiness probe failed: HTTP probe failed with statuscode: 503"));
        assert_eq!(
            stuck_cause(std::slice::from_ref(&unready), Some("2"), &[]).unwrap().detail,
            "running, not ready: its readiness probe does not pass"
        );

        let config = pod("w-2-e", "2", waiting("CreateContainerConfigError", "secret \"pj-db\" not found"));
        assert_eq!(stuck_cause(&[config], Some("2"), &[]).unwrap().kind, "config");

        // The order a fix must come in: the pull first, whatever the pods' order.
        let all = [unready.clone(), crash.clone(), pull.clone()];
        assert_eq!(stuck_cause(&all, Some("2"), &events).unwrap().kind, "image_pull");
        // Only the newest revision counts: an old pod crashing is not the new rollout's cause.
        let old_crash = pod("w-1-a", "1", running(false, 7));
        let fine = pod("w-2-f", "2", running(true, 0));
        assert_eq!(stuck_cause(&[old_crash, fine.clone()], Some("2"), &[]), None);
        assert_eq!(pod_cause(&fine, &[]), None);
    }

    #[test]
    fn a_pod_is_listed_with_its_restarts_node_revision_and_problem() {
        let p = pod("w-2-a", "2", running(true, 3));
        let i = pod_info(&p, &[]);
        assert_eq!(
            (i.phase.as_str(), i.ready, i.restarts, i.node.as_deref(), i.template_hash.as_deref(), i.problem),
            ("Running", true, 3, Some("ip-10-0-1-5"), Some("2"), None)
        );
        let p = pod("w-2-b", "2", waiting("ErrImagePull", ""));
        assert_eq!(pod_info(&p, &[]).problem.as_deref(), Some("ErrImagePull: pj-worker:9"));
    }
}
