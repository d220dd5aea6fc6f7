# SPDX-License-Identifier: Apache-2.0
"""A stack's AWS side in process (moto: S3, SageMaker, IAM, EventBridge Scheduler), and the functions' environment.

Each test gets a fresh account, in a region and with an account id unlike any default, so a value the functions
took from anywhere but their environment and session shows up as a mismatch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import quote_plus

import pytest

ASSUME = json.dumps({"Version": "2012-10-17", "Statement": []})


@dataclass
class Stack:
    """What cloud/template.yaml would have made, and the functions' environment pointing at it."""

    region: str
    account: str
    bucket: str
    env: dict[str, str]
    s3: Any
    sagemaker: Any
    scheduler: Any
    clock: list[datetime]

    @property
    def trigger_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:stack-retrain-trigger"

    @property
    def context(self) -> SimpleNamespace:
        return SimpleNamespace(invoked_function_arn=self.trigger_arn)

    def upload_event(self, *keys: str) -> dict[str, Any]:
        """An S3 ObjectCreated notification (keys URL-encoded, as S3 sends them)."""
        return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": self.region,
                             "s3": {"bucket": {"name": self.bucket}, "object": {"key": quote_plus(key), "size": 100}}}
                            for key in keys]}

    def schedules(self) -> dict[str, dict[str, Any]]:
        """Every debounce schedule of the group, by name, as GetSchedule describes it."""
        group = self.env["SCHEDULE_GROUP"]
        out = {}
        for summary in self.scheduler.list_schedules(GroupName=group)["Schedules"]:
            out[summary["Name"]] = self.scheduler.get_schedule(Name=summary["Name"], GroupName=group)
        return out

    def jobs(self) -> list[dict[str, Any]]:
        summaries = self.sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
        return [self.sagemaker.describe_training_job(TrainingJobName=s["TrainingJobName"]) for s in summaries]


@pytest.fixture(params=[("eu-central-2", "210987654321"), ("ap-southeast-4", "109876543210")], ids=["zurich", "melbourne"])
def stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    # Imported here: tests/tensorflow runs under TensorFlow's venv, which has neither boto3 nor moto.
    import boto3
    from moto import mock_aws

    from functions import aws, trigger

    region, account = request.param
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    clock = [datetime(2026, 12, 6, 11, 0, 0, tzinfo=timezone.utc)]
    monkeypatch.setattr(trigger, "now", lambda: clock[0])
    monkeypatch.setattr(trigger, "_uploaded", {})
    aws.forget()
    with mock_aws():
        bucket = f"clemap-lake-{account}"
        s3 = boto3.client("s3", region_name=region)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        iam = boto3.client("iam", region_name=region)
        training_role = iam.create_role(RoleName="stack-TrainingRole", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
        scheduler_role = iam.create_role(RoleName="stack-SchedulerRole", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
        scheduler = boto3.client("scheduler", region_name=region)
        scheduler.create_schedule_group(Name="stack-retrain")
        env = {
            "BUCKET": bucket, "DATA_PREFIX": "data/", "CODE_PREFIX": "training-code/", "OUTPUT_PREFIX": "training-output/",
            "TRAINING_SCOPE": "device",
            "TRAINING_IMAGE": f"{account}.dkr.ecr.{region}.amazonaws.com/tensorflow-training:2.16-cpu-py310",
            "SAGEMAKER_ROLE_ARN": training_role, "INSTANCE_TYPE": "ml.m5.large", "VOLUME_SIZE_GB": "5",
            "MAX_RUNTIME_SECONDS": "3600", "JOB_PREFIX": "clemap", "HYPERPARAMETERS": json.dumps({"window": 60, "epochs": 12}),
            "QUIET_SECONDS": "900", "MIN_HOURS_BETWEEN_JOBS": "24", "SCHEDULE_GROUP": "stack-retrain",
            "SCHEDULER_ROLE_ARN": scheduler_role, "MODEL_PREFIX": "models/",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield Stack(region=region, account=account, bucket=bucket, env=env, s3=s3,
                    sagemaker=boto3.client("sagemaker", region_name=region), scheduler=scheduler, clock=clock)


def hour_key(device: str, hour: int, day: str = "2026-12-01", prefix: str = "data/") -> str:
    """The exporter's key for one hour (LakeLayout.hourKey)."""
    return f"{prefix}minutes/device={device}/date={day}/hour={hour:02d}.csv"
