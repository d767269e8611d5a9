//! The platform's workloads on EKS, by platform service (today the worker): the Deployment's
//! rollout and its history (what each revision changed), the actual cause of a stuck rollout,
//! its pods with their node, zone and own `/readyz` (through the API server's proxy), the
//! namespace's Kubernetes events (kept in the store as Vigil sees them: EKS keeps them about an
//! hour), its pods' logs (a window, or followed), and the operator's actions on it — restart,
//! rollback to a revision, scale within the tier's bounds — each confirmed by the environment's
//! name and written to the operator log.

use super::{cluster_name, missing, Eks};
use crate::aws::{self, eks as aws_eks};
use crate::core::Record;
use crate::deploy::setup::{FIELD_MANAGER, WORKER};
use crate::deploy::NAMESPACE;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vigil_dto::eks::{KubeEvent, LogLine, PodView, Revision, ServiceWorkload, StuckCause, WorkloadAction, WorkloadChange, Workloads};
use vigil_dto::Environment;
use vigil_kube::inspect;

/// The platform's services and their Deployments.
pub const SERVICES: [(&str, &str); 1] = [("worker", WORKER)];

/// The Deployment annotations that carry the tier's replica bounds (deploy-bundles/k8s tiers).
pub const REPLICAS_MIN: &str = "patient-journey.io/replicas-min";
pub const REPLICAS_MAX: &str = "patient-journey.io/replicas-max";

/// The worker's health port (its container's `health` port).
const HEALTH_PORT: u16 = 8080;

/// How many captured events the page shows.
const EVENTS_SHOWN: i64 = 300;

/// Captured events older than this are dropped.
const EVENTS_KEPT_DAYS: i64 = 30;

pub(crate) fn kube_error(e: vigil_kube::KubeError) -> Error {
    Error::Eks { kind: e.kind, message: e.message, hint: e.hint }
}

fn no_deployment(env: &Environment, deployment: &str) -> Error {
    Error::Eks {
        kind: "not_deployed",
        message: format!("the {deployment} Deployment is not in environment '{}''s cluster (namespace {NAMESPACE})", env.name),
        hint: "deploy the platform (Deploy page, `vigil deploy`)".into(),
    }
}

/// A Kubernetes event as Vigil keeps it.
fn event_view(e: &vigil_kube::k8s_openapi::api::core::v1::Event) -> Option<(String, KubeEvent)> {
    let uid = e.metadata.uid.clone()?;
    let time = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()))
        .unwrap_or_default();
    let object = format!("{}/{}", e.involved_object.kind.clone().unwrap_or_default(), e.involved_object.name.clone().unwrap_or_default());
    Some((
        uid,
        KubeEvent {
            time,
            kind: e.type_.clone().unwrap_or_else(|| "Normal".into()),
            reason: e.reason.clone().unwrap_or_default(),
            object,
            message: e.message.clone().unwrap_or_default(),
            count: e.count.unwrap_or(1),
            in_cluster: true,
        },
    ))
}

fn bound(d: &vigil_kube::k8s_openapi::api::apps::v1::Deployment, key: &str) -> Option<i32> {
    d.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

impl Eks<'_> {
    /// `r`, with the fix spelled out when the cluster did not let these credentials in: the
    /// IAM principal they are and the commands that give it an access entry.
    pub(super) async fn explained<T>(&self, r: Result<T>) -> Result<T> {
        match r {
            Err(Error::Eks { kind: "unauthorized", message, hint }) => Err(self.no_access(message, hint).await),
            other => other,
        }
    }

    async fn no_access(&self, message: String, hint: String) -> Error {
        let unexplained = |message, hint| Error::Eks { kind: "unauthorized", message, hint };
        let Ok(env) = self.current().await else { return unexplained(message, hint) };
        let Ok(cluster) = cluster_name(&env) else { return unexplained(message, hint) };
        let ctx = self.aws_context(&env).await;
        let Ok(me) = aws::sts::caller_identity(&ctx, &aws::new_op_id()).await else { return unexplained(message, hint) };
        let principal = aws_eks::principal_of(&me.arn);
        Error::Eks {
            kind: "unauthorized",
            message: format!("the EKS cluster '{cluster}' does not let {principal} in: {message}"),
            hint: format!(
                "give it an access entry with cluster-admin access (or use the credentials that created the cluster): {}",
                super::access_fix(&cluster, &principal)
            ),
        }
    }

    /// A Kubernetes client for the current environment's cluster (a token minted here), with
    /// the environment and the cluster's name.
    async fn kube(&self, op: &str) -> Result<(Environment, vigil_kube::Client)> {
        let (env, cluster) = self.cluster(op).await?;
        Ok((env, vigil_kube::client(&cluster).map_err(kube_error)?))
    }

    /// The current environment and how to reach its cluster (a token minted here).
    async fn cluster(&self, op: &str) -> Result<(Environment, vigil_kube::Cluster)> {
        let env = self.current().await?;
        let name = cluster_name(&env)?;
        let ctx = self.aws_context(&env).await;
        let cluster = aws_eks::Eks::new(&ctx, op).cluster(&name).await?.ok_or_else(|| missing(&env, &name))?;
        let token = aws_eks::token(&ctx, &name).await?;
        Ok((env, vigil_kube::Cluster { endpoint: cluster.endpoint, ca: cluster.certificate_authority, token }))
    }

    /// Keeps `events` in the store (new ones added, recurring ones updated) and drops what is
    /// older than [`EVENTS_KEPT_DAYS`].
    async fn capture(&self, env: &str, events: &[vigil_kube::k8s_openapi::api::core::v1::Event]) -> Result<()> {
        let mut tx = self.store().pool().begin().await?;
        for (uid, e) in events.iter().filter_map(event_view) {
            sqlx::query(
                "INSERT INTO kube_events (environment, uid, time, kind, reason, object, message, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (environment, uid) DO UPDATE SET time = excluded.time, message = excluded.message, count = excluded.count",
            )
            .bind(env)
            .bind(uid)
            .bind(&e.time)
            .bind(&e.kind)
            .bind(&e.reason)
            .bind(&e.object)
            .bind(&e.message)
            .bind(e.count)
            .execute(&mut *tx)
            .await?;
        }
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(EVENTS_KEPT_DAYS)).to_rfc3339();
        sqlx::query("DELETE FROM kube_events WHERE environment = ? AND time < ?").bind(env).bind(cutoff).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The captured events of `env`, newest first; `in_cluster` for those in `kept` (uids).
    async fn captured(&self, env: &str, kept: &[String]) -> Result<Vec<KubeEvent>> {
        let rows: Vec<(String, String, String, String, String, String, i32)> = sqlx::query_as(
            "SELECT uid, time, kind, reason, object, message, count FROM kube_events WHERE environment = ? ORDER BY time DESC, rowid DESC LIMIT ?",
        )
        .bind(env)
        .bind(EVENTS_SHOWN)
        .fetch_all(self.store().pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(uid, time, kind, reason, object, message, count)| KubeEvent {
                in_cluster: kept.contains(&uid),
                time,
                kind,
                reason,
                object,
                message,
                count,
            })
            .collect())
    }

    /// The platform's workloads on the current environment's cluster, and the events Vigil
    /// has captured there (those the cluster still keeps are captured by this call).
    pub async fn workloads(&self) -> Result<Workloads> {
        let r = async {
            let op = aws::new_op_id();
            let (env, cluster) = self.cluster(&op).await?;
            let client = vigil_kube::client(&cluster).map_err(kube_error)?;
            let probe = vigil_kube::probe_client(&cluster).map_err(kube_error)?;
            let mut services = vec![];
            let mut kept = vec![];
            for (service, deployment) in SERVICES {
                let snap =
                    inspect::snapshot(&client, NAMESPACE, deployment).await.map_err(kube_error)?.ok_or_else(|| no_deployment(&env, deployment))?;
                self.capture(&env.name, &snap.events).await?;
                kept.extend(snap.events.iter().filter_map(|e| e.metadata.uid.clone()));
                services.push(workload(&probe, service, deployment, &snap).await?);
            }
            let events = self.captured(&env.name, &kept).await?;
            Ok(Workloads { namespace: NAMESPACE.into(), services, events })
        }
        .await;
        self.explained(r).await
    }

    /// The pods of `service`'s Deployment (every revision's).
    async fn pods_of(&self, client: &vigil_kube::Client, env: &Environment, deployment: &str) -> Result<Vec<String>> {
        inspect::pod_names(client, NAMESPACE, deployment).await.map_err(kube_error)?.ok_or_else(|| no_deployment(env, deployment))
    }

    /// The worker's logs across all its pods: the last `tail` lines of each, of the last
    /// `since_seconds`, in time order.
    pub async fn logs(&self, since_seconds: Option<i64>, tail: Option<i64>) -> Result<Vec<LogLine>> {
        let r = async {
            if since_seconds.is_some_and(|s| s <= 0) || tail.is_some_and(|t| t <= 0) {
                return Err(Error::validation("logs", "the window and the line count must be above zero"));
            }
            let (env, client) = self.kube(&aws::new_op_id()).await?;
            let pods = self.pods_of(&client, &env, WORKER).await?;
            let lines = inspect::logs(&client, NAMESPACE, &pods, since_seconds, tail).await.map_err(kube_error)?;
            Ok(lines.into_iter().map(log_line).collect())
        }
        .await;
        self.explained(r).await
    }

    /// Follows the worker's logs across all its pods (after the last `tail` lines of each),
    /// handing each line to `on_line` until `progress` is cancelled or every pod's stream ends.
    pub async fn follow_logs(&self, tail: Option<i64>, on_line: &(dyn Fn(LogLine) + Send + Sync), progress: Arc<Progress>) -> Result<()> {
        let r = async {
            let (env, client) = self.kube(&aws::new_op_id()).await?;
            let pods = self.pods_of(&client, &env, WORKER).await?;
            let stream = inspect::follow_logs(&client, NAMESPACE, &pods, tail).await.map_err(kube_error)?;
            follow(stream.map(|l| l.map(log_line).map_err(kube_error)), on_line, &progress).await
        }
        .await;
        self.explained(r).await
    }

    /// Watches the namespace's events, keeping each in the store and handing it to `on_event`,
    /// until `progress` is cancelled or the API server ends the watch.
    pub async fn watch_events(&self, on_event: &(dyn Fn(KubeEvent) + Send + Sync), progress: Arc<Progress>) -> Result<()> {
        let r = async {
            let (env, client) = self.kube(&aws::new_op_id()).await?;
            // What the cluster keeps now, then each new one.
            let now = vigil_kube::inspect::events(&client, NAMESPACE).await.map_err(kube_error)?;
            self.capture(&env.name, &now).await?;
            let stream = inspect::watch_events(&client, NAMESPACE, "0").await.map_err(kube_error)?;
            let name = &env.name;
            let stream = stream.map(|e| e.map_err(kube_error));
            follow_with(stream, &progress, move |e| async move {
                self.capture(name, std::slice::from_ref(&e)).await?;
                if let Some((_, view)) = event_view(&e) {
                    on_event(view);
                }
                Ok(())
            })
            .await
        }
        .await;
        self.explained(r).await
    }

    /// Restarts, rolls back or scales the worker; `confirm` must be the environment's name.
    /// Logged as `eks.restart`, `eks.rollback` or `eks.scale`.
    pub async fn act(&self, action: &WorkloadAction, confirm: &str) -> Result<WorkloadChange> {
        let r = async {
            self.policy().require(Change::ChangeWorkload)?;
            let env = self.current().await?;
            let what = match action {
                WorkloadAction::Restart => "restarting the worker".to_string(),
                WorkloadAction::Rollback { revision } => format!("rolling the worker back to revision {revision}"),
                WorkloadAction::Scale { replicas } => format!("scaling the worker to {replicas}"),
            };
            if !confirm.trim().eq_ignore_ascii_case(&env.name) {
                return Err(Error::Eks {
                    kind: "confirmation_required",
                    message: format!("{what} changes environment '{}': its name must be typed to confirm", env.name),
                    hint: format!("type {} to confirm", env.name),
                });
            }
            let op = aws::new_op_id();
            let (env, client) = self.kube(&op).await?;
            let snap = inspect::snapshot(&client, NAMESPACE, WORKER).await.map_err(kube_error)?.ok_or_else(|| no_deployment(&env, WORKER))?;
            let history = inspect::history(&snap.deployment, &snap.replicasets);
            let current = history.iter().find(|r| r.current).map(|r| r.revision);
            let replicas = snap.deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let (action_name, summary, details) = match action {
                WorkloadAction::Restart => {
                    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    vigil_kube::restart(&client, NAMESPACE, WORKER, FIELD_MANAGER, &at).await.map_err(kube_error)?;
                    ("eks.restart", format!("restarted at {at}: every pod is replaced"), json!({ "at": at, "revision": current }))
                }
                WorkloadAction::Rollback { revision } => {
                    let Some(target) = history.iter().find(|r| r.revision == *revision) else {
                        let known: Vec<String> = history.iter().map(|r| r.revision.to_string()).collect();
                        return Err(Error::validation(
                            "revision",
                            format!(
                                "the worker has no revision {revision}; its history keeps {}",
                                if known.is_empty() { "none".into() } else { known.join(", ") }
                            ),
                        ));
                    };
                    if target.current {
                        return Err(Error::validation("revision", format!("the worker already runs revision {revision}")));
                    }
                    inspect::rollback(&client, NAMESPACE, WORKER, *revision, FIELD_MANAGER).await.map_err(kube_error)?;
                    let images = target.images.join(", ");
                    (
                        "eks.rollback",
                        format!(
                            "rolled back from revision {} to revision {revision} ({images})",
                            current.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
                        ),
                        json!({ "from": current, "to": revision, "images": target.images }),
                    )
                }
                WorkloadAction::Scale { replicas: to } => {
                    let (min, max) = (bound(&snap.deployment, REPLICAS_MIN), bound(&snap.deployment, REPLICAS_MAX));
                    let (Some(min), Some(max)) = (min, max) else {
                        return Err(Error::Eks {
                            kind: "no_bounds",
                            message: "the worker's Deployment does not say what it may be scaled to".into(),
                            hint: "deploy the current platform bundle: its tiers set the bounds".into(),
                        });
                    };
                    if !(min..=max).contains(to) {
                        return Err(Error::validation(
                            "replicas",
                            format!("{to} is outside the tier's bounds: the worker runs {min} to {max} replicas"),
                        ));
                    }
                    if *to == replicas {
                        return Err(Error::validation("replicas", format!("the worker already runs {to} replicas")));
                    }
                    vigil_kube::scale(&client, NAMESPACE, WORKER, FIELD_MANAGER, *to).await.map_err(kube_error)?;
                    ("eks.scale", format!("scaled from {replicas} to {to} replicas"), json!({ "from": replicas, "to": to, "min": min, "max": max }))
                }
            };
            let mut details = details;
            details["environment"] = json!(env.name);
            details["deployment"] = json!(WORKER);
            let tx = self.begin().await?;
            self.commit(tx, Record::new(action_name, WORKER, details).op(&op)).await?;
            Ok(WorkloadChange { deployment: WORKER.into(), summary })
        }
        .await;
        self.explained(r).await
    }
}

fn log_line(l: inspect::LogLine) -> LogLine {
    LogLine { pod: l.pod, time: l.time, text: l.text }
}

/// Hands each item of `stream` to `on_item` until `progress` is cancelled or the stream ends.
async fn follow<T>(
    stream: impl futures_util::Stream<Item = Result<T>> + Unpin,
    on_item: &(dyn Fn(T) + Send + Sync),
    progress: &Progress,
) -> Result<()> {
    follow_with(stream, progress, move |item| async move {
        on_item(item);
        Ok(())
    })
    .await
}

async fn follow_with<T, F, Fut>(mut stream: impl futures_util::Stream<Item = Result<T>> + Unpin, progress: &Progress, mut each: F) -> Result<()>
where
    F: FnMut(T) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    progress.start(Stage::Following, 0);
    // The stop switch is a flag: looked at a few times a second while nothing comes.
    let mut tick = tokio::time::interval(crate::tasks::REPORT_EVERY);
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(item) => {
                    each(item?).await?;
                    progress.done.fetch_add(1, Ordering::Relaxed);
                }
                None => return Ok(()),
            },
            _ = tick.tick() => {}
        }
        if progress.cancelled() {
            return Ok(());
        }
    }
}

/// One service's Deployment as the page shows it (`probe` reaches each pod's /readyz).
async fn workload(probe: &vigil_kube::Client, service: &str, deployment: &str, snap: &inspect::Snapshot) -> Result<ServiceWorkload> {
    let rollout = vigil_kube::rollout_of(&snap.deployment);
    let history = inspect::history(&snap.deployment, &snap.replicasets);
    let current = history.iter().find(|r| r.current);
    let cause = match rollout.done {
        true => None,
        false => vigil_kube::workload::stuck_cause(&snap.pods, current.and_then(|r| r.hash.as_deref()), &snap.events),
    };
    let state = match (&rollout.failed, rollout.done) {
        (Some(_), _) => "stuck",
        (None, true) => "rolled_out",
        (None, false) => "progressing",
    };
    let mut pods = vec![];
    for p in &snap.pods {
        let info = vigil_kube::workload::pod_info(p, &snap.events);
        let running = info.phase == "Running";
        let readyz = match running {
            true => match inspect::pod_proxy_get(probe, NAMESPACE, &info.name, HEALTH_PORT, "/readyz").await {
                Ok(answer) => Some(answer),
                // A role without pods/proxy still sees the rest.
                Err(e) if e.kind == "forbidden" => Some((403, e.message)),
                Err(e) => return Err(kube_error(e)),
            },
            false => None,
        };
        pods.push(PodView {
            zone: info.node.as_ref().and_then(|n| snap.zones.get(n)).cloned(),
            revision: history.iter().find(|r| r.hash.is_some() && r.hash == info.template_hash).map(|r| r.revision),
            name: info.name,
            phase: info.phase,
            ready: info.ready,
            restarts: info.restarts,
            node: info.node,
            started: info.started,
            problem: info.problem,
            readyz,
        });
    }
    pods.sort_by(|a, b| b.revision.cmp(&a.revision).then(a.name.cmp(&b.name)));
    Ok(ServiceWorkload {
        service: service.into(),
        deployment: deployment.into(),
        state: state.into(),
        waiting_for: rollout.waiting_for,
        failed: rollout.failed,
        cause: cause.map(|c| StuckCause { kind: c.kind.into(), pod: c.pod, detail: c.detail, hint: c.hint.into() }),
        revision: current.map(|r| r.revision),
        images: current.map(|r| r.images.clone()).unwrap_or_default(),
        desired: rollout.desired,
        updated: rollout.updated,
        ready: rollout.ready,
        available: rollout.available,
        min_replicas: bound(&snap.deployment, REPLICAS_MIN),
        max_replicas: bound(&snap.deployment, REPLICAS_MAX),
        history: history
            .into_iter()
            .map(|r| Revision {
                revision: r.revision,
                replicaset: r.replicaset,
                images: r.images,
                created: r.created,
                replicas: r.replicas,
                ready: r.ready,
                current: r.current,
                changes: r.changes,
            })
            .collect(),
        pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tier_sets_scaling_bounds_around_its_replicas_that_keep_room_for_a_drain() {
        for (tier, text) in [
            ("small", include_str!("../../../../deploy-bundles/k8s/rendered/small.yaml")),
            ("medium", include_str!("../../../../deploy-bundles/k8s/rendered/medium.yaml")),
            ("large", include_str!("../../../../deploy-bundles/k8s/rendered/large.yaml")),
        ] {
            let objects = crate::deploy::setup::parse_manifests(text).unwrap();
            let d = objects.iter().find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == WORKER).unwrap();
            let d: vigil_kube::k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(d.clone()).unwrap();
            let (min, max) = (bound(&d, REPLICAS_MIN).unwrap(), bound(&d, REPLICAS_MAX).unwrap());
            let replicas = d.spec.as_ref().unwrap().replicas.unwrap();
            assert!(min <= replicas && replicas <= max, "{tier}: {replicas} outside {min}–{max}");
            // The PodDisruptionBudget keeps one pod: at the lowest bound a drain can still evict.
            let pdb = objects.iter().find(|o| o["kind"] == "PodDisruptionBudget").unwrap();
            assert!(i64::from(min) > pdb["spec"]["minAvailable"].as_i64().unwrap(), "{tier}: {min}");
        }
    }
}
