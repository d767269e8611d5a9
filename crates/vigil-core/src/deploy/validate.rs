//! Validation: the deployed platform checked component by component against what the bundle
//! promises — every stack complete; EKS active with secrets encrypted and control-plane logs on,
//! its node groups active and sized; Aurora available, encrypted, IAM-authenticated, protected,
//! with its writer and a reader in different zones; the cache encrypted both ways and Multi-AZ;
//! the documents bucket KMS-encrypted, versioned, closed to the public and TLS-only; the work
//! queue encrypted and redriving to an encrypted dead-letter queue; a continuous backup rule,
//! the vault encrypted, and the database and bucket covered by the plan's selection; every alarm
//! of the alarms stack present; then a smoke test of the running platform: a synthetic note
//! uploaded under the worker's input prefix, its job followed in the ledger to success, and the
//! job's audit record verified in its chain with the environment's pinned keys. Each check
//! pass/warn/fail with the fix and the API it read; names come from the stacks' outputs, so
//! what is checked is what was deployed.

use super::templates::{stack_name, STACKS};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use vigil_aws::backup::{Backup, PlanInfo, SelectionInfo, VaultInfo};
use vigil_aws::cloudformation::{CloudFormation, StackInfo};
use vigil_aws::cloudwatch::CloudWatch;
use vigil_aws::eks::{ClusterInfo as EksCluster, Eks, NodegroupInfo};
use vigil_aws::elasticache::{ElastiCache, ReplicationGroupInfo};
use vigil_aws::rds::{ClusterInfo as DbCluster, InstanceInfo, Rds};
use vigil_aws::s3::{BucketPosture, S3};
use vigil_aws::sqs::Sqs;
use vigil_aws::AwsError;
use vigil_dto::deploy::{CheckStatus, PreflightCheck};
use vigil_dto::AlarmInfo;

/// The AWS clients a validation asks.
pub struct Services {
    /// The environment's credentials, for the Kubernetes token.
    pub ctx: vigil_aws::AwsContext,
    pub cf: CloudFormation,
    pub eks: Eks,
    pub rds: Rds,
    pub cache: ElastiCache,
    pub s3: S3,
    pub sqs: Sqs,
    pub backup: Backup,
    pub cw: CloudWatch,
}

/// The control-plane logs the platform turns on; the first three are needed for audit.
pub const CONTROL_PLANE_LOGS: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
const NEEDED_LOGS: usize = 3;

/// Fewer days of Aurora backups than this is a warning (the seed keeps seven or more).
pub const MIN_RETENTION_DAYS: i32 = 7;

type Answer<T> = Result<T, AwsError>;

const COMPLETE: Check = Check { id: "stacks", title: "Every stack complete", api: "cloudformation:DescribeStacks" };
const EKS_CLUSTER: Check = Check { id: "eks-cluster", title: "EKS cluster active, secrets encrypted, logs on", api: "eks:DescribeCluster" };
const EKS_NODES: Check = Check { id: "eks-nodes", title: "Node groups active", api: "eks:ListNodegroups, eks:DescribeNodegroup" };
const AURORA: Check = Check { id: "aurora", title: "Aurora available, encrypted, IAM authentication, protected", api: "rds:DescribeDBClusters" };
const AURORA_ZONES: Check = Check { id: "aurora-zones", title: "Aurora writer and reader in different zones", api: "rds:DescribeDBInstances" };
const CACHE: Check = Check { id: "cache", title: "Cache encrypted at rest and in transit, Multi-AZ", api: "elasticache:DescribeReplicationGroups" };
const BUCKET: Check = Check {
    id: "bucket",
    title: "Documents bucket SSE-KMS, versioned, not public, TLS only",
    api: "s3:GetBucketEncryption, s3:GetBucketVersioning, s3:GetPublicAccessBlock, s3:GetBucketPolicy",
};
const QUEUE: Check = Check { id: "queue", title: "Work queue encrypted, dead-letter queue wired", api: "sqs:GetQueueAttributes" };
const BACKUP_PLAN: Check =
    Check { id: "backup-plan", title: "Backup plan continuous, vault encrypted", api: "backup:GetBackupPlan, backup:DescribeBackupVault" };
const BACKUP_COVERAGE: Check = Check {
    id: "backup-coverage",
    title: "Database and documents covered by the backup plan",
    api: "backup:ListBackupSelections, backup:GetBackupSelection, s3:GetBucketTagging",
};
const WORKER: Check = Check { id: "worker", title: "Worker rolled out and ready", api: "Kubernetes: get deployments (EKS token)" };
const ALARMS: Check = Check { id: "alarms", title: "Every alarm present", api: "cloudformation:ListStackResources, cloudwatch:DescribeAlarms" };
const SMOKE: Check = Check {
    id: "smoke",
    title: "Smoke test: a synthetic note de-identified, its audit record verified",
    api: "s3:PutObject; the platform database (jobs, audit_log)",
};

/// How long the smoke test waits for the worker to finish its note.
pub const SMOKE_LIMIT: Duration = Duration::from_secs(180);
/// Where the smoke test's notes go (under the worker's input prefix).
pub const SMOKE_PREFIX: &str = "input/vigil-smoke/";

/// What the smoke test needs besides S3: the platform database and the pinned audit keys, or
/// why it cannot run (message, what to do).
pub enum SmokeAccess {
    Ready {
        pool: sqlx::PgPool,
        keys: HashMap<String, pj_audit::Ed25519VerifyingKey>,
        poll: Duration,
        limit: Duration,
    },
    Unavailable(String, String),
    /// The console may not change the platform (a read-only policy): not run, a warning.
    NotAllowed(String),
}

/// What the smoke test did, for the operator log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SmokeRun {
    pub key: String,
    pub job: Option<String>,
    pub status: String,
    pub audit: Option<String>,
}

struct Check {
    id: &'static str,
    title: &'static str,
    api: &'static str,
}

impl Check {
    fn pass(&self, detail: String) -> PreflightCheck {
        self.with(CheckStatus::Pass, detail, None)
    }
    fn warn(&self, detail: String, fix: &str) -> PreflightCheck {
        self.with(CheckStatus::Warn, detail, Some(fix.to_string()))
    }
    fn fail(&self, detail: String, fix: &str) -> PreflightCheck {
        self.with(CheckStatus::Fail, detail, Some(fix.to_string()))
    }
    fn with(&self, status: CheckStatus, detail: String, fix: Option<String>) -> PreflightCheck {
        PreflightCheck { id: self.id.into(), title: self.title.into(), status, detail, fix, api: self.api.into() }
    }
    /// AWS could not be asked: failed, with the classified error's message and hint.
    fn unanswered(&self, e: &AwsError) -> PreflightCheck {
        self.with(CheckStatus::Fail, e.message.clone(), e.hint.clone())
    }
    /// The stacks did not give the name this check needs.
    fn undeployed(&self, output: &str, stack: &str) -> PreflightCheck {
        self.fail(
            format!("no {output} output: the {stack} stack is not deployed (or not complete)"),
            "deploy the platform (`vigil deploy plan`, then `vigil deploy apply`), then validate again",
        )
    }
    /// The resource the stack names is gone.
    fn missing(&self, what: &str) -> PreflightCheck {
        self.fail(format!("{what} does not exist"), "it was deleted outside the platform's stacks: plan and apply the deploy again to put it back")
    }
    /// Pass when nothing is wrong, else fail with everything that is.
    fn verdict(&self, wrong: Vec<String>, ok: String, fix: &str) -> PreflightCheck {
        if wrong.is_empty() {
            self.pass(ok)
        } else {
            self.fail(wrong.join("; "), fix)
        }
    }
}

/// The worker's Deployment as the cluster reports it (None: there is none), or why it could
/// not be read (message, what to do).
async fn worker_rollout(ctx: &vigil_aws::AwsContext, cluster: &vigil_aws::eks::ClusterInfo) -> Result<Option<vigil_kube::Rollout>, (String, String)> {
    let token = vigil_aws::eks::token(ctx, &cluster.name).await.map_err(|e| (e.message.clone(), e.hint.clone().unwrap_or_default()))?;
    let api = vigil_kube::Cluster { endpoint: cluster.endpoint.clone(), ca: cluster.certificate_authority.clone(), token };
    let client = vigil_kube::client(&api).map_err(|e| (e.message.clone(), e.hint.clone()))?;
    let mut r = vigil_kube::rollout(&client, super::NAMESPACE, super::setup::WORKER).await.map_err(|e| (e.message, e.hint))?;
    // A stuck rollout says its actual cause, when the pods and events show one.
    if let Some(r) = r.as_mut().filter(|r| r.failed.is_some()) {
        if let Ok(Some(c)) = vigil_kube::inspect::diagnose(&client, super::NAMESPACE, super::setup::WORKER).await {
            r.failed = r.failed.take().map(|why| format!("{why} — {}", c.detail));
        }
    }
    Ok(r)
}

/// The worker rolled out: every replica on the newest template and available.
pub fn worker(answer: Result<Option<vigil_kube::Rollout>, (String, String)>) -> PreflightCheck {
    let c = WORKER;
    match answer {
        Err((message, hint)) => c.fail(message, &hint),
        Ok(None) => c.fail(
            format!("no Deployment {} in {}", super::setup::WORKER, super::NAMESPACE),
            "the deployment's set-up did not apply the manifests: `vigil deploy resume`, or plan and apply again",
        ),
        Ok(Some(r)) => match (r.failed, r.done) {
            (Some(why), _) => c.fail(
                format!("the rollout stopped: {why}"),
                "look at the worker on the Services page (`vigil eks workloads`): its cause, pods, events and logs",
            ),
            (None, true) => c.pass(format!("{} of {} replicas ready", r.ready, r.desired)),
            (None, false) => c.warn(format!("still rolling out: {}", r.waiting_for.unwrap_or_default()), "wait for the rollout, then validate again"),
        },
    }
}

/// Every stack of the platform exists and is complete.
pub fn stacks(found: &[(String, Answer<Option<StackInfo>>)]) -> PreflightCheck {
    let c = COMPLETE;
    let mut wrong = vec![];
    for (name, answer) in found {
        match answer {
            Err(e) => return c.unanswered(e),
            Ok(None) => wrong.push(format!("{name} does not exist")),
            Ok(Some(s)) if !matches!(s.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE") => {
                wrong.push(format!("{name} is {}", s.status))
            }
            Ok(Some(_)) => {}
        }
    }
    c.verdict(
        wrong,
        format!("{} stacks complete", found.len()),
        "finish the deployment (`vigil deploy status` shows where it stands; a failed one shows its recovery)",
    )
}

pub fn eks_cluster(name: &str, answer: Answer<Option<EksCluster>>) -> PreflightCheck {
    let c = EKS_CLUSTER;
    let cluster = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(None) => return c.missing(&format!("cluster {name}")),
        Ok(Some(x)) => x,
    };
    let mut wrong = vec![];
    if cluster.status != "ACTIVE" {
        wrong.push(format!("{name} is {}", cluster.status));
    }
    if cluster.secrets_key.is_none() {
        wrong.push("Kubernetes secrets are not encrypted with a KMS key".into());
    }
    let off: Vec<&str> = CONTROL_PLANE_LOGS[..NEEDED_LOGS].iter().copied().filter(|t| !cluster.logs.iter().any(|l| l == t)).collect();
    if !off.is_empty() {
        wrong.push(format!("control-plane logs off: {}", off.join(", ")));
    }
    c.verdict(
        wrong,
        format!("{name} ACTIVE (Kubernetes {}), secrets encrypted by KMS, logs: {}", cluster.version, cluster.logs.join(", ")),
        "the cluster stack sets these: apply the deploy again to put them back (EKS cannot turn secrets encryption off once on)",
    )
}

pub fn eks_nodes(cluster: &str, answer: Answer<Vec<NodegroupInfo>>) -> PreflightCheck {
    let c = EKS_NODES;
    let groups = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(g) => g,
    };
    if groups.is_empty() {
        return c.fail(
            format!("{cluster} has no node group: nothing can run the worker"),
            "apply the deploy again: the cluster stack makes the node group",
        );
    }
    let mut wrong = vec![];
    for g in &groups {
        if g.status != "ACTIVE" {
            wrong.push(format!("{} is {}", g.name, g.status));
        }
        if g.desired < 1 {
            wrong.push(format!("{} wants no nodes", g.name));
        }
        wrong.extend(g.issues.iter().map(|i| format!("{}: {i}", g.name)));
    }
    let ok = groups
        .iter()
        .map(|g| format!("{} ACTIVE, {} node(s) ({}–{}) of {}", g.name, g.desired, g.min, g.max, g.instance_types.join(", ")))
        .collect::<Vec<_>>();
    c.verdict(
        wrong,
        ok.join("; "),
        "see the node group's health in the EKS console; a scaled-down group: apply the deploy again to restore the tier's size",
    )
}

pub fn aurora(id: &str, answer: Answer<Option<DbCluster>>) -> PreflightCheck {
    let c = AURORA;
    let cluster = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(None) => return c.missing(&format!("database cluster {id}")),
        Ok(Some(x)) => x,
    };
    let mut wrong = vec![];
    if cluster.status != "available" {
        wrong.push(format!("{id} is {}", cluster.status));
    }
    if !cluster.storage_encrypted {
        wrong.push("storage is not encrypted".into());
    }
    if !cluster.iam_auth {
        wrong.push("IAM database authentication is off".into());
    }
    if !cluster.deletion_protection {
        wrong.push("deletion protection is off".into());
    }
    if !wrong.is_empty() {
        return c.fail(wrong.join("; "), "the database stack sets these: apply the deploy again (an unencrypted cluster cannot be encrypted in place: restore a snapshot into an encrypted one)");
    }
    if cluster.backup_retention_days < MIN_RETENTION_DAYS {
        return c.warn(
            format!("{id}: backups kept {} day(s)", cluster.backup_retention_days),
            "raise the database stack's BackupRetentionDays to 7 or more",
        );
    }
    c.pass(format!("{id} available, encrypted, IAM authentication on, deletion protection on, backups kept {} days", cluster.backup_retention_days))
}

/// The writer and at least one reader, available, in different zones.
pub fn aurora_zones(id: &str, cluster: Option<&DbCluster>, answer: Answer<Vec<InstanceInfo>>) -> PreflightCheck {
    let c = AURORA_ZONES;
    let instances = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(i) => i,
    };
    let writer_id = cluster.and_then(|c| c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.clone()));
    let Some(writer) = writer_id.as_ref().and_then(|w| instances.iter().find(|i| &i.id == w)) else {
        return c.fail(format!("{id} has no writer instance"), "apply the deploy again: the database stack makes the writer");
    };
    let readers: Vec<&InstanceInfo> = instances.iter().filter(|i| i.id != writer.id).collect();
    let mut wrong: Vec<String> = instances.iter().filter(|i| i.status != "available").map(|i| format!("{} is {}", i.id, i.status)).collect();
    if readers.is_empty() {
        wrong.push(format!("{id} has no reader: losing {}'s zone stops the database until a new instance is made", writer.zone));
    } else if readers.iter().all(|r| r.zone == writer.zone) {
        wrong.push(format!("the writer and every reader are in {}", writer.zone));
    }
    let ok = format!(
        "writer {} in {}; reader(s) {}",
        writer.id,
        writer.zone,
        readers.iter().map(|r| format!("{} in {}", r.id, r.zone)).collect::<Vec<_>>().join(", ")
    );
    c.verdict(
        wrong,
        ok,
        "Aurora fails over to a reader in another zone: apply the deploy again (the database stack puts each instance in its own zone)",
    )
}

pub fn cache(id: &str, answer: Answer<Option<ReplicationGroupInfo>>) -> PreflightCheck {
    let c = CACHE;
    let group = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(None) => return c.missing(&format!("replication group {id}")),
        Ok(Some(g)) => g,
    };
    let mut wrong = vec![];
    if group.status != "available" {
        wrong.push(format!("{id} is {}", group.status));
    }
    if !group.at_rest_encryption {
        wrong.push("not encrypted at rest".into());
    }
    if !group.transit_encryption {
        wrong.push("not encrypted in transit".into());
    }
    if !group.multi_az || !group.automatic_failover {
        wrong.push("Multi-AZ with automatic failover is off".into());
    }
    c.verdict(
        wrong,
        format!("{id} available with {} node(s), encrypted at rest and in transit, Multi-AZ with automatic failover", group.members.len()),
        "the cache stack sets these: apply the deploy again (encryption can only be set when the group is made: a replaced group starts empty)",
    )
}

/// Whether a bucket policy denies every request not made over TLS.
pub fn denies_plain_http(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else { return false };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    statements.iter().any(|s| {
        let all_actions = match &s["Action"] {
            serde_json::Value::String(a) => a == "s3:*" || a == "*",
            serde_json::Value::Array(a) => a.iter().any(|a| a == "s3:*" || a == "*"),
            _ => false,
        };
        let insecure = &s["Condition"]["Bool"]["aws:SecureTransport"];
        s["Effect"] == "Deny" && all_actions && (insecure == "false" || insecure == &serde_json::json!(false))
    })
}

pub fn bucket(name: &str, answer: &Answer<Option<BucketPosture>>) -> PreflightCheck {
    let c = BUCKET;
    let posture = match answer {
        Err(e) => return c.unanswered(e),
        Ok(None) => return c.missing(&format!("bucket {name}")),
        Ok(Some(p)) => p,
    };
    let mut wrong = vec![];
    match &posture.encryption {
        Some((alg, Some(_))) if alg.starts_with("aws:kms") => {}
        Some((alg, _)) => wrong.push(format!("default encryption is {alg}, not SSE-KMS with the platform's key")),
        None => wrong.push("no default encryption".into()),
    }
    if posture.versioning.as_deref() != Some("Enabled") {
        wrong.push(format!("versioning is {}", posture.versioning.as_deref().unwrap_or("off")));
    }
    if !posture.public_access_blocked {
        wrong.push("public access is not blocked (all four settings)".into());
    }
    if !posture.policy.as_deref().is_some_and(denies_plain_http) {
        wrong.push("its policy does not deny requests without TLS".into());
    }
    c.verdict(
        wrong,
        format!("{name}: SSE-KMS, versioning enabled, public access blocked, TLS-only policy"),
        "the storage stack sets these: apply the deploy again, and find out who changed the bucket (CloudTrail)",
    )
}

fn attr<'a>(a: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    a.get(k).map(String::as_str).filter(|v| !v.is_empty())
}

/// The work queue KMS-encrypted, redriving to the dead-letter queue, which is encrypted too.
pub fn queue(
    url: &str,
    work: Answer<Option<HashMap<String, String>>>,
    dlq_url: &str,
    dlq: Answer<Option<HashMap<String, String>>>,
) -> PreflightCheck {
    let c = QUEUE;
    let (work, dlq) = match (work, dlq) {
        (Err(e), _) | (_, Err(e)) => return c.unanswered(&e),
        (Ok(None), _) => return c.missing(&format!("queue {url}")),
        (_, Ok(None)) => return c.missing(&format!("dead-letter queue {dlq_url}")),
        (Ok(Some(w)), Ok(Some(d))) => (w, d),
    };
    let mut wrong = vec![];
    if attr(&work, "KmsMasterKeyId").is_none() {
        wrong.push("the work queue is not encrypted with the platform's KMS key".into());
    }
    if attr(&dlq, "KmsMasterKeyId").is_none() {
        wrong.push("the dead-letter queue is not encrypted with the platform's KMS key".into());
    }
    let redrive: Option<serde_json::Value> = attr(&work, "RedrivePolicy").and_then(|r| serde_json::from_str(r).ok());
    let target = redrive.as_ref().and_then(|r| r["deadLetterTargetArn"].as_str().map(str::to_string));
    let receives =
        redrive.as_ref().and_then(|r| r["maxReceiveCount"].as_u64().or_else(|| r["maxReceiveCount"].as_str().and_then(|s| s.parse().ok())));
    match (target, attr(&dlq, "QueueArn")) {
        (None, _) => wrong.push("the work queue has no redrive policy: a poisoned message is retried for ever".into()),
        (Some(t), Some(d)) if t != d => wrong.push(format!("the work queue redrives to {t}, not the platform's dead-letter queue {d}")),
        _ => {}
    }
    c.verdict(
        wrong,
        format!(
            "work queue and dead-letter queue KMS-encrypted; a message goes to the dead-letter queue after {} receive(s)",
            receives.unwrap_or_default()
        ),
        "the storage stack sets these: apply the deploy again",
    )
}

/// The plan has a continuous rule (RPO under 15 minutes) and a scheduled one; the vault is
/// KMS-encrypted.
pub fn backup_plan(plan_id: &str, plan: Answer<Option<PlanInfo>>, vault_name: &str, vault: Answer<Option<VaultInfo>>) -> PreflightCheck {
    let c = BACKUP_PLAN;
    let (plan, vault) = match (plan, vault) {
        (Err(e), _) | (_, Err(e)) => return c.unanswered(&e),
        (Ok(None), _) => return c.missing(&format!("backup plan {plan_id}")),
        (_, Ok(None)) => return c.missing(&format!("backup vault {vault_name}")),
        (Ok(Some(p)), Ok(Some(v))) => (p, v),
    };
    let mut wrong = vec![];
    let continuous = plan.rules.iter().find(|r| r.continuous);
    if continuous.is_none() {
        wrong.push("no rule takes continuous backups: the database's RPO is a day, not 15 minutes".into());
    }
    if !plan.rules.iter().any(|r| !r.continuous && r.schedule.is_some()) {
        wrong.push("no scheduled (snapshot) rule".into());
    }
    if vault.encryption_key.is_none() {
        wrong.push(format!("vault {} has no KMS key", vault.name));
    }
    let rules = plan.rules.iter().map(|r| format!("{}{}", r.name, if r.continuous { " (continuous)" } else { "" })).collect::<Vec<_>>().join(", ");
    c.verdict(
        wrong,
        format!("{}: {rules}; vault {} KMS-encrypted{}", plan.name, vault.name, if vault.locked { ", locked" } else { "" }),
        "the backup stack sets these: apply the deploy again",
    )
}

/// Whether a selection covers a resource: named (or "*") and every tag condition met.
pub fn covers(selection: &SelectionInfo, arn: &str, tags: &[(String, String)]) -> bool {
    let named = selection.resources.iter().any(|r| r == "*" || r == arn || (r.ends_with('*') && arn.starts_with(&r[..r.len() - 1])));
    let tagged = selection.conditions.iter().all(|(key, value)| {
        let Some(tag) = key.strip_prefix("aws:ResourceTag/") else { return false };
        tags.iter().any(|(k, v)| k == tag && v == value)
    });
    named && tagged
}

/// A resource the backup plan must cover: what it is, its ARN, its tags.
pub type Covered = (String, String, Vec<(String, String)>);

/// The database cluster and the documents bucket are covered by a selection of the plan.
pub fn backup_coverage(selections: Answer<Vec<SelectionInfo>>, resources: &[Covered]) -> PreflightCheck {
    let c = BACKUP_COVERAGE;
    let selections = match selections {
        Err(e) => return c.unanswered(&e),
        Ok(s) => s,
    };
    if selections.is_empty() {
        return c.fail("the plan selects no resources".into(), "apply the deploy again: the backup stack makes the selection");
    }
    let mut wrong = vec![];
    let mut ok = vec![];
    for (what, arn, tags) in resources {
        match selections.iter().find(|s| covers(s, arn, tags)) {
            Some(s) => ok.push(format!("{what} by {}", s.name)),
            None => wrong.push(format!(
                "{what} ({arn}) is not covered (its tags: {})",
                tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    c.verdict(
        wrong,
        format!("covered: {}", ok.join("; ")),
        "the selection picks resources tagged pj:backup=true and the environment's pj:environment: put the tags back (apply the deploy again)",
    )
}

/// Every alarm the alarms stack made exists in CloudWatch.
pub fn alarms(expected: &[String], answer: Answer<Vec<AlarmInfo>>) -> PreflightCheck {
    let c = ALARMS;
    let found = match answer {
        Err(e) => return c.unanswered(&e),
        Ok(f) => f,
    };
    if expected.is_empty() {
        return c.fail("the alarms stack has no alarms".into(), "deploy the platform's alarms stack (apply the deploy again)");
    }
    let missing: Vec<&String> = expected.iter().filter(|n| !found.iter().any(|a| &a.name == *n)).collect();
    if !missing.is_empty() {
        return c.fail(
            format!(
                "{} of {} alarm(s) missing: {}",
                missing.len(),
                expected.len(),
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            "they were deleted outside the stack: apply the deploy again to put them back",
        );
    }
    let alarming: Vec<&str> = found.iter().filter(|a| expected.contains(&a.name) && a.state == "ALARM").map(|a| a.name.as_str()).collect();
    if !alarming.is_empty() {
        return c.warn(format!("all {} present; in ALARM: {}", expected.len(), alarming.join(", ")), "open the Alarms page for why");
    }
    c.pass(format!("all {} alarms present", expected.len()))
}

/// A note with the shapes the de-identification looks for (a name, dates, a record number, a
/// phone number), all made up and unique to this run, so it is never taken for a duplicate.
pub fn synthetic_note(run: &str, at: &str) -> String {
    format!(
        "SYNTHETIC TEST NOTE: Vigil validation {run} at {at}. Not a real patient.\n\
         Patient: Jonas Ekberg-Vale, DOB 03/14/1961, MRN 4471-{tail}.\n\
         Seen on {at} by Dr. Amara Quist. Phone (555) 010-{phone}.\n\
         Assessment: stable; follow up in two weeks.\n",
        tail = &run[..6],
        phone = &run[run.len() - 4..]
    )
}

/// The job the worker made for `source` (newest first): id, status, error class and message.
async fn job_of(pool: &sqlx::PgPool, source: &str) -> Result<Option<(String, String, Option<String>, Option<String>)>, String> {
    sqlx::query_as::<_, (uuid::Uuid, String, Option<String>, Option<String>)>(
        "SELECT id, status, error_class, error_message FROM jobs WHERE source_uri = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(source)
    .fetch_optional(pool)
    .await
    .map(|r| r.map(|(id, st, class, msg)| (id.to_string(), st, class, msg)))
    .map_err(|e| format!("reading the job ledger failed: {e}"))
}

/// Uploads a synthetic note to `bucket`, waits for the worker's job to finish, then verifies the
/// job's audit record in its stream with the pinned keys.
pub async fn smoke_test(s3: &S3, bucket: &str, access: &SmokeAccess) -> (PreflightCheck, Option<SmokeRun>) {
    let c = SMOKE;
    let (pool, keys, poll, limit) = match access {
        SmokeAccess::Ready { pool, keys, poll, limit } => (pool, keys, *poll, *limit),
        SmokeAccess::Unavailable(message, fix) => return (c.fail(format!("not run: {message}"), fix), None),
        SmokeAccess::NotAllowed(why) => return (c.warn(format!("not run: {why}"), "validate from a console allowed to change the platform"), None),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let started = chrono::Utc::now();
    let key = format!("{SMOKE_PREFIX}{id}.txt");
    let source = format!("s3://{bucket}/{key}");
    let mut run = SmokeRun { key: key.clone(), status: "not uploaded".into(), ..Default::default() };
    if let Err(e) = s3.put_text(bucket, &key, &synthetic_note(&id, &started.format("%Y-%m-%d").to_string())).await {
        return (c.unanswered(&e), Some(run));
    }
    run.status = "uploaded".into();
    let deadline = tokio::time::Instant::now() + limit;
    let job = loop {
        match job_of(pool, &source).await {
            Err(e) => return (c.fail(e, "check the platform database (Audit page → Database) and validate again"), Some(run)),
            Ok(Some(j)) if matches!(j.1.as_str(), "succeeded" | "failed") => break j,
            Ok(seen) => {
                if tokio::time::Instant::now() >= deadline {
                    let (detail, fix) = match seen {
                        None => (
                            format!("no job for {key} after {} s: the worker did not take the note from the queue", limit.as_secs()),
                            "check the worker's pods and logs (EKS page), and that the bucket's notifications reach the work queue",
                        ),
                        Some(j) => (
                            format!("job {} is still {} after {} s", j.0, j.1, limit.as_secs()),
                            "see the job on the Jobs page; the worker may be overloaded or stuck",
                        ),
                    };
                    return (c.fail(detail, fix), Some(run));
                }
                tokio::time::sleep(poll).await;
            }
        }
    };
    run.job = Some(job.0.clone());
    run.status = job.1.clone();
    if job.1 == "failed" {
        let why = format!("{}: {}", job.2.unwrap_or_default(), job.3.unwrap_or_default());
        return (
            c.fail(format!("job {} failed ({why})", job.0), "open the job on the Jobs page for its log lines and what the error class means"),
            Some(run),
        );
    }
    let record = sqlx::query_as::<_, (String, i64)>(
        "SELECT stream_id, seq FROM audit_log WHERE job_id = $1::uuid AND action = 'deidentify' ORDER BY at LIMIT 1",
    )
    .bind(&job.0)
    .fetch_optional(pool)
    .await;
    let (stream, seq) = match record {
        Err(e) => return (c.fail(format!("reading the audit log failed: {e}"), "check the platform database's grants (pj_auditor)"), Some(run)),
        Ok(None) => {
            return (
                c.fail(format!("job {} succeeded but wrote no audit record", job.0), "the worker must audit every document: check its version"),
                Some(run),
            )
        }
        Ok(Some(r)) => r,
    };
    run.audit = Some(format!("{stream}#{seq}"));
    let since = started - chrono::Duration::seconds(1);
    let report = match crate::audit::verify::verify(pool, Some(since), keys, std::sync::Arc::new(crate::progress::Progress::default())).await {
        Err(e) => return (c.fail(format!("verifying the audit log failed: {e}"), "check the platform database and validate again"), Some(run)),
        Ok(r) => r,
    };
    let Some(v) = report.streams.iter().find(|v| v.stream_id == stream) else {
        return (c.fail(format!("stream {stream} was not verified"), "validate again"), Some(run));
    };
    if let Some(b) = &v.first_break {
        return (
            c.fail(
                format!("audit stream {stream} is broken at record {}: {}", b.seq, b.detail),
                "open the Audit page and verify the chain for where and how",
            ),
            Some(run),
        );
    }
    let signed = if seq <= v.last_seq - v.unsigned_tail as i64 {
        "covered by a signed checkpoint"
    } else {
        "not yet under a signed checkpoint (the worker signs one every checkpoint interval)"
    };
    let detail = format!("{key} → job {} succeeded; audit record {stream}#{seq} verifies in its chain, {signed}", job.0);
    (c.pass(detail), Some(run))
}

/// Reads the stacks, then checks every component they name; with `smoke`, last, the smoke test
/// (only when the worker is ready: its run is what it tests).
pub async fn run(aws: &Services, platform_env: &str, smoke: &SmokeAccess) -> (Vec<PreflightCheck>, Option<SmokeRun>) {
    let (mut checks, outputs) = components(aws, platform_env).await;
    if checks.len() == 1 {
        // The stacks could not be read: nothing else is claimed.
        return (checks, None);
    }
    let worker_ready = checks.iter().any(|c| c.id == WORKER.id && c.status == CheckStatus::Pass);
    let bucket_ok = checks.iter().any(|c| c.id == BUCKET.id && c.status != CheckStatus::Fail);
    let bucket = outputs.get("DocumentsBucket").filter(|b| !b.is_empty());
    let (check, run) = match bucket {
        Some(b) if worker_ready && bucket_ok => smoke_test(&aws.s3, b, smoke).await,
        _ => (
            SMOKE.fail(
                "not run: the worker or the documents bucket is not ready".into(),
                "fix the worker and bucket checks first, then validate again",
            ),
            None,
        ),
    };
    checks.push(check);
    (checks, run)
}

/// Every component the stacks name, checked; with the stacks' outputs.
async fn components(aws: &Services, platform_env: &str) -> (Vec<PreflightCheck>, BTreeMap<String, String>) {
    let mut found = vec![];
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for stack in STACKS {
        let name = stack_name(platform_env, stack);
        let answer = aws.cf.stack(&name).await;
        if let Ok(Some(s)) = &answer {
            outputs.extend(s.outputs.iter().cloned());
        }
        let failed = answer.is_err();
        found.push((name, answer));
        if failed {
            break;
        }
    }
    let mut checks = vec![stacks(&found)];
    if found.iter().any(|(_, a)| a.is_err()) {
        // Without the stacks nothing is known of what to check.
        return (checks, outputs);
    }
    let out = |k: &str| outputs.get(k).cloned().filter(|v| !v.is_empty());

    match out("ClusterName") {
        Some(name) => {
            let answer = aws.eks.cluster(&name).await;
            let api = answer.as_ref().ok().cloned().flatten();
            checks.push(eks_cluster(&name, answer));
            checks.push(eks_nodes(&name, aws.eks.nodegroups(&name).await));
            checks.push(match api {
                Some(c) => worker(worker_rollout(&aws.ctx, &c).await),
                None => WORKER.fail(format!("the cluster {name} cannot be read"), "see the EKS check above"),
            });
        }
        None => {
            checks.push(EKS_CLUSTER.undeployed("ClusterName", "cluster"));
            checks.push(EKS_NODES.undeployed("ClusterName", "cluster"));
            checks.push(WORKER.undeployed("ClusterName", "cluster"));
        }
    }

    let mut db: Option<DbCluster> = None;
    match out("ClusterIdentifier") {
        Some(id) => {
            let answer = aws.rds.cluster(&id).await;
            db = answer.as_ref().ok().cloned().flatten();
            let instances = if answer.is_ok() { aws.rds.instances(&id).await } else { Ok(vec![]) };
            let zones = match &answer {
                Err(e) => AURORA_ZONES.unanswered(e),
                Ok(_) => aurora_zones(&id, db.as_ref(), instances),
            };
            checks.push(aurora(&id, answer));
            checks.push(zones);
        }
        None => {
            checks.push(AURORA.undeployed("ClusterIdentifier", "database"));
            checks.push(AURORA_ZONES.undeployed("ClusterIdentifier", "database"));
        }
    }

    checks.push(match out("ReplicationGroupId") {
        Some(id) => cache(&id, aws.cache.replication_group(&id).await),
        None => CACHE.undeployed("ReplicationGroupId", "cache"),
    });

    let bucket_name = out("DocumentsBucket");
    let posture = match &bucket_name {
        Some(b) => Some(aws.s3.posture(b).await),
        None => None,
    };
    checks.push(match (&bucket_name, &posture) {
        (Some(b), Some(p)) => bucket(b, p),
        _ => BUCKET.undeployed("DocumentsBucket", "storage"),
    });

    checks.push(match (out("WorkQueueUrl"), out("DeadLetterQueueUrl")) {
        (Some(w), Some(d)) => {
            let work = aws.sqs.attributes(&w).await;
            let dlq = if work.is_ok() { aws.sqs.attributes(&d).await } else { Ok(None) };
            queue(&w, work, &d, dlq)
        }
        _ => QUEUE.undeployed("WorkQueueUrl", "storage"),
    });

    match (out("PlanId"), out("VaultName")) {
        (Some(plan), Some(vault)) => {
            let answer = aws.backup.plan(&plan).await;
            let vault_answer = if answer.is_ok() { aws.backup.vault(&vault).await } else { Ok(None) };
            checks.push(backup_plan(&plan, answer, &vault, vault_answer));
            let mut covered = vec![];
            if let (Some(arn), Some(c)) = (out("ClusterArn"), &db) {
                covered.push((format!("database {}", c.id), arn, c.tags.clone()));
            }
            if let (Some(arn), Some(Ok(Some(p)))) = (out("DocumentsBucketArn"), &posture) {
                covered.push((format!("bucket {}", p.name), arn, p.tags.clone()));
            }
            checks.push(if covered.len() < 2 {
                BACKUP_COVERAGE.fail(
                    "the database or the documents bucket could not be read, so what the plan covers is unknown".into(),
                    "fix the aurora and bucket checks first",
                )
            } else {
                backup_coverage(aws.backup.selections(&plan).await, &covered)
            });
        }
        _ => {
            checks.push(BACKUP_PLAN.undeployed("PlanId", "backup"));
            checks.push(BACKUP_COVERAGE.undeployed("PlanId", "backup"));
        }
    }

    let alarms_stack = stack_name(platform_env, "alarms");
    let deployed = found.iter().any(|(n, a)| n == &alarms_stack && matches!(a, Ok(Some(_))));
    checks.push(if deployed {
        match aws.cf.resources(&alarms_stack).await {
            Ok(resources) => {
                let expected: Vec<String> = resources
                    .into_iter()
                    .filter(|(_, _, t)| t == "AWS::CloudWatch::Alarm" || t == "AWS::CloudWatch::CompositeAlarm")
                    .filter_map(|(_, physical, _)| physical)
                    .collect();
                alarms(&expected, vigil_aws::cloudwatch::describe_alarms(&aws.cw, None, platform_env).await)
            }
            Err(e) => ALARMS.unanswered(&e),
        }
    } else {
        ALARMS.fail(
            format!("{alarms_stack} is not deployed"),
            "deploy the platform (`vigil deploy plan`, then `vigil deploy apply`), then validate again",
        )
    });
    (checks, outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_only_policy_is_recognised_and_an_allow_is_not() {
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(denies_plain_http(deny));
        assert!(!denies_plain_http(&deny.replace("Deny", "Allow")));
        assert!(!denies_plain_http(&deny.replace("\"s3:*\"", "\"s3:GetObject\"")));
        assert!(!denies_plain_http(&deny.replace("\"false\"", "\"true\"")));
        assert!(!denies_plain_http("not json"));
    }

    #[test]
    fn a_selection_covers_by_resource_and_every_tag_condition() {
        let s = SelectionInfo {
            id: "s".into(),
            name: "tagged".into(),
            resources: vec!["*".into()],
            conditions: vec![("aws:ResourceTag/pj:backup".into(), "true".into()), ("aws:ResourceTag/pj:environment".into(), "prod".into())],
            role: String::new(),
        };
        let tags = |b: &str| vec![("pj:backup".to_string(), b.to_string()), ("pj:environment".to_string(), "prod".to_string())];
        assert!(covers(&s, "arn:aws:rds:x", &tags("true")));
        assert!(!covers(&s, "arn:aws:rds:x", &tags("false")));
        let named = SelectionInfo { resources: vec!["arn:aws:s3:::pj-*".into()], conditions: vec![], ..s.clone() };
        assert!(covers(&named, "arn:aws:s3:::pj-prod-documents", &[]));
        assert!(!covers(&named, "arn:aws:rds:x", &[]));
    }

    #[test]
    fn the_database_needs_a_reader_in_another_zone() {
        let cluster = DbCluster { id: "pj-x".into(), members: vec![("pj-x-1".into(), true), ("pj-x-2".into(), false)], ..Default::default() };
        let inst = |id: &str, zone: &str| InstanceInfo { id: id.into(), status: "available".into(), zone: zone.into(), class: "db.r6g.large".into() };
        assert_eq!(aurora_zones("pj-x", Some(&cluster), Ok(vec![inst("pj-x-1", "a"), inst("pj-x-2", "b")])).status, CheckStatus::Pass);
        let same = aurora_zones("pj-x", Some(&cluster), Ok(vec![inst("pj-x-1", "a"), inst("pj-x-2", "a")]));
        assert_eq!(same.status, CheckStatus::Fail);
        assert!(same.detail.contains("every reader are in a"), "{}", same.detail);
        assert_eq!(aurora_zones("pj-x", Some(&cluster), Ok(vec![inst("pj-x-1", "a")])).status, CheckStatus::Fail);
        assert_eq!(aurora_zones("pj-x", None, Ok(vec![inst("pj-x-1", "a")])).status, CheckStatus::Fail);
    }

    #[test]
    fn the_queue_must_redrive_to_its_own_dead_letter_queue() {
        let dlq: HashMap<String, String> =
            [("QueueArn", "arn:dlq"), ("KmsMasterKeyId", "k")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let work = |target: &str| -> HashMap<String, String> {
            [("KmsMasterKeyId", "k".to_string()), ("RedrivePolicy", format!(r#"{{"deadLetterTargetArn":"{target}","maxReceiveCount":5}}"#))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect()
        };
        let ok = queue("w", Ok(Some(work("arn:dlq"))), "d", Ok(Some(dlq.clone())));
        assert_eq!(ok.status, CheckStatus::Pass, "{}", ok.detail);
        assert!(ok.detail.contains("after 5 receive"));
        assert_eq!(queue("w", Ok(Some(work("arn:other"))), "d", Ok(Some(dlq.clone()))).status, CheckStatus::Fail);
        let mut plain = work("arn:dlq");
        plain.remove("KmsMasterKeyId");
        assert_eq!(queue("w", Ok(Some(plain)), "d", Ok(Some(dlq))).status, CheckStatus::Fail);
    }

    #[test]
    fn the_backup_plan_needs_a_continuous_rule() {
        let rule = |continuous| vigil_aws::backup::RuleInfo {
            name: "r".into(),
            continuous,
            schedule: Some("cron(0 3 * * ? *)".into()),
            ..Default::default()
        };
        let vault = || Ok(Some(VaultInfo { name: "v".into(), encryption_key: Some("k".into()), ..Default::default() }));
        let plan = |rules| Ok(Some(PlanInfo { id: "p".into(), name: "p".into(), rules }));
        assert_eq!(backup_plan("p", plan(vec![rule(true), rule(false)]), "v", vault()).status, CheckStatus::Pass);
        let daily = backup_plan("p", plan(vec![rule(false)]), "v", vault());
        assert_eq!(daily.status, CheckStatus::Fail);
        assert!(daily.detail.contains("RPO"), "{}", daily.detail);
    }
}
