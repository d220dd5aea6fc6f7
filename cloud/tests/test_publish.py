# SPDX-License-Identifier: Apache-2.0
"""PublishModel against moto: only completed jobs of ours, to their device's prefix, never deleting or overwriting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conftest import Stack, hour_key
from functions import names, publish, trigger

CLOUD = Path(__file__).resolve().parents[1]


def state_change(job: str, status: str = "Completed") -> dict[str, Any]:
    """The EventBridge event SageMaker sends (only the fields PublishModel reads are relied on)."""
    return {"version": "0", "source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change",
            "detail": {"TrainingJobName": job, "TrainingJobStatus": status}}


def started_job(stack: Stack, device: str = "SE-A", artifact: bytes = b"model archive") -> tuple[str, str]:
    """A job started by the trigger (moto completes it at once), with SageMaker's artifact in the output prefix."""
    trigger.handler(stack.upload_event(hour_key(device, 5)), stack.context)
    stack.clock[0] = stack.clock[0].replace(hour=12)
    job = trigger.handler({"device": device}, stack.context)["started"]
    artifact_uri = stack.sagemaker.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, _, key = artifact_uri.removeprefix("s3://").partition("/")
    assert bucket == stack.bucket and key == f"training-output/{job}/output/model.tar.gz"
    stack.s3.put_object(Bucket=bucket, Key=key, Body=artifact)
    return job, key


def every_version(stack: Stack) -> tuple[list[tuple[str, str]], list[str]]:
    listing = stack.s3.list_object_versions(Bucket=stack.bucket)
    versions = sorted((v["Key"], v["VersionId"]) for v in listing.get("Versions", []))
    return versions, [m["Key"] for m in listing.get("DeleteMarkers", [])]


class Described:
    """moto completes every job at once; this shows PublishModel a job as SageMaker reports a failed or poor one."""

    def __init__(self, sagemaker: Any, **changes: Any):
        self._sagemaker, self._changes = sagemaker, changes

    def describe_training_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._sagemaker.describe_training_job(**kwargs) | self._changes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sagemaker, name)


def test_a_completed_job_is_copied_to_its_device_prefix_and_nothing_is_deleted(stack: Stack) -> None:
    # Earlier models of the device, published before: they stay.
    for old in ("clemap-SE-A-1-20261101-000000", "clemap-SE-A-1-20261115-000000"):
        stack.s3.put_object(Bucket=stack.bucket, Key=names.model_key("models/", "SE-A", old), Body=old.encode())
    job, artifact = started_job(stack, artifact=b"\x1f\x8b the archive")
    before, _ = every_version(stack)
    result = publish.handler(state_change(job), None)
    destination = f"models/device=SE-A/{job}/model.tar.gz"
    assert result == {"published": f"s3://{stack.bucket}/{destination}", "device": "SE-A", "job": job}
    published = stack.s3.get_object(Bucket=stack.bucket, Key=destination)
    assert published["Body"].read() == b"\x1f\x8b the archive"
    assert published["Metadata"] == {"training-job": job, "device": "SE-A"}
    after, deleted = every_version(stack)
    assert set(before) < set(after) and len(after) == len(before) + 1 and deleted == []
    # Delivered twice (EventBridge delivers at least once): nothing is overwritten.
    again = publish.handler(state_change(job), None)
    assert again["published"] is None and "already published" in again["reason"]
    assert every_version(stack) == (after, [])


def test_only_completed_jobs_of_this_stack_with_a_device_and_a_positive_skill_are_published(stack: Stack) -> None:
    job, _ = started_job(stack)
    sagemaker = stack.sagemaker
    refusals = {
        "failed": (Described(sagemaker, TrainingJobStatus="Failed",
                             FailureReason="AlgorithmError: refused: skill -0.042 is not above min_skill 0.0"), "status is Failed"),
        "stopped": (Described(sagemaker, TrainingJobStatus="Stopped"), "status is Stopped"),
        "poor": (Described(sagemaker, FinalMetricDataList=[{"MetricName": "validation:skill", "Value": -0.01}]), "skill"),
    }
    for what, (client, reason) in refusals.items():
        result = publish.handler(state_change(job), None, publish.Clients(s3=stack.s3, sagemaker=client))
        assert result["published"] is None and reason in result["reason"], (what, result)
    assert stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="models/").get("KeyCount") == 0
    # A job that reports a positive skill is published, with it.
    good = Described(sagemaker, FinalMetricDataList=[{"MetricName": "validation:skill", "Value": 0.183}])
    result = publish.handler(state_change(job), None, publish.Clients(s3=stack.s3, sagemaker=good))
    assert result["published"]
    head = stack.s3.head_object(Bucket=stack.bucket, Key=result["published"].split("/", 3)[3])
    assert head["Metadata"]["skill"] == "0.1830"


def test_a_completed_job_without_its_artifact_is_reported_not_copied(stack: Stack) -> None:
    job, artifact = started_job(stack)
    stack.s3.delete_object(Bucket=stack.bucket, Key=artifact)  # the test's doing: no function deletes
    result = publish.handler(state_change(job), None)
    assert result["published"] is None and f"{artifact} is missing" in result["reason"]


def test_jobs_not_of_this_stack_or_without_a_device_tag_are_left_alone(stack: Stack) -> None:
    assert "not a job of this stack" in publish.handler(state_change("someone-elses-job"), None)["reason"]
    stack.sagemaker.create_training_job(
        TrainingJobName="clemap-by-hand", RoleArn=stack.env["SAGEMAKER_ROLE_ARN"],
        AlgorithmSpecification={"TrainingImage": stack.env["TRAINING_IMAGE"], "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{stack.bucket}/training-output/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 60})
    assert "no clemap:device tag" in publish.handler(state_change("clemap-by-hand"), None)["reason"]
    with pytest.raises(ValueError, match="TrainingJobName"):
        publish.handler({"detail": {}}, None)


def test_no_function_calls_a_delete() -> None:
    # The roles in template.yaml grant no s3:Delete* either (test_template.py).
    for path in sorted((CLOUD / "functions").glob("*.py")):
        assert not re.search(r"delete_object|delete_objects|\.delete\(", path.read_text()), path.name
