# SPDX-License-Identifier: Apache-2.0
"""PublishModel: a completed training job's `model.tar.gz` → `<MODEL_PREFIX>device=<id>/<job>/model.tar.gz`.

EventBridge delivers "SageMaker Training Job State Change". The event is only a hint: the job is described again, and
only a job of ours (`JOB_PREFIX-…`, tagged with its device) that Completed is published. A job the training script
refused has failed, so it has no artifact to publish; a completed job whose reported skill is not positive is
refused here too. Publishing copies and never deletes or overwrites: every model stays under its job's name, so the
device's history of models (and a rollback) stays in the bucket; the device takes the newest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions import aws, names
from functions.settings import PublishSettings

logger = logging.getLogger("clemap.publish-model")
logger.setLevel(logging.INFO)


@dataclass
class Clients:
    s3: Any
    sagemaker: Any

    @classmethod
    def default(cls) -> Clients:
        return cls(s3=aws.client("s3"), sagemaker=aws.client("sagemaker"))


def handler(event: dict[str, Any], context: Any, clients: Clients | None = None) -> dict[str, Any]:
    """Lambda's entry point: returns what was published, or why nothing was."""
    settings = PublishSettings.from_environment()
    clients = clients or Clients.default()
    job = (event.get("detail") or {}).get("TrainingJobName")
    if not isinstance(job, str) or not job:
        raise ValueError("PublishModel: the event has no detail.TrainingJobName; wire only the EventBridge rule on "
                         "'SageMaker Training Job State Change' to it")
    if not job.startswith(settings.job_prefix + "-"):
        return _skip(job, f"not a job of this stack (its name does not start with {settings.job_prefix}-)")
    description = clients.sagemaker.describe_training_job(TrainingJobName=job)
    status = description["TrainingJobStatus"]
    if status != "Completed":
        return _skip(job, f"its status is {status}: {description.get('FailureReason', 'no model')}")
    tags = clients.sagemaker.list_tags(ResourceArn=description["TrainingJobArn"]).get("Tags", [])
    device = next((t["Value"] for t in tags if t["Key"] == names.DEVICE_TAG), None)
    if device is None:
        return _skip(job, f"it has no {names.DEVICE_TAG} tag (started by hand?): tag it with the device to publish to")
    skill = next((m["Value"] for m in description.get("FinalMetricDataList", []) if m["MetricName"] == "validation:skill"), None)
    if skill is not None and not skill > 0:
        return _skip(job, f"its skill against persistence is {skill}, not above 0")
    source = description["ModelArtifacts"]["S3ModelArtifacts"]
    source_bucket, _, source_key = source.removeprefix("s3://").partition("/")
    if not _exists(clients.s3, source_bucket, source_key):
        return _skip(job, f"its artifact {source} is missing (deleted, or the job wrote elsewhere)")
    destination = names.model_key(settings.model_prefix, device, job)
    if _exists(clients.s3, settings.bucket, destination):
        return _skip(job, f"s3://{settings.bucket}/{destination} is already published (an event delivered twice)")
    metadata = {"training-job": job, "device": device}
    if skill is not None:
        metadata["skill"] = f"{skill:.4f}"
    clients.s3.copy_object(Bucket=settings.bucket, Key=destination, CopySource={"Bucket": source_bucket, "Key": source_key},
                           MetadataDirective="REPLACE", Metadata=metadata, ContentType="application/gzip")
    logger.info("published %s for device %s: %s → s3://%s/%s", job, device, source, settings.bucket, destination)
    return {"published": f"s3://{settings.bucket}/{destination}", "device": device, "job": job}


def _skip(job: str, reason: str) -> dict[str, Any]:
    logger.info("not publishing %s: %s", job, reason)
    return {"published": None, "job": job, "reason": reason}


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
