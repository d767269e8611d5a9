//! The vocabulary a runbook may use: every action and every check, with its arguments, what it
//! records for later steps, the IAM actions it calls (a dry run simulates them) and whether it
//! changes anything. Vigil's runbook engine implements exactly these; a runbook naming anything
//! else is refused when it is read, not when it runs.

/// The type an argument's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// A string, which may hold `${…}` references.
    Text,
    Bool,
    /// A whole number, 0 or more.
    Count,
    /// A duration such as "15m" or "90s".
    Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    pub ty: ArgType,
    pub required: bool,
    pub about: &'static str,
}

/// An action a step can take.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub args: &'static [ArgSpec],
    /// What the action records for later steps (`${steps.<id>.<output>}`).
    pub outputs: &'static [&'static str],
    /// The IAM actions it calls, simulated for the caller by a dry run.
    pub iam: &'static [&'static str],
    /// Whether it changes anything: a mutating action needs an approval step before it.
    pub mutates: bool,
    /// Whether it can lose data or cut the platform off: a second person's approval applies when
    /// the team asks for four eyes.
    pub destructive: bool,
}

/// A condition a step can check (precheck, wait-until, verification).
#[derive(Debug, Clone, Copy)]
pub struct CheckSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub args: &'static [ArgSpec],
    pub iam: &'static [&'static str],
}

const fn req(name: &'static str, ty: ArgType, about: &'static str) -> ArgSpec {
    ArgSpec { name, ty, required: true, about }
}
const fn opt(name: &'static str, ty: ArgType, about: &'static str) -> ArgSpec {
    ArgSpec { name, ty, required: false, about }
}

use ArgType::*;

const CLUSTER: ArgSpec = req("cluster", Text, "the Aurora cluster's identifier");
const GLOBAL: ArgSpec = req("global_cluster", Text, "the Aurora global database's identifier");
const REGION: ArgSpec = opt("region", Text, "the region to act in (the environment's by default)");

pub const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "rds.find_failover_target",
        about: "finds the cluster's writer and the reader to promote: the one named, else an available reader in another zone",
        args: &[CLUSTER, opt("target", Text, "the reader to promote")],
        outputs: &["writer", "writer_zone", "target", "target_zone"],
        iam: &["rds:DescribeDBClusters", "rds:DescribeDBInstances"],
        mutates: false,
        destructive: false,
    },
    ActionSpec {
        name: "rds.failover_cluster",
        about: "fails the cluster's writer over to the target reader (FailoverDBCluster)",
        args: &[CLUSTER, req("target", Text, "the reader to promote")],
        outputs: &["from", "to"],
        iam: &["rds:FailoverDBCluster"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "rds.measure_global_lag",
        about: "reads the global database's replication lag to the secondary: the data a failover would lose",
        args: &[GLOBAL, req("secondary", Text, "the secondary cluster's ARN or identifier"), REGION],
        outputs: &["lag_seconds"],
        iam: &["rds:DescribeGlobalClusters", "cloudwatch:GetMetricData"],
        mutates: false,
        destructive: false,
    },
    ActionSpec {
        name: "rds.switchover_global",
        about: "switches the global database's writer to the target cluster with no data loss (SwitchoverGlobalCluster)",
        args: &[GLOBAL, req("target", Text, "the secondary cluster to become the primary (its ARN)")],
        outputs: &["from", "to"],
        iam: &["rds:SwitchoverGlobalCluster", "rds:DescribeGlobalClusters"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "rds.failover_global",
        about: "fails the global database over to the target cluster, accepting the lag as lost (FailoverGlobalCluster with AllowDataLoss)",
        args: &[GLOBAL, req("target", Text, "the secondary cluster to become the primary (its ARN)")],
        outputs: &["from", "to"],
        iam: &["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "rds.restore_to_time",
        about: "restores the cluster to a new one as it was at a time (RestoreDBClusterToPointInTime), then adds its instances",
        args: &[
            req("source", Text, "the cluster to restore"),
            req("time", Text, "\"latest\" or an RFC 3339 time within the restore window"),
            opt("target", Text, "the new cluster's identifier (by default <source>-pitr-<time>)"),
        ],
        outputs: &["cluster", "restored_to"],
        iam: &["rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance", "rds:DescribeDBClusters"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "backup.restore_point",
        about: "restores the cluster's newest (or the named) AWS Backup recovery point to a new cluster with its instances",
        args: &[CLUSTER, opt("point", Text, "the recovery point's ARN (the newest by default)")],
        outputs: &["cluster", "restored_to"],
        iam: &["backup:StartRestoreJob", "backup:DescribeRestoreJob", "iam:PassRole", "rds:CreateDBInstance"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "platform.use_cluster",
        about: "points the worker at the cluster (its secret, then a restart) after reading its data as the worker",
        args: &[CLUSTER, REGION],
        outputs: &["previous"],
        iam: &["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "eks:DescribeCluster"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "platform.use_region",
        about: "makes the region the environment's, once the platform's writer and worker run there: it and the DR region swap, with the database cluster (db_cluster_id and secondary_cluster_arn), the work queue (queue_url and secondary_queue_url) and the console's database connection when it named the old writer",
        args: &[
            req("region", Text, "the region the platform runs in now"),
            req("cluster", Text, "the writer cluster there (its ARN)"),
            opt("queue", Text, "the work queue there (URL)"),
        ],
        outputs: &["from"],
        iam: &["rds:DescribeDBClusters"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "eks.start_worker",
        about: "scales the worker Deployment in a region's EKS cluster up to the tier's replicas",
        args: &[req("region", Text, "the region whose cluster runs the worker")],
        outputs: &["replicas"],
        iam: &["eks:DescribeCluster"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "eks.stop_worker",
        about: "scales the worker Deployment in a region's EKS cluster down to none (what it ran is recorded)",
        args: &[req("region", Text, "the region whose cluster runs the worker")],
        outputs: &["previous_replicas"],
        iam: &["eks:DescribeCluster"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "sqs.move_messages",
        about: "moves the messages waiting in one work queue to another (each sent, then deleted)",
        args: &[req("from", Text, "the queue to empty (URL)"), req("to", Text, "the queue to send them to (URL)")],
        outputs: &["moved"],
        iam: &["sqs:ReceiveMessage", "sqs:SendMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "eks.update_addons",
        about: "updates the cluster's EKS add-ons for a Kubernetes version: `before` the control plane, each one that does not run on it to the newest version that runs on it and on the current one; `after`, each one to the version EKS makes the default for it (never to an older one)",
        args: &[VERSION, req("phase", Text, "\"before\" or \"after\" the control plane's upgrade")],
        outputs: &["updated"],
        iam: &["eks:ListAddons", "eks:DescribeAddon", "eks:DescribeAddonVersions", "eks:UpdateAddon"],
        mutates: true,
        destructive: false,
    },
    ActionSpec {
        name: "eks.update_cluster_version",
        about: "upgrades the EKS control plane to the next Kubernetes version (UpdateClusterVersion); it cannot be moved back",
        args: &[VERSION],
        outputs: &["from", "to"],
        iam: &["eks:DescribeCluster", "eks:UpdateClusterVersion", "eks:ListUpdates", "eks:DescribeUpdate"],
        mutates: true,
        destructive: true,
    },
    ActionSpec {
        name: "eks.update_nodegroups",
        about: "rolls each managed node group to the control plane's Kubernetes version with its latest AMI (UpdateNodegroupVersion; pod disruption budgets are respected)",
        args: &[VERSION],
        outputs: &["updated"],
        iam: &["eks:ListNodegroups", "eks:DescribeNodegroup", "eks:UpdateNodegroupVersion"],
        mutates: true,
        destructive: false,
    },
];

const VERSION: ArgSpec = req("version", Text, "the Kubernetes version (\"1.32\")");

pub const CHECKS: &[CheckSpec] = &[
    CheckSpec { name: "rds.cluster_available", about: "the cluster is available", args: &[CLUSTER, REGION], iam: &["rds:DescribeDBClusters"] },
    CheckSpec {
        name: "rds.reader_in_other_zone",
        about: "an available reader runs in another zone than the writer",
        args: &[CLUSTER],
        iam: &["rds:DescribeDBClusters", "rds:DescribeDBInstances"],
    },
    CheckSpec {
        name: "rds.writer_is",
        about: "the instance is the cluster's writer and available",
        args: &[CLUSTER, req("instance", Text, "the instance expected to write")],
        iam: &["rds:DescribeDBClusters", "rds:DescribeDBInstances"],
    },
    CheckSpec {
        name: "rds.global_writer_is",
        about: "the cluster is the global database's writer",
        args: &[GLOBAL, CLUSTER],
        iam: &["rds:DescribeGlobalClusters"],
    },
    CheckSpec {
        name: "rds.global_lag_within",
        about: "the secondary's replication lag is within the bound",
        args: &[GLOBAL, req("secondary", Text, "the secondary cluster"), req("max", Duration, "the largest lag allowed"), REGION],
        iam: &["rds:DescribeGlobalClusters", "cloudwatch:GetMetricData"],
    },
    CheckSpec {
        name: "rds.restorable_within",
        about: "the cluster can be restored to a time no older than the bound before now (its latest restorable time)",
        args: &[CLUSTER, req("max", Duration, "the largest data-loss window allowed")],
        iam: &["rds:DescribeDBClusters"],
    },
    CheckSpec {
        name: "rds.capacity_for",
        about: "the cluster's instance class can be launched in the region's zones",
        args: &[CLUSTER, REGION],
        iam: &["rds:DescribeOrderableDBInstanceOptions", "rds:DescribeDBInstances"],
    },
    CheckSpec {
        name: "backup.point_within",
        about: "the cluster has a completed recovery point no older than the bound",
        args: &[CLUSTER, req("max", Duration, "the oldest point allowed")],
        iam: &["backup:ListRecoveryPointsByResource"],
    },
    CheckSpec {
        name: "secrets.present",
        about: "the secret exists in the region and has a value",
        args: &[req("secret", Text, "the secret's name"), REGION],
        iam: &["secretsmanager:DescribeSecret"],
    },
    CheckSpec {
        name: "eks.cluster_active",
        about: "the region's EKS cluster is active",
        args: &[req("region", Text, "the region")],
        iam: &["eks:DescribeCluster"],
    },
    CheckSpec {
        name: "worker.ready",
        about: "the worker Deployment has every replica ready (its /readyz answers) in the region",
        args: &[REGION],
        iam: &["eks:DescribeCluster"],
    },
    CheckSpec {
        name: "ledger.writable",
        about: "the job ledger takes a write: through the console's connection, or, with a region, as the worker there signs in (its secret in that region)",
        args: &[REGION],
        iam: &["secretsmanager:GetSecretValue"],
    },
    CheckSpec {
        name: "sqs.queue_empty",
        about: "the queue holds no visible or in-flight message",
        args: &[req("queue", Text, "the queue's URL")],
        iam: &["sqs:GetQueueAttributes"],
    },
    CheckSpec {
        name: "eks.upgrade_ready",
        about: "nothing blocks the EKS cluster's upgrade to the version: its status, EKS's upgrade insights, add-ons with no version for it, APIs the platform's manifests use that it no longer serves, kubelet skew, pod disruption budgets with no room",
        args: &[VERSION],
        iam: &[
            "eks:DescribeCluster",
            "eks:DescribeClusterVersions",
            "eks:ListInsights",
            "eks:DescribeInsight",
            "eks:ListAddons",
            "eks:DescribeAddon",
            "eks:DescribeAddonVersions",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
        ],
    },
    CheckSpec {
        name: "eks.version_is",
        about: "the EKS control plane runs the Kubernetes version and is active",
        args: &[VERSION],
        iam: &["eks:DescribeCluster"],
    },
    CheckSpec {
        name: "eks.addons_ready",
        about: "every EKS add-on is active and its version runs on the Kubernetes version",
        args: &[VERSION],
        iam: &["eks:ListAddons", "eks:DescribeAddon", "eks:DescribeAddonVersions"],
    },
    CheckSpec {
        name: "eks.nodegroups_at",
        about: "every managed node group is active and its kubelet runs the Kubernetes version",
        args: &[VERSION],
        iam: &["eks:ListNodegroups", "eks:DescribeNodegroup"],
    },
];

pub fn action(name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.name == name)
}

pub fn check(name: &str) -> Option<&'static CheckSpec> {
    CHECKS.iter().find(|c| c.name == name)
}

/// The environment parameters a runbook may read as `${env.<name>}`: the platform's stack
/// outputs that Vigil keeps per environment, the environment's own name and region, and the
/// platform's name in AWS (`environment`: `pj-<environment>/…` names its secrets).
pub const ENV: &[&str] = &[
    "name",
    "region",
    "environment",
    "db_cluster_id",
    "db_cluster_stack",
    "global_cluster_id",
    "secondary_region",
    "secondary_cluster_arn",
    "queue_url",
    "secondary_queue_url",
    "eks_cluster",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_args_are_unique_per_entry() {
        let mut names: Vec<&str> = ACTIONS.iter().map(|a| a.name).chain(CHECKS.iter().map(|c| c.name)).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        for args in ACTIONS.iter().map(|a| a.args).chain(CHECKS.iter().map(|c| c.args)) {
            let mut a: Vec<&str> = args.iter().map(|a| a.name).collect();
            let n = a.len();
            a.sort();
            a.dedup();
            assert_eq!(a.len(), n);
        }
    }

    #[test]
    fn destructive_actions_mutate() {
        for a in ACTIONS {
            assert!(!a.destructive || a.mutates, "{}", a.name);
            assert!(!a.iam.is_empty(), "{}", a.name);
        }
    }
}
