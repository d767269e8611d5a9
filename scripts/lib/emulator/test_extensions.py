"""Checks Vigil's moto extensions with boto3, which parses every answer by AWS's own service
models: the platform bundle's nine stacks deploy into the extended emulator, each resource
type the extensions add is found through its service's API with what the template asked for,
an update changes it in place, and deleting the stacks removes it (keeping what the templates
retain). Run by scripts/test: python test_extensions.py (moto's venv)."""

import base64
import json
import os
import subprocess
import sys
import unittest
import urllib.parse

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLE = os.path.join(HERE, "..", "..", "..", "deploy-bundles")
ORDER = ["security", "network", "storage", "database", "cache", "cluster", "observability", "backup", "alarms"]
ENV = "check"


def template(stack):
    with open(os.path.join(BUNDLE, "cloudformation", f"{stack}.yaml")) as f:
        return f.read()


KUBE_URL = "https://127.0.0.1:6443"
KUBE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
# The secondary region's clusters have a server of their own.
KUBE_URL_2 = "https://127.0.0.1:6444"
KUBE_CA_2 = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n").decode()


class Extensions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The clusters' Kubernetes API is a given server (site.py); Aurora stays moto's own.
        env = {
            **os.environ,
            "VIGIL_EMULATOR_KUBERNETES": KUBE_URL,
            "VIGIL_EMULATOR_KUBERNETES_CA": KUBE_CA,
            "VIGIL_EMULATOR_KUBERNETES_EU_WEST_2": KUBE_URL_2,
            "VIGIL_EMULATOR_KUBERNETES_EU_WEST_2_CA": KUBE_CA_2,
        }
        env.pop("VIGIL_EMULATOR_POSTGRES", None)
        cls.server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "serve.py"), "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.PIPE,
            stderr=open(os.environ.get("EMULATOR_LOG", os.devnull), "w"),
            env=env,
            text=True,
        )
        # The server prints "port N" once it listens on the port the system gave it.
        line = cls.server.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the emulator did not start (it said {line!r}; EMULATOR_LOG=file keeps its log)")
        port = int(line.split()[1])
        kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
        cls.kw = kw
        cls.client = staticmethod(lambda service: boto3.client(service, **kw))
        cls.outputs = {}
        with open(os.path.join(BUNDLE, "tiers.json")) as f:
            tiers = json.load(f)
        cf = cls.client("cloudformation")
        for stack in ORDER:
            body = template(stack)
            wanted = [p["ParameterKey"] for p in cf.get_template_summary(TemplateBody=body)["Parameters"]]
            values = {"Environment": ENV, **tiers["small"]["parameters"].get(stack, {})}
            values.update({k: v for k, v in cls.outputs.items() if k in wanted and k not in values})
            cf.create_stack(
                StackName=f"pj-{ENV}-{stack}",
                TemplateBody=body,
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in wanted],
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
            described = cf.describe_stacks(StackName=f"pj-{ENV}-{stack}")["Stacks"][0]
            assert described["StackStatus"] == "CREATE_COMPLETE", (stack, described["StackStatus"])
            cls.outputs.update({o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])})

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait()
        cls.server.stdout.close()

    def test_eks_cluster_and_nodegroup(self):
        eks = self.client("eks")
        cluster = eks.describe_cluster(name=self.outputs["ClusterName"])["cluster"]
        self.assertEqual(cluster["status"], "ACTIVE")
        self.assertEqual(cluster["version"], "1.35")
        self.assertEqual(cluster["endpoint"], self.outputs["ClusterEndpoint"])
        self.assertEqual((cluster["endpoint"], cluster["certificateAuthority"]["data"]), (KUBE_URL, KUBE_CA))
        self.assertEqual(cluster["identity"]["oidc"]["issuer"], self.outputs["OidcIssuer"])
        self.assertEqual(cluster["encryptionConfig"][0]["provider"]["keyArn"], self.outputs["ClusterKeyArn"])
        self.assertEqual(len(cluster["resourcesVpcConfig"]["subnetIds"]), 3)
        self.assertEqual(sorted(cluster["logging"]["clusterLogging"][0]["types"]), ["api", "audit", "authenticator", "controllerManager", "scheduler"])
        group = eks.describe_nodegroup(clusterName=self.outputs["ClusterName"], nodegroupName=self.outputs["NodeGroupName"].split("/")[-1])["nodegroup"]
        self.assertEqual(group["instanceTypes"], ["m7i.2xlarge"])
        self.assertEqual(group["scalingConfig"], {"minSize": 3, "desiredSize": 3, "maxSize": 5})
        self.assertEqual(group["status"], "ACTIVE")
        providers = self.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
        self.assertEqual(len(providers), 1)
        # A second cluster gets an issuer of its own.
        cf = self.client("cloudformation")
        body = json.dumps({"Resources": {"Other": {"Type": "AWS::EKS::Cluster", "Properties": {
            "Name": "other", "RoleArn": cluster["roleArn"], "ResourcesVpcConfig": {"SubnetIds": cluster["resourcesVpcConfig"]["subnetIds"]}}}}})
        cf.create_stack(StackName="second-cluster", TemplateBody=body)
        other = eks.describe_cluster(name="other")["cluster"]["identity"]["oidc"]["issuer"]
        self.assertNotEqual(other, cluster["identity"]["oidc"]["issuer"])
        cf.delete_stack(StackName="second-cluster")
        # A cluster of the same name in the secondary region is that region's server.
        self.regional("cloudformation", "eu-west-2").create_stack(StackName="secondary-cluster", TemplateBody=body)
        secondary = self.regional("eks", "eu-west-2").describe_cluster(name="other")["cluster"]
        self.assertEqual((secondary["endpoint"], secondary["certificateAuthority"]["data"]), (KUBE_URL_2, KUBE_CA_2))
        self.regional("cloudformation", "eu-west-2").delete_stack(StackName="secondary-cluster")

    def test_eks_versions_addons_insights_and_a_version_upgrade(self):
        eks = self.client("eks")
        main = eks.describe_cluster(name=self.outputs["ClusterName"])["cluster"]
        # A cluster of its own (the platform's stays as deployed), with three add-ons by template.
        body = json.dumps({"Resources": {
            "Cluster": {"Type": "AWS::EKS::Cluster", "Properties": {
                "Name": "upgrading", "Version": "1.35", "RoleArn": main["roleArn"], "ResourcesVpcConfig": {"SubnetIds": main["resourcesVpcConfig"]["subnetIds"]}}},
            "Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": {
                "ClusterName": {"Ref": "Cluster"}, "NodegroupName": "nodes", "NodeRole": main["roleArn"], "Subnets": main["resourcesVpcConfig"]["subnetIds"]}},
            "Dns": {"Type": "AWS::EKS::Addon", "Properties": {"ClusterName": {"Ref": "Cluster"}, "AddonName": "coredns", "AddonVersion": "v1.12.1-eksbuild.2"}},
            "Proxy": {"Type": "AWS::EKS::Addon", "Properties": {"ClusterName": {"Ref": "Cluster"}, "AddonName": "kube-proxy"}},
            "Snapshots": {"Type": "AWS::EKS::Addon", "Properties": {"ClusterName": {"Ref": "Cluster"}, "AddonName": "snapshot-controller"}},
        }})
        cf = self.client("cloudformation")
        cf.create_stack(StackName="upgrading-cluster", TemplateBody=body)
        self.assertEqual(eks.describe_nodegroup(clusterName="upgrading", nodegroupName="nodes")["nodegroup"]["version"], "1.35")

        versions = {v["clusterVersion"]: v for v in eks.describe_cluster_versions(includeAll=True)["clusterVersions"]}
        self.assertIn("1.36", versions)
        self.assertLess(versions["1.36"]["endOfStandardSupportDate"], versions["1.36"]["endOfExtendedSupportDate"])
        self.assertIn(versions["1.29"]["versionStatus"], ("EXTENDED_SUPPORT", "UNSUPPORTED"))
        only = eks.describe_cluster_versions(clusterVersions=["1.33"])["clusterVersions"]
        self.assertEqual([v["clusterVersion"] for v in only], ["1.33"])

        self.assertEqual(eks.list_addons(clusterName="upgrading")["addons"], ["coredns", "kube-proxy", "snapshot-controller"])
        proxy = eks.describe_addon(clusterName="upgrading", addonName="kube-proxy")["addon"]
        self.assertEqual((proxy["addonVersion"], proxy["status"]), ("v1.35.0-eksbuild.1", "ACTIVE"))
        offered = eks.describe_addon_versions(kubernetesVersion="1.36", addonName="coredns")["addons"][0]["addonVersions"]
        self.assertEqual([v["addonVersion"] for v in offered], ["v1.13.0-eksbuild.1", "v1.12.4-eksbuild.1"])
        self.assertEqual([v["compatibilities"][0]["defaultVersion"] for v in offered], [True, False])
        # kube-proxy may be up to three minor versions behind the control plane.
        offered = eks.describe_addon_versions(kubernetesVersion="1.36", addonName="kube-proxy")["addons"][0]["addonVersions"]
        self.assertEqual([v["addonVersion"] for v in offered], ["v1.36.0-eksbuild.1", "v1.35.0-eksbuild.1", "v1.34.0-eksbuild.1", "v1.33.0-eksbuild.1"])
        with self.assertRaises(eks.exceptions.ResourceNotFoundException):
            eks.describe_addon(clusterName="upgrading", addonName="vpc-cni")
        # A version that does not run on the cluster's Kubernetes is refused.
        with self.assertRaises(eks.exceptions.InvalidParameterException):
            eks.update_addon(clusterName="upgrading", addonName="snapshot-controller", addonVersion="v8.4.0-eksbuild.1")

        # coredns and snapshot-controller do not run on 1.36, which blocks the upgrade.
        found = {i["name"]: i for i in eks.list_insights(clusterName="upgrading")["insights"]}
        compat = found["EKS add-on version compatibility"]
        self.assertEqual((compat["kubernetesVersion"], compat["insightStatus"]["status"]), ("1.36", "ERROR"))
        detail = eks.describe_insight(clusterName="upgrading", id=compat["id"])["insight"]
        self.assertEqual([d["name"] for d in detail["categorySpecificSummary"]["addonCompatibilityDetails"]], ["coredns", "snapshot-controller"])
        self.assertEqual(found["Kubelet version skew"]["insightStatus"]["status"], "PASSING")
        errors = eks.list_insights(clusterName="upgrading", filter={"statuses": ["ERROR"]})["insights"]
        self.assertEqual([i["name"] for i in errors], ["EKS add-on version compatibility"])
        with self.assertRaises(eks.exceptions.InvalidParameterException):
            eks.update_cluster_version(name="upgrading", version="1.37")
        with self.assertRaises(eks.exceptions.InvalidRequestException):
            eks.update_cluster_version(name="upgrading", version="1.36")

        # An insights refresh completes on its second read.
        self.assertEqual(eks.start_insights_refresh(clusterName="upgrading")["status"], "IN_PROGRESS")
        self.assertEqual(eks.describe_insights_refresh(clusterName="upgrading")["status"], "IN_PROGRESS")
        self.assertEqual(eks.describe_insights_refresh(clusterName="upgrading")["status"], "COMPLETED")

        # coredns is updated to a version for both (the update settles on its second read), the
        # add-on with none is removed, then the control plane is upgraded.
        update = eks.update_addon(clusterName="upgrading", addonName="coredns", addonVersion="v1.12.4-eksbuild.1")["update"]
        self.assertEqual((update["type"], update["status"]), ("AddonUpdate", "InProgress"))
        self.assertEqual(eks.describe_addon(clusterName="upgrading", addonName="coredns")["addon"]["status"], "UPDATING")
        self.assertEqual(eks.list_updates(name="upgrading", addonName="coredns")["updateIds"], [update["id"]])
        reads = [eks.describe_update(name="upgrading", addonName="coredns", updateId=update["id"])["update"]["status"] for _ in range(2)]
        self.assertEqual(reads, ["InProgress", "Successful"])
        self.assertEqual(eks.describe_addon(clusterName="upgrading", addonName="coredns")["addon"]["addonVersion"], "v1.12.4-eksbuild.1")
        eks.delete_addon(clusterName="upgrading", addonName="snapshot-controller")
        self.assertNotIn("ERROR", [i["insightStatus"]["status"] for i in eks.list_insights(clusterName="upgrading")["insights"]])
        update = eks.update_cluster_version(name="upgrading", version="1.36")["update"]
        self.assertEqual(eks.describe_cluster(name="upgrading")["cluster"]["status"], "UPDATING")
        self.assertEqual(eks.list_updates(name="upgrading")["updateIds"], [update["id"]])
        for _ in range(2):
            eks.describe_update(name="upgrading", updateId=update["id"])
        self.assertEqual(eks.describe_cluster(name="upgrading")["cluster"]["version"], "1.36")
        # Now the nodes are a version behind: the skew insight warns until they follow.
        found = {i["name"]: i for i in eks.list_insights(clusterName="upgrading")["insights"]}
        self.assertEqual((found["Kubelet version skew"]["kubernetesVersion"], found["Kubelet version skew"]["insightStatus"]["status"]), ("1.37", "WARNING"))
        with self.assertRaises(eks.exceptions.InvalidParameterException):
            eks.update_nodegroup_version(clusterName="upgrading", nodegroupName="nodes", version="1.37")
        update = eks.update_nodegroup_version(clusterName="upgrading", nodegroupName="nodes")["update"]
        for _ in range(2):
            eks.describe_update(name="upgrading", nodegroupName="nodes", updateId=update["id"])
        group = eks.describe_nodegroup(clusterName="upgrading", nodegroupName="nodes")["nodegroup"]
        self.assertEqual((group["version"], group["status"]), ("1.36", "ACTIVE"))
        self.assertTrue(group["releaseVersion"].startswith("1.36."))
        cf.delete_stack(StackName="upgrading-cluster")

    def test_eks_access_entries(self):
        eks, sts = self.client("eks"), self.client("sts")
        cluster = self.outputs["ClusterName"]
        # The creator (the IAM user behind moto's caller) has cluster admin from the start.
        me = sts.get_caller_identity()["Arn"].replace(":sts::", ":iam::")
        self.assertEqual(eks.list_access_entries(clusterName=cluster)["accessEntries"], [me])
        mine = eks.list_associated_access_policies(clusterName=cluster, principalArn=me)["associatedAccessPolicies"]
        self.assertEqual([p["policyArn"] for p in mine], ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"])
        ops = "arn:aws:iam::123456789012:role/ops-team"
        entry = eks.create_access_entry(clusterName=cluster, principalArn=ops, kubernetesGroups=["viewers"])["accessEntry"]
        self.assertEqual((entry["principalArn"], entry["type"], entry["kubernetesGroups"]), (ops, "STANDARD", ["viewers"]))
        with self.assertRaises(eks.exceptions.ResourceInUseException):
            eks.create_access_entry(clusterName=cluster, principalArn=ops)
        with self.assertRaises(eks.exceptions.InvalidParameterException):
            eks.create_access_entry(clusterName=cluster, principalArn="not-an-arn")
        view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        eks.associate_access_policy(clusterName=cluster, principalArn=ops, policyArn=view, accessScope={"type": "namespace", "namespaces": ["patient-journey"]})
        got = eks.list_associated_access_policies(clusterName=cluster, principalArn=ops)["associatedAccessPolicies"]
        self.assertEqual((got[0]["policyArn"], got[0]["accessScope"]), (view, {"type": "namespace", "namespaces": ["patient-journey"]}))
        self.assertEqual(eks.describe_access_entry(clusterName=cluster, principalArn=ops)["accessEntry"]["username"], ops)
        self.assertEqual(eks.list_access_entries(clusterName=cluster, associatedPolicyArn=view)["accessEntries"], [ops])
        self.assertIn(view, [p["arn"] for p in eks.list_access_policies()["accessPolicies"]])
        eks.disassociate_access_policy(clusterName=cluster, principalArn=ops, policyArn=view)
        self.assertEqual(eks.list_associated_access_policies(clusterName=cluster, principalArn=ops)["associatedAccessPolicies"], [])
        eks.delete_access_entry(clusterName=cluster, principalArn=ops)
        with self.assertRaises(eks.exceptions.ResourceNotFoundException):
            eks.describe_access_entry(clusterName=cluster, principalArn=ops)

    def test_aurora_cluster_with_writer_and_reader_in_other_zones(self):
        rds = self.client("rds")
        cluster = rds.describe_db_clusters(DBClusterIdentifier=self.outputs["ClusterIdentifier"])["DBClusters"][0]
        self.assertEqual(cluster["Engine"], "aurora-postgresql")
        # Available once its stack is complete, as CloudFormation leaves it.
        self.assertEqual(cluster["Status"], "available")
        self.assertTrue(cluster["StorageEncrypted"])
        self.assertTrue(cluster["IAMDatabaseAuthenticationEnabled"])
        self.assertTrue(cluster["DeletionProtection"])
        self.assertEqual(cluster["BackupRetentionPeriod"], 14)
        self.assertEqual(cluster["Endpoint"], self.outputs["WriterEndpoint"])
        self.assertEqual(cluster["MasterUserSecret"]["SecretArn"], self.outputs["MasterSecretArn"])
        members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
        self.assertEqual(members, {f"pj-{ENV}-1": True, f"pj-{ENV}-2": False})
        zones = {i["DBInstanceIdentifier"]: i["AvailabilityZone"] for i in rds.describe_db_instances()["DBInstances"]}
        self.assertEqual(zones, {f"pj-{ENV}-1": "eu-west-1a", f"pj-{ENV}-2": "eu-west-1b"})
        self.client("secretsmanager").describe_secret(SecretId=self.outputs["MasterSecretArn"])
        # The master secret holds the master user, as RDS's does.
        master = json.loads(self.client("secretsmanager").get_secret_value(SecretId=self.outputs["MasterSecretArn"])["SecretString"])
        self.assertEqual(master["username"], "pj_admin")
        self.assertGreaterEqual(len(master["password"]), 24)

    def test_cache_replication_group_and_its_secret(self):
        group = self.client("elasticache").describe_replication_groups(ReplicationGroupId=self.outputs["ReplicationGroupId"])["ReplicationGroups"][0]
        self.assertTrue(group["AtRestEncryptionEnabled"])
        self.assertTrue(group["TransitEncryptionEnabled"])
        self.assertEqual(group["MultiAZ"], "enabled")
        self.assertEqual(group["NodeGroups"][0]["PrimaryEndpoint"]["Address"], self.outputs["PrimaryEndpoint"])
        self.assertEqual(len(group["MemberClusters"]), 2)
        secret = self.client("secretsmanager").get_secret_value(SecretId=self.outputs["AuthTokenSecretArn"])
        self.assertEqual(len(secret["SecretString"]), 64)
        self.assertTrue(secret["SecretString"].isalnum())

    def test_backup_vault_and_plan(self):
        backup = self.client("backup")
        vault = backup.describe_backup_vault(BackupVaultName=self.outputs["VaultName"])
        self.assertEqual(vault["BackupVaultArn"], self.outputs["VaultArn"])
        self.assertEqual(vault["EncryptionKeyArn"], self.outputs["DataKeyArn"])
        plan = backup.get_backup_plan(BackupPlanId=self.outputs["PlanId"])["BackupPlan"]
        rules = {r["RuleName"]: r for r in plan["Rules"]}
        self.assertTrue(rules["continuous"]["EnableContinuousBackup"])
        self.assertEqual(rules["daily"]["TargetBackupVaultName"], self.outputs["VaultName"])
        self.assertEqual(rules["daily"]["Lifecycle"]["DeleteAfterDays"], 35)
        listed = backup.list_backup_selections(BackupPlanId=self.outputs["PlanId"])["BackupSelectionsList"]
        self.assertEqual([s["SelectionName"] for s in listed], [f"pj-{ENV}-tagged"])
        selection = backup.get_backup_selection(BackupPlanId=self.outputs["PlanId"], SelectionId=listed[0]["SelectionId"])["BackupSelection"]
        conditions = {c["ConditionKey"]: c["ConditionValue"] for c in selection["Conditions"]["StringEquals"]}
        self.assertEqual(conditions, {"aws:ResourceTag/pj:backup": "true", "aws:ResourceTag/pj:environment": ENV})
        with self.assertRaises(backup.exceptions.ResourceNotFoundException):
            backup.get_backup_selection(BackupPlanId=self.outputs["PlanId"], SelectionId="no-such-selection")

    def test_buckets_keep_versioning_public_access_block_lifecycle_and_policy(self):
        s3 = self.client("s3")
        bucket = self.outputs["DocumentsBucket"]
        self.assertEqual(s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        self.assertEqual(block, {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        transitions = [t for r in rules for t in r.get("Transitions", [])]
        self.assertEqual([(t["Days"], t["StorageClass"]) for t in transitions], [(90, "STANDARD_IA"), (180, "GLACIER")])
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        tls = [st for st in policy["Statement"] if st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
        self.assertEqual(tls[0]["Effect"], "Deny")
        sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        self.assertEqual((sse["SSEAlgorithm"], sse["KMSMasterKeyID"]), ("aws:kms", self.outputs["DataKeyArn"]))
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        self.assertEqual((tags["pj:backup"], tags["pj:environment"]), ("true", ENV))

    def test_a_resource_failing_in_a_change_set_rolls_its_stack_back(self):
        cf, sqs = self.client("cloudformation"), self.client("sqs")
        body = {
            "Resources": {
                "Fine": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "rollback-fine"}},
                "Broken": {"Type": "AWS::SQS::Queue", "DependsOn": "Fine", "Properties": {"QueueName": "not a queue name!"}},
            }
        }
        cf.create_change_set(StackName="rollback", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=json.dumps(body))
        cf.execute_change_set(StackName="rollback", ChangeSetName="first")
        self.assertEqual(cf.describe_stacks(StackName="rollback")["Stacks"][0]["StackStatus"], "ROLLBACK_COMPLETE")
        failed = [e for e in cf.describe_stack_events(StackName="rollback")["StackEvents"] if e["ResourceStatus"].endswith("_FAILED")]
        self.assertEqual([(e["LogicalResourceId"], e["ResourceStatus"]) for e in failed], [("Broken", "CREATE_FAILED")])
        self.assertIn("alphanumeric", failed[0]["ResourceStatusReason"])
        # What was made is gone; the failed stack can only be deleted.
        self.assertNotIn("rollback-fine", " ".join(sqs.list_queues().get("QueueUrls", [])))
        cf.delete_stack(StackName="rollback")
        with self.assertRaises(cf.exceptions.ClientError):
            cf.describe_stacks(StackName="rollback")

    def test_an_update_that_cannot_roll_back_continues_skipping_what_was_deleted(self):
        cf, logs = self.client("cloudformation"), self.client("logs")
        kept = {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/rollback/kept"}}}
        cf.create_change_set(StackName="unrollable", ChangeSetName="one", ChangeSetType="CREATE", TemplateBody=json.dumps({"Resources": kept}))
        cf.execute_change_set(StackName="unrollable", ChangeSetName="one")
        logs.delete_log_group(logGroupName="/rollback/kept")
        broken = {**kept, "Broken": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "not a queue name!"}}}
        cf.create_change_set(StackName="unrollable", ChangeSetName="two", ChangeSetType="UPDATE", TemplateBody=json.dumps({"Resources": broken}))
        cf.execute_change_set(StackName="unrollable", ChangeSetName="two")
        self.assertEqual(cf.describe_stacks(StackName="unrollable")["Stacks"][0]["StackStatus"], "UPDATE_ROLLBACK_FAILED")
        events = cf.describe_stack_events(StackName="unrollable")["StackEvents"]
        failed = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
        self.assertIn(("Logs", "UPDATE_FAILED"), failed)
        # Only a stack whose rollback failed continues; the skipped resource must be the stack's.
        with self.assertRaises(cf.exceptions.ClientError):
            cf.continue_update_rollback(StackName="unrollable", ResourcesToSkip=["Nothing"])
        cf.continue_update_rollback(StackName="unrollable")
        self.assertEqual(cf.describe_stacks(StackName="unrollable")["Stacks"][0]["StackStatus"], "UPDATE_ROLLBACK_FAILED")
        cf.continue_update_rollback(StackName="unrollable", ResourcesToSkip=["Logs"])
        self.assertEqual(cf.describe_stacks(StackName="unrollable")["Stacks"][0]["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        newest = cf.describe_stack_events(StackName="unrollable")["StackEvents"][:2]
        self.assertEqual([(e["LogicalResourceId"], e["ResourceStatus"]) for e in newest], [("unrollable", "UPDATE_ROLLBACK_COMPLETE"), ("Logs", "UPDATE_COMPLETE")])
        with self.assertRaises(cf.exceptions.ClientError):
            cf.continue_update_rollback(StackName="unrollable")
        cf.delete_stack(StackName="unrollable")

    def test_an_upload_under_input_reaches_the_work_queue(self):
        s3, sqs = self.client("s3"), self.client("sqs")
        bucket, queue = self.outputs["DocumentsBucket"], self.outputs["WorkQueueUrl"]
        config = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
        self.assertEqual([(c["QueueArn"], c["Events"]) for c in config], [(self.outputs["WorkQueueArn"], ["s3:ObjectCreated:*"])])
        self.assertEqual(config[0]["Filter"]["Key"]["FilterRules"], [{"Name": "prefix", "Value": "input/"}])
        s3.put_object(Bucket=bucket, Key="elsewhere/note.txt", Body=b"not for the worker")
        s3.put_object(Bucket=bucket, Key="input/check/note.txt", Body=b"for the worker")
        keys = []
        for _ in range(5):
            for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
                body = json.loads(m["Body"])
                keys += [urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for r in body.get("Records", [])]
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(keys, ["input/check/note.txt"])

    def test_backup_jobs_make_recovery_points_that_restore_to_new_resources(self):
        backup, rds, s3 = self.client("backup"), self.client("rds"), self.client("s3")
        vault = self.outputs["VaultName"]
        cluster = rds.describe_db_clusters(DBClusterIdentifier=self.outputs["ClusterIdentifier"])["DBClusters"][0]
        role = "arn:aws:iam::123456789012:role/backup"
        job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=cluster["DBClusterArn"], IamRoleArn=role, Lifecycle={"DeleteAfterDays": 35})
        described = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
        self.assertEqual((described["State"], described["ResourceType"], described["RecoveryPointArn"]), ("COMPLETED", "Aurora", job["RecoveryPointArn"]))
        # The recovery point is the cluster snapshot AWS Backup made.
        self.assertIn(":cluster-snapshot:awsbackup:job-", job["RecoveryPointArn"])
        snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=cluster["DBClusterIdentifier"], SnapshotType="awsbackup")["DBClusterSnapshots"]
        self.assertEqual([s["DBClusterSnapshotArn"] for s in snapshots], [job["RecoveryPointArn"]])
        point = backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])
        self.assertEqual((point["Status"], point["ResourceArn"], point["Lifecycle"]["DeleteAfterDays"]), ("COMPLETED", cluster["DBClusterArn"], 35))
        self.assertEqual(point["CalculatedLifecycle"]["DeleteAt"] - point["CreationDate"], __import__("datetime").timedelta(days=35))
        by_resource = backup.list_recovery_points_by_resource(ResourceArn=cluster["DBClusterArn"])["RecoveryPoints"]
        self.assertEqual([p["RecoveryPointArn"] for p in by_resource], [job["RecoveryPointArn"]])
        metadata = backup.get_recovery_point_restore_metadata(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])["RestoreMetadata"]
        self.assertEqual((metadata["DBClusterIdentifier"], metadata["EnableIAMDatabaseAuthentication"]), (cluster["DBClusterIdentifier"], "true"))

        # A restore makes a new cluster without instances; over an existing one it fails.
        restore = backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=role, Metadata={**metadata, "DBClusterIdentifier": "restored-1"})
        done = backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])
        self.assertEqual(done["Status"], "COMPLETED", done.get("StatusMessage"))
        restored = rds.describe_db_clusters(DBClusterIdentifier="restored-1")["DBClusters"][0]
        self.assertEqual((done["CreatedResourceArn"], restored["DBClusterMembers"], restored["Engine"]), (restored["DBClusterArn"], [], "aurora-postgresql"))
        self.assertTrue(restored["IAMDatabaseAuthenticationEnabled"])
        again = backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=role, Metadata={**metadata, "DBClusterIdentifier": "restored-1"})
        failed = backup.describe_restore_job(RestoreJobId=again["RestoreJobId"])
        self.assertEqual(failed["Status"], "FAILED")
        self.assertIn("already exists", failed["StatusMessage"])
        self.assertEqual([j["Status"] for j in backup.list_restore_jobs()["RestoreJobs"]], ["FAILED", "COMPLETED"])
        # Instances added to the restored cluster are its members (the source's are not).
        rds.create_db_instance(DBInstanceIdentifier="restored-1-1", DBClusterIdentifier="restored-1", Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
        members = rds.describe_db_clusters(DBClusterIdentifier="restored-1")["DBClusters"][0]["DBClusterMembers"]
        self.assertEqual([m["DBInstanceIdentifier"] for m in members], ["restored-1-1"])
        self.assertNotIn("restored-1-1", [m["DBInstanceIdentifier"] for m in rds.describe_db_clusters(DBClusterIdentifier=cluster["DBClusterIdentifier"])["DBClusters"][0]["DBClusterMembers"]])
        rds.delete_db_instance(DBInstanceIdentifier="restored-1-1", SkipFinalSnapshot=True)
        rds.delete_db_cluster(DBClusterIdentifier="restored-1", SkipFinalSnapshot=True)
        # A start asked again with its idempotency token is the same job (an answer lost, retried).
        twice = [
            backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=role, Metadata={**metadata, "DBClusterIdentifier": "restored-2"}, IdempotencyToken="t-1")["RestoreJobId"]
            for _ in range(2)
        ]
        self.assertEqual(twice[0], twice[1])
        self.assertEqual(len(backup.list_restore_jobs()["RestoreJobs"]), 3)
        rds.delete_db_cluster(DBClusterIdentifier="restored-2", SkipFinalSnapshot=True)

        # S3: the objects come back into a new bucket, or only some prefixes.
        bucket = self.outputs["DocumentsBucket"]
        for key in ("input/a.txt", "output/b.txt"):
            s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        keys = lambda b: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])  # noqa: E731
        backed_up = keys(bucket)
        job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=f"arn:aws:s3:::{bucket}", IamRoleArn=role)
        s3.delete_object(Bucket=bucket, Key="input/a.txt")
        backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=role, Metadata={"DestinationBucketName": "restored-docs", "NewBucket": "true"})
        self.assertEqual(keys("restored-docs"), backed_up)
        self.assertIn("input/a.txt", backed_up)
        metadata = {"DestinationBucketName": bucket, "NewBucket": "false", "ItemsToRestore": json.dumps([f"s3://{bucket}/input/"])}
        backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=role, Metadata=metadata)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="input/a.txt")["Body"].read(), b"input/a.txt")

        # What cannot be backed up: a type AWS Backup does not take here is refused; a resource
        # that is not there fails its job, with the reason.
        with self.assertRaises(backup.exceptions.InvalidParameterValueException):
            backup.start_backup_job(BackupVaultName=vault, ResourceArn="arn:aws:sqs:eu-west-1:123456789012:q", IamRoleArn=role)
        gone = cluster["DBClusterArn"].replace(cluster["DBClusterIdentifier"], "gone")
        missing = backup.start_backup_job(BackupVaultName=vault, ResourceArn=gone, IamRoleArn=role)
        self.assertNotIn("RecoveryPointArn", missing)
        failed = backup.list_backup_jobs(ByState="FAILED", ByResourceArn=gone, ByCreatedAfter=__import__("datetime").datetime(2020, 1, 1))["BackupJobs"]
        self.assertEqual([j["BackupJobId"] for j in failed], [missing["BackupJobId"]])
        self.assertIn("not found", failed[0]["StatusMessage"])
        # Pages, newest first; protected resources with their latest point.
        first = backup.list_backup_jobs(MaxResults=1)
        second = backup.list_backup_jobs(MaxResults=1, NextToken=first["NextToken"])
        self.assertEqual(first["BackupJobs"][0]["BackupJobId"], missing["BackupJobId"])
        self.assertEqual(second["BackupJobs"][0]["ResourceType"], "S3")
        protected = {r["ResourceArn"]: r["LastRecoveryPointArn"] for r in backup.list_protected_resources()["Results"]}
        self.assertEqual(protected[f"arn:aws:s3:::{bucket}"], job["RecoveryPointArn"])
        self.assertIn(cluster["DBClusterArn"], protected)

        # A copy into another region's vault; a locked vault keeps its points and its bounds.
        west = boto3.client("backup", **{**self.kw, "region_name": "us-west-2"})
        west.create_backup_vault(BackupVaultName="dr")
        west.put_backup_vault_lock_configuration(BackupVaultName="dr", MinRetentionDays=7, MaxRetentionDays=400)
        target = west.describe_backup_vault(BackupVaultName="dr")["BackupVaultArn"]
        with self.assertRaises(west.exceptions.InvalidParameterValueException):
            backup.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName=vault, DestinationBackupVaultArn=target, IamRoleArn=role, Lifecycle={"DeleteAfterDays": 3})
        copy = backup.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName=vault, DestinationBackupVaultArn=target, IamRoleArn=role)
        copied = backup.list_copy_jobs()["CopyJobs"][0]
        self.assertEqual((copied["CopyJobId"], copied["State"], copied["SourceRecoveryPointArn"]), (copy["CopyJobId"], "COMPLETED", job["RecoveryPointArn"]))
        in_west = west.list_recovery_points_by_backup_vault(BackupVaultName="dr")["RecoveryPoints"]
        self.assertEqual([(p["RecoveryPointArn"], p["SourceBackupVaultArn"]) for p in in_west], [(copied["DestinationRecoveryPointArn"], self.outputs["VaultArn"])])
        self.assertEqual(west.describe_backup_vault(BackupVaultName="dr")["NumberOfRecoveryPoints"], 1)
        with self.assertRaises(west.exceptions.InvalidRequestException):
            west.delete_recovery_point(BackupVaultName="dr", RecoveryPointArn=copied["DestinationRecoveryPointArn"])
        # A vault's access policy.
        with self.assertRaises(west.exceptions.ResourceNotFoundException):
            west.get_backup_vault_access_policy(BackupVaultName="dr")
        deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}]})
        west.put_backup_vault_access_policy(BackupVaultName="dr", Policy=deny)
        self.assertEqual(json.loads(west.get_backup_vault_access_policy(BackupVaultName="dr")["Policy"]), json.loads(deny))
        backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])
        with self.assertRaises(backup.exceptions.ResourceNotFoundException):
            backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])

    def test_backup_job_state_changes_reach_the_backup_stacks_log_group(self):
        backup, rds, logs, events = self.client("backup"), self.client("rds"), self.client("logs"), self.client("events")
        group = self.outputs["JobEventsLogGroup"]
        self.assertEqual(group, f"/pj/{ENV}/backup-events")
        rule = events.describe_rule(Name=f"pj-{ENV}-backup-jobs")
        self.assertEqual(json.loads(rule["EventPattern"])["source"], ["aws.backup"])
        targets = events.list_targets_by_rule(Rule=f"pj-{ENV}-backup-jobs")["Targets"]
        self.assertTrue(targets[0]["Arn"].endswith(f":log-group:{group}"), targets)
        policies = logs.describe_resource_policies()["resourcePolicies"]
        self.assertIn(f"pj-{ENV}-backup-events", [p["policyName"] for p in policies])
        # A bucket of this test's own (the other tests count the stacks' recovery points).
        self.client("s3").create_bucket(Bucket="job-events-check", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        arn = "arn:aws:s3:::job-events-check"
        job = backup.start_backup_job(BackupVaultName=self.outputs["VaultName"], ResourceArn=arn, IamRoleArn="arn:aws:iam::123456789012:role/backup")
        found = logs.filter_log_events(logGroupName=group, filterPattern=f'"{job["BackupJobId"]}"')["events"]
        got = [json.loads(e["message"]) for e in found]
        # Whole milliseconds (a long in AWS's model; boto3 would take a float too).
        self.assertTrue(all(type(e["timestamp"]) is int for e in found), found)
        self.assertEqual([(e["source"], e["detail-type"]) for e in got], [("aws.backup", "Backup Job State Change")] * 2)
        self.assertEqual([(e["detail"]["backupJobId"], e["detail"]["state"]) for e in got], [(job["BackupJobId"], "RUNNING"), (job["BackupJobId"], "COMPLETED")])
        self.assertEqual((got[1]["detail"]["resourceArn"], got[1]["resources"]), (arn, [arn]))
        # A job of a resource that is gone fails: its event says why.
        cluster = rds.describe_db_clusters(DBClusterIdentifier=self.outputs["ClusterIdentifier"])["DBClusters"][0]
        gone = backup.start_backup_job(BackupVaultName=self.outputs["VaultName"], ResourceArn=cluster["DBClusterArn"] + "-gone", IamRoleArn="arn:aws:iam::123456789012:role/backup")
        last = json.loads(logs.filter_log_events(logGroupName=group, filterPattern=f'"{gone["BackupJobId"]}"')["events"][-1]["message"])
        self.assertEqual(last["detail"]["state"], "FAILED")
        self.assertTrue(last["detail"]["statusMessage"])

    def test_audit_manager_frameworks_keep_their_controls(self):
        backup = self.client("backup")
        controls = [
            {"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED", "ControlScope": {"ComplianceResourceTypes": ["Aurora", "S3"]}},
            {
                "ControlName": "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
                "ControlInputParameters": [{"ParameterName": "requiredRetentionDays", "ParameterValue": "90"}],
            },
        ]
        made = backup.create_framework(FrameworkName="hipaa", FrameworkControls=controls, IdempotencyToken="t")
        self.assertIn(":framework:hipaa-", made["FrameworkArn"])
        listed = backup.list_frameworks()["Frameworks"]
        self.assertEqual([(f["FrameworkName"], f["NumberOfControls"]) for f in listed], [("hipaa", 2)])
        described = backup.describe_framework(FrameworkName="hipaa")
        self.assertEqual((described["FrameworkStatus"], described["DeploymentStatus"]), ("ACTIVE", "COMPLETED"))
        self.assertEqual(described["FrameworkControls"][1]["ControlInputParameters"][0]["ParameterValue"], "90")
        self.assertEqual(described["FrameworkControls"][0]["ControlScope"]["ComplianceResourceTypes"], ["Aurora", "S3"])
        backup.delete_framework(FrameworkName="hipaa")
        with self.assertRaises(backup.exceptions.ResourceNotFoundException):
            backup.describe_framework(FrameworkName="hipaa")

    def test_queues_are_encrypted_and_redrive_to_the_dead_letter_queue(self):
        sqs = self.client("sqs")
        work = sqs.get_queue_attributes(QueueUrl=self.outputs["WorkQueueUrl"], AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=self.outputs["DeadLetterQueueUrl"], AttributeNames=["All"])["Attributes"]
        self.assertEqual(work["KmsMasterKeyId"], self.outputs["DataKeyArn"])
        self.assertEqual(dlq["KmsMasterKeyId"], self.outputs["DataKeyArn"])
        self.assertEqual(json.loads(work["RedrivePolicy"])["deadLetterTargetArn"], dlq["QueueArn"])

    def test_alarms(self):
        described = self.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"pj-{ENV}-")
        names = sorted(a["AlarmName"] for a in described["MetricAlarms"])
        self.assertEqual(len(names), 8, names)
        self.assertIn(f"pj-{ENV}-platform-failed-jobs", names)
        self.assertEqual(len(described["CompositeAlarms"]), 1)
        failed = next(a for a in described["MetricAlarms"] if a["AlarmName"] == f"pj-{ENV}-platform-failed-jobs")
        self.assertEqual(failed["AlarmActions"], [self.outputs["AlarmTopicArn"]])
        self.assertEqual({d["Name"]: d["Value"] for d in failed["Dimensions"]}, {"Environment": ENV, "Component": "deid-worker"})

    def test_alarm_history_has_each_state_change_newest_first(self):
        cw = self.client("cloudwatch")
        name = f"pj-{ENV}-platform-failed-jobs"
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="3 jobs failed")
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="no failed job")
        items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
        self.assertEqual(items[0]["HistorySummary"], "Alarm updated from ALARM to OK")
        self.assertTrue(items[1]["HistorySummary"].endswith(" to ALARM"), items[1])
        self.assertGreaterEqual(items[0]["Timestamp"], items[1]["Timestamp"])
        self.assertEqual(json.loads(items[1]["HistoryData"])["newState"]["stateReason"], "3 jobs failed")
        self.assertEqual(items[0]["AlarmType"], "MetricAlarm")
        self.assertEqual(cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"], [])
        self.assertEqual(len(cw.describe_alarm_history(AlarmName=name, MaxRecords=1)["AlarmHistoryItems"]), 1)

    def test_permissions_simulate_as_allowed_for_a_principal_that_exists(self):
        iam = self.client("iam")
        caller = self.client("sts").get_caller_identity()["Arn"]
        results = iam.simulate_principal_policy(PolicySourceArn=caller, ActionNames=["ec2:CreateVpc", "eks:CreateCluster"])["EvaluationResults"]
        self.assertEqual([(r["EvalActionName"], r["EvalDecision"]) for r in results], [("ec2:CreateVpc", "allowed"), ("eks:CreateCluster", "allowed")])
        role = iam.create_role(RoleName="deployer", Path="/ops/", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.assertEqual(len(iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["s3:GetObject"])["EvaluationResults"]), 1)
        with self.assertRaises(iam.exceptions.NoSuchEntityException):
            iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:role/nobody", ActionNames=["s3:GetObject"])

    def test_service_quotas_of_ec2_eks_and_rds_with_their_usage_metrics(self):
        sq = self.client("service-quotas")
        vcpus = sq.get_service_quota(ServiceCode="ec2", QuotaCode="L-1216C47A")["Quota"]
        self.assertEqual(vcpus["Value"], 1152.0)
        self.assertEqual(vcpus["UsageMetric"]["MetricDimensions"]["Resource"], "vCPU")
        for service, code in [("ec2", "L-0263D0A3"), ("eks", "L-1194D53C"), ("rds", "L-952B80B8"), ("rds", "L-7B6409FD"), ("vpc", "L-F678F1CE"), ("vpc", "L-FE5A380F")]:
            self.assertGreater(sq.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"], 0, code)
        with self.assertRaises(sq.exceptions.NoSuchResourceException):
            sq.get_service_quota(ServiceCode="ec2", QuotaCode="L-NOTHING")

    def test_kms_keys_rotate(self):
        kms = self.client("kms")
        for output in ("DataKeyArn", "LogsKeyArn", "ClusterKeyArn"):
            key = self.outputs[output]
            self.assertEqual(kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"], "Enabled")
            self.assertTrue(kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])
            json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])

    def test_termination_protection_is_kept_and_honoured(self):
        cf = self.client("cloudformation")
        body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        cf.create_stack(StackName="protected", TemplateBody=body)
        cf.update_termination_protection(StackName="protected", EnableTerminationProtection=True)
        self.assertTrue(cf.describe_stacks(StackName="protected")["Stacks"][0]["EnableTerminationProtection"])
        with self.assertRaisesRegex(Exception, "TerminationProtection is enabled"):
            cf.delete_stack(StackName="protected")
        cf.update_termination_protection(StackName="protected", EnableTerminationProtection=False)
        cf.delete_stack(StackName="protected")
        self.assertEqual([s for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == "protected"][0]["StackStatus"], "DELETE_COMPLETE")

    def test_change_sets_give_stacks_their_outputs_and_exports(self):
        cf = self.client("cloudformation")
        body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  Arn:\n    Value: !GetAtt Q.Arn\n    Export: { Name: made-by-change-set }\n"
        cf.create_change_set(StackName="by-change-set", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=body)
        cf.execute_change_set(StackName="by-change-set", ChangeSetName="c1")
        outputs = cf.describe_stacks(StackName="by-change-set")["Stacks"][0]["Outputs"]
        self.assertEqual([o["OutputKey"] for o in outputs], ["Arn"])
        self.assertIn("made-by-change-set", [e["Name"] for e in cf.list_exports()["Exports"]])
        importer = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Select [5, !Split [':', !ImportValue made-by-change-set]]\n"
        cf.create_change_set(StackName="importer", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=importer)
        cf.execute_change_set(StackName="importer", ChangeSetName="c1")
        queue = [e["Value"] for e in cf.list_exports()["Exports"] if e["Name"] == "made-by-change-set"][0].split(":")[5]
        topics = [t["TopicArn"] for t in self.client("sns").list_topics()["Topics"]]
        self.assertIn(f"arn:aws:sns:eu-west-1:123456789012:{queue}", topics)
        cf.delete_stack(StackName="importer")
        cf.create_change_set(StackName="by-change-set", ChangeSetName="c2", ChangeSetType="UPDATE", TemplateBody=body.split("Outputs:")[0])
        cf.execute_change_set(StackName="by-change-set", ChangeSetName="c2")
        self.assertNotIn("made-by-change-set", [e["Name"] for e in cf.list_exports()["Exports"]])
        cf.delete_stack(StackName="by-change-set")

    def regional(self, service, region):
        return boto3.client(service, **{**self.kw, "region_name": region})

    def test_a_cluster_failover_moves_the_writer_over_a_read(self):
        rds = self.regional("rds", "eu-west-2")
        rds.create_db_cluster(DBClusterIdentifier="fo", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password1")
        for name, zone in (("fo-1", "eu-west-2a"), ("fo-2", "eu-west-2b")):
            rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="fo", Engine="aurora-postgresql", DBInstanceClass="db.r6g.large", AvailabilityZone=zone)
        rds.describe_db_clusters(DBClusterIdentifier="fo")  # past moto's "creating"
        rds.failover_db_cluster(DBClusterIdentifier="fo", TargetDBInstanceIdentifier="fo-2")
        reads = [rds.describe_db_clusters(DBClusterIdentifier="fo")["DBClusters"][0] for _ in range(2)]
        self.assertEqual([r["Status"] for r in reads], ["failing-over", "available"])
        self.assertEqual({m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in reads[1]["DBClusterMembers"]}, {"fo-1": False, "fo-2": True})
        # A second failover is refused while one is under way.
        rds.failover_db_cluster(DBClusterIdentifier="fo", TargetDBInstanceIdentifier="fo-1")
        with self.assertRaises(rds.exceptions.InvalidDBClusterStateFault):
            rds.failover_db_cluster(DBClusterIdentifier="fo", TargetDBInstanceIdentifier="fo-2")
        for name in ("fo-1", "fo-2"):
            rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
        rds.delete_db_cluster(DBClusterIdentifier="fo", SkipFinalSnapshot=True)

    def test_a_point_in_time_restore_makes_a_new_cluster_within_the_window(self):
        rds = self.regional("rds", "eu-west-2")
        rds.create_db_cluster(DBClusterIdentifier="pitr-src", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password1", EnableIAMDatabaseAuthentication=True, Port=5433)
        rds.create_db_instance(DBInstanceIdentifier="pitr-src-1", DBClusterIdentifier="pitr-src", Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
        source = rds.describe_db_clusters(DBClusterIdentifier="pitr-src")["DBClusters"][0]
        restored = rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="pitr-new",
            SourceDBClusterIdentifier="pitr-src",
            UseLatestRestorableTime=True,
            EnableIAMDatabaseAuthentication=True,
            Tags=[{"Key": "pj:restored-from", "Value": "pitr-src"}],
        )["DBCluster"]
        # A new cluster with the source's settings, no instances, its own identity and tags.
        self.assertEqual((restored["DBClusterIdentifier"], restored["Engine"], restored["Port"], restored["DBClusterMembers"]), ("pitr-new", "aurora-postgresql", 5433, []))
        self.assertTrue(restored["IAMDatabaseAuthenticationEnabled"])
        self.assertNotEqual(restored["DbClusterResourceId"], source["DbClusterResourceId"])
        self.assertEqual(restored["TagList"], [{"Key": "pj:restored-from", "Value": "pitr-src"}])
        self.assertEqual([m["DBInstanceIdentifier"] for m in rds.describe_db_clusters(DBClusterIdentifier="pitr-src")["DBClusters"][0]["DBClusterMembers"]], ["pitr-src-1"])
        # An identifier in use is refused, and the cluster it names is left as it was.
        with self.assertRaises(rds.exceptions.DBClusterAlreadyExistsFault):
            rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="pitr-src", SourceDBClusterIdentifier="pitr-new", UseLatestRestorableTime=True)
        self.assertEqual(len(rds.describe_db_clusters(DBClusterIdentifier="pitr-src")["DBClusters"][0]["DBClusterMembers"]), 1)
        # A time within the window restores; one before it (or to come) is refused.
        now = __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
        rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="pitr-at", SourceDBClusterIdentifier="pitr-src", RestoreToTime=now)
        for when in (now - __import__("datetime").timedelta(days=40), now + __import__("datetime").timedelta(hours=1)):
            with self.assertRaises(rds.exceptions.InvalidRestoreFault):
                rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="pitr-late", SourceDBClusterIdentifier="pitr-src", RestoreToTime=when)
        with self.assertRaises(rds.exceptions.DBClusterNotFoundFault):
            rds.describe_db_clusters(DBClusterIdentifier="pitr-late")
        rds.delete_db_instance(DBInstanceIdentifier="pitr-src-1", SkipFinalSnapshot=True)
        for name in ("pitr-new", "pitr-at", "pitr-src"):
            rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)

    def test_a_global_database_switches_over_and_fails_over_between_regions(self):
        primary, secondary = self.regional("rds", "eu-west-2"), self.regional("rds", "eu-central-1")
        a = primary.create_db_cluster(DBClusterIdentifier="gp", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password1")["DBCluster"]["DBClusterArn"]
        # Made by the database stack's AWS::RDS::GlobalCluster from the primary cluster.
        body = json.dumps({"Resources": {"Global": {"Type": "AWS::RDS::GlobalCluster", "Properties": {"GlobalClusterIdentifier": "pj-g", "SourceDBClusterIdentifier": a, "DeletionProtection": True}}}})
        self.regional("cloudformation", "eu-west-2").create_stack(StackName="global", TemplateBody=body)
        b = secondary.create_db_cluster(DBClusterIdentifier="gs", Engine="aurora-postgresql", GlobalClusterIdentifier="pj-g")["DBCluster"]["DBClusterArn"]

        def state():
            g = primary.describe_global_clusters(GlobalClusterIdentifier="pj-g")["GlobalClusters"][0]
            return g["Status"], g.get("FailoverState", {}).get("Status"), {m["DBClusterArn"]: m["IsWriter"] for m in g["GlobalClusterMembers"]}

        self.assertEqual(state(), ("available", None, {a: True, b: False}))
        g = primary.switchover_global_cluster(GlobalClusterIdentifier="pj-g", TargetDbClusterIdentifier=b)["GlobalCluster"]
        self.assertEqual((g["FailoverState"]["FromDbClusterArn"], g["FailoverState"]["ToDbClusterArn"], g["FailoverState"]["IsDataLossAllowed"]), (a, b, False))
        # One step per read; the writer moves when it ends.
        self.assertEqual(state(), ("switching-over", "failing-over", {a: True, b: False}))
        with self.assertRaises(primary.exceptions.InvalidGlobalClusterStateFault):
            primary.switchover_global_cluster(GlobalClusterIdentifier="pj-g", TargetDbClusterIdentifier=b)
        self.assertEqual(state(), ("available", None, {a: False, b: True}))
        # An unplanned failover back, accepting data loss.
        g = secondary.failover_global_cluster(GlobalClusterIdentifier="pj-g", TargetDbClusterIdentifier=a, AllowDataLoss=True)["GlobalCluster"]
        self.assertTrue(g["FailoverState"]["IsDataLossAllowed"])
        self.assertEqual(state()[0], "failing-over")
        self.assertEqual(state(), ("available", None, {a: True, b: False}))
        # Refusals, by AWS's own error shapes.
        with self.assertRaises(primary.exceptions.InvalidGlobalClusterStateFault):
            primary.switchover_global_cluster(GlobalClusterIdentifier="pj-g", TargetDbClusterIdentifier=a)
        with self.assertRaises(primary.exceptions.GlobalClusterNotFoundFault):
            primary.switchover_global_cluster(GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=b)
        with self.assertRaises(primary.exceptions.ClientError) as e:
            primary.failover_global_cluster(GlobalClusterIdentifier="pj-g", TargetDbClusterIdentifier=b)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterCombination")
        secondary.remove_from_global_cluster(GlobalClusterIdentifier="pj-g", DbClusterIdentifier=b)
        primary.remove_from_global_cluster(GlobalClusterIdentifier="pj-g", DbClusterIdentifier=a)
        primary.delete_global_cluster(GlobalClusterIdentifier="pj-g")
        secondary.delete_db_cluster(DBClusterIdentifier="gs", SkipFinalSnapshot=True)
        primary.delete_db_cluster(DBClusterIdentifier="gp", SkipFinalSnapshot=True)

    def test_zz_update_in_place_then_delete_keeps_what_is_retained(self):
        cf = self.client("cloudformation")
        name = f"pj-{ENV}-cluster"
        body = template("cluster")
        # Every value given (as Vigil does; moto's UsePreviousValue in a change set answers 500).
        params = [{"ParameterKey": p["ParameterKey"], "ParameterValue": "4" if p["ParameterKey"] == "NodesDesired" else p["ParameterValue"]} for p in cf.describe_stacks(StackName=name)["Stacks"][0]["Parameters"]]
        cf.create_change_set(StackName=name, ChangeSetName="more-nodes", ChangeSetType="UPDATE", TemplateBody=body, Parameters=params, Capabilities=["CAPABILITY_NAMED_IAM"])
        cf.execute_change_set(StackName=name, ChangeSetName="more-nodes")
        eks = self.client("eks")
        group = eks.describe_nodegroup(clusterName=self.outputs["ClusterName"], nodegroupName=self.outputs["NodeGroupName"].split("/")[-1])["nodegroup"]
        self.assertEqual(group["scalingConfig"]["desiredSize"], 4)
        rds = self.client("rds")
        for stack in reversed(ORDER):
            cf.delete_stack(StackName=f"pj-{ENV}-{stack}")
        # The cluster's deletion protection holds: the stack stays, DELETE_FAILED with RDS's reason.
        database = cf.describe_stacks(StackName=f"pj-{ENV}-database")["Stacks"][0]
        self.assertEqual(database["StackStatus"], "DELETE_FAILED")
        failed = [e for e in cf.describe_stack_events(StackName=f"pj-{ENV}-database")["StackEvents"] if e["ResourceStatus"] == "DELETE_FAILED"]
        self.assertIn("disable deletion protection", failed[0]["ResourceStatusReason"])
        self.assertEqual(len(rds.describe_db_clusters()["DBClusters"]), 1)
        # It keeps its outputs and lists only what is left (the instances went first).
        self.assertIn("ClusterIdentifier", [o["OutputKey"] for o in database["Outputs"]])
        left = [r["LogicalResourceId"] for r in cf.list_stack_resources(StackName=f"pj-{ENV}-database")["StackResourceSummaries"]]
        self.assertIn("Cluster", left)
        self.assertNotIn("Writer", left)
        self.assertEqual(len(rds.describe_db_instances()["DBInstances"]), 0)
        rds.modify_db_cluster(DBClusterIdentifier=self.outputs["ClusterIdentifier"], DeletionProtection=False, ApplyImmediately=True)
        cf.delete_stack(StackName=f"pj-{ENV}-database")
        for stack in ["database", "storage", "network", "security"]:
            cf.delete_stack(StackName=f"pj-{ENV}-{stack}")
        # A deleted stack is found by its id (not its name), with its events.
        gone = cf.describe_stacks(StackName=database["StackId"])["Stacks"][0]
        self.assertEqual(gone["StackStatus"], "DELETE_COMPLETE")
        self.assertEqual(cf.describe_stack_events(StackName=database["StackId"])["StackEvents"][0]["ResourceStatus"], "DELETE_COMPLETE")
        self.assertEqual(eks.list_clusters()["clusters"], [])
        self.assertEqual(rds.describe_db_clusters()["DBClusters"], [])
        snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=self.outputs["ClusterIdentifier"], SnapshotType="manual")["DBClusterSnapshots"]
        self.assertEqual(len(snapshots), 1)
        self.assertTrue(snapshots[0]["DBClusterSnapshotIdentifier"].startswith(f"pj-{ENV}-final-"))
        self.assertEqual(self.client("elasticache").describe_replication_groups()["ReplicationGroups"][0]["Status"], "deleting")
        self.assertEqual(self.client("cloudwatch").describe_alarms()["MetricAlarms"], [])
        ec2 = self.client("ec2")
        self.assertEqual(ec2.describe_vpc_endpoints()["VpcEndpoints"], [])
        self.assertEqual(ec2.describe_nat_gateways()["NatGateways"], [])
        self.assertEqual(ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [self.outputs["VpcId"]]}])["Vpcs"], [])
        self.assertEqual([s["StackName"] for s in cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"], [])
        # DeletionPolicy Retain: the vault stays.
        self.client("backup").describe_backup_vault(BackupVaultName=self.outputs["VaultName"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
