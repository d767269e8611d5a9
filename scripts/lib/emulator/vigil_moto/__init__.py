"""Vigil's extensions to the moto AWS emulator, all in this package.

moto 5.2 creates nothing for several resource types the platform's stacks use (and answers
HTTP 500 to Fn::GetAtt on them). Each module here registers those types through moto's own
extension point, a `CloudFormationModel` subclass, and keeps the state in moto's own service
backends, so the service APIs (DescribeClusters, DescribeAlarms, ...) see what a stack made:

- eks: AWS::EKS::Cluster, AWS::EKS::Nodegroup; iam: AWS::IAM::OIDCProvider, and
  SimulatePrincipalPolicy (every action allowed: the emulator enforces no policy)
- eks_api: what the Services page reads and the upgrade cockpit does that moto lacks: Kubernetes
  versions with their support dates, add-ons (and AWS::EKS::Addon), upgrade insights computed
  from the cluster's state with their refresh, version updates of the control plane, add-ons and
  node groups (done over two reads of DescribeUpdate)
- servicequotas: the EC2, EKS and RDS quotas a preflight reads (moto has only VPC's)
- ec2: deleting NAT gateways, VPC endpoints and route tables with their stack (moto leaves them)
- rds: AWS::RDS::DBCluster (with its managed master secret, holding the master user as RDS's
  does), AWS::RDS::DBInstance in a cluster, AWS::RDS::GlobalCluster; FailoverDBCluster over a
  read ("failing-over", then available); SwitchoverGlobalCluster and FailoverGlobalCluster
  (moto has neither): the writer moves between member clusters over two reads of
  DescribeGlobalClusters, with its FailoverState; a global cluster's source in any region
- site: where the clusters' servers really are, when the sandbox or a test has them (the
  Kubernetes API of every EKS cluster; a PostgreSQL server as every Aurora cluster)
- elasticache: AWS::ElastiCache::ReplicationGroup
- secretsmanager: AWS::SecretsManager::Secret
- backup: AWS::Backup::BackupVault, BackupPlan, BackupSelection; ListBackupSelections and
  GetBackupSelection (moto has no selections)
- backup_jobs: backup, restore and copy jobs and recovery points (Aurora through moto's RDS,
  S3 buckets' objects), protected resources (moto has none of these)
- backup_audit: AWS Backup Audit Manager's frameworks (moto has none)
- events: EventBridge's deliveries to a log group with whole-millisecond timestamps (moto's
  are floats, which AWS's model and the Rust SDK refuse)
- s3: a bucket's versioning, public access block and lifecycle rules; AWS::S3::BucketPolicy;
  GetBucketVersioning's answer under S3's own root element
- cloudwatch: AWS::CloudWatch::Alarm, AWS::CloudWatch::CompositeAlarm; DescribeAlarmHistory
  (state changes, from what moto records)
- kms: AWS::KMS::Key with its KeyPolicy as an object (moto takes only a JSON string)
- cloudformation: YAML short forms read as CloudFormation reads them (GetAtt, functions over
  mappings, Fn::Cidr, Fn::GetAZs); UpdateTerminationProtection, honoured by DeleteStack; the
  outputs and exports of stacks made or changed by change sets; a refused deletion leaves the
  stack DELETE_FAILED; a deleted stack has no outputs; an update whose rollback cannot restore
  what was deleted behind its back (UPDATE_ROLLBACK_FAILED) and ContinueUpdateRollback

Module names matter: moto takes the second dotted part of a model's module as its service.
test_extensions.py checks every resource with boto3, which parses by AWS's service models.
"""

from . import backup, backup_audit, backup_jobs, cloudformation, cloudwatch, ec2, eks, eks_api, elasticache, events, iam, kms, rds, s3, secretsmanager, servicequotas  # noqa: F401
