#!/usr/bin/env python3
"""The sandbox's platform resources in the AWS emulator, with boto3 (installed with moto).

  sandbox_platform.py setup            bucket, work queue + dead-letter queue, bucket notification;
                                       prints shell assignments (PJ_BUCKET, PJ_QUEUE_URL, PJ_DLQ_URL)
  sandbox_platform.py upload DIR       uploads every file of DIR under input/
  sandbox_platform.py ship-logs GROUP STREAM FILE
                                       follows FILE (the worker's JSON log lines) into the log
                                       group, as the cluster's log agent (Fluent Bit) does on EKS

The endpoint and keys come from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / ... in the environment.
"""
import datetime
import json
import os
import sys
import time

import boto3

BUCKET = "pj-documents"
QUEUE = "pj-work"
DLQ = "pj-work-dlq"
MAX_RECEIVE = 5


def clients():
    kw = {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "region_name": os.environ.get("AWS_REGION", "us-east-1")}
    return boto3.client("s3", **kw), boto3.client("sqs", **kw)


def setup():
    s3, sqs = clients()
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    dlq = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE})
    queue = sqs.create_queue(QueueName=QUEUE, Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "300"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "input/"}]}},
        }]},
    )
    print(f"PJ_BUCKET={BUCKET}")
    print(f"PJ_QUEUE_URL={queue}")
    print(f"PJ_DLQ_URL={dlq}")


def upload(folder):
    s3, _ = clients()
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    for n in names:
        with open(os.path.join(folder, n), "rb") as f:
            s3.put_object(Bucket=BUCKET, Key=f"input/{n}", Body=f.read())
    print(f"uploaded {len(names)} files to s3://{BUCKET}/input/")


def event(line):
    """A log event: the line's own timestamp (the worker's JSON field) or now."""
    millis = int(time.time() * 1000)
    try:
        at = json.loads(line).get("timestamp")
        if at:
            millis = int(datetime.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)
    except (ValueError, AttributeError):
        pass
    return {"timestamp": millis, "message": line}


def ship_logs(group, stream, path):
    logs = boto3.client("logs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
    for create, kw in [(logs.create_log_group, {}), (logs.create_log_stream, {"logStreamName": stream})]:
        try:
            create(logGroupName=group, **kw)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
    with open(path, encoding="utf-8", errors="replace") as f:
        batch, partial = [], ""
        while True:
            chunk = f.readline()
            partial += chunk
            if partial.endswith("\n"):
                if partial.strip():
                    batch.append(event(partial.rstrip("\n")))
                partial = ""
            # Send when the file has nothing more for now, or a batch is full.
            if batch and (not chunk or len(batch) >= 500):
                batch.sort(key=lambda e: e["timestamp"])
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
                batch = []
            if not chunk:
                time.sleep(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["setup"]:
        setup()
    elif sys.argv[1:2] == ["upload"] and len(sys.argv) == 3:
        upload(sys.argv[2])
    elif sys.argv[1:2] == ["ship-logs"] and len(sys.argv) == 5:
        ship_logs(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
