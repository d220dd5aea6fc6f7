# SPDX-License-Identifier: Apache-2.0
"""RetrainTrigger: the exporter's uploads → at most one SageMaker training job per device and burst.

Two kinds of event reach `handler`:

1. An S3 notification (ObjectCreated under `<DATA_PREFIX>minutes/`, suffix `.csv`). Each device named in it gets its
   one-time EventBridge Scheduler schedule (re)set to `now + QUIET_SECONDS`, or to when the device may train again
   (`MIN_HOURS_BETWEEN_JOBS` after its last job) if that is later. A device catching up a week of backlog uploads
   168 objects in a few minutes: every upload pushes the schedule out, so it fires once, after the burst, and the job
   sees every hour of it (the original started a job on every write, a retrain storm).
2. The schedule firing, with `{"device": ID}`: the job starts, unless the device's last job is too recent (the
   memory is a small object in the bucket, read again here). The schedule deletes itself after it fired.

No state is kept in the function; every name, ARN and the region come from the environment and the session.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from functions import aws, names
from functions.settings import TriggerSettings
from training import contract

logger = logging.getLogger("clemap.retrain-trigger")
logger.setLevel(logging.INFO)

#: The training script and its module, packed for SageMaker's script mode (`sagemaker_submit_directory`).
TRAINING_SOURCES = Path(__file__).resolve().parent.parent / "training"
TRAINING_PROGRAM = "train.py"

#: What SageMaker reads from the job's log (the lines train.py prints) and shows as the job's metrics.
METRIC_DEFINITIONS = contract.METRIC_DEFINITIONS

#: The clock, replaced by the tests.
now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@dataclass
class Clients:
    s3: Any
    sagemaker: Any
    scheduler: Any

    @classmethod
    def default(cls) -> Clients:
        return cls(s3=aws.client("s3"), sagemaker=aws.client("sagemaker"), scheduler=aws.client("scheduler"))


def handler(event: dict[str, Any], context: Any, clients: Clients | None = None) -> dict[str, Any]:
    """Lambda's entry point for both kinds of event (see the module's docstring)."""
    settings = TriggerSettings.from_environment()
    clients = clients or Clients.default()
    if isinstance(event.get("Records"), list):
        return on_upload(event["Records"], settings, clients, own_arn=context.invoked_function_arn)
    if isinstance(event.get("device"), str):
        return on_schedule(event["device"], settings, clients)
    raise ValueError("RetrainTrigger: the event is neither an S3 notification (Records) nor a schedule's {\"device\": ID}; "
                     f"its keys: {sorted(event)}. Wire only the bucket's notification and the trigger's schedules to it")


# MARK: - Uploads


def on_upload(records: list[dict[str, Any]], settings: TriggerSettings, clients: Clients, own_arn: str) -> dict[str, Any]:
    """Sets one schedule per device named in the notification; ignores (and logs) objects outside the lake."""
    devices: list[str] = []
    ignored: list[str] = []
    for record in records:
        key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
        device = names.device_from_key(key, settings.minutes_prefix)
        if device is None or not key.endswith(".csv"):
            ignored.append(key)
        elif device not in devices:
            devices.append(device)
    if ignored:
        logger.warning("ignored objects outside %s<device=ID>/…csv: %s", settings.minutes_prefix, ignored[:10])
    scheduled = {}
    for device in devices:
        if not names.is_taggable(device):
            logger.error("device %r has characters a SageMaker tag cannot hold; no job for it. Fix: use letters, digits "
                         "and _ . : / = + - @ in [INFO] hw_serial", device)
            continue
        at = _fire_time(device, settings, clients)
        _set_schedule(device, at, settings, clients, own_arn)
        scheduled[device] = at.isoformat()
        logger.info("device %s: training scheduled for %s", device, at.isoformat())
    return {"scheduled": scheduled, "ignored": len(ignored)}


def _fire_time(device: str, settings: TriggerSettings, clients: Clients) -> datetime:
    at = now() + timedelta(seconds=settings.quiet_seconds)
    last = _last_job(device, settings, clients)
    if last is not None:
        allowed = last[1] + timedelta(seconds=settings.min_seconds_between_jobs)
        at = max(at, allowed)
    return at.replace(microsecond=0)


def _set_schedule(device: str, at: datetime, settings: TriggerSettings, clients: Clients, own_arn: str) -> None:
    """Creates or moves the device's one-time schedule (several uploads at once race here: the loser updates)."""
    request = {
        "Name": names.schedule_name(settings.job_prefix, device),
        "GroupName": settings.schedule_group,
        "ScheduleExpression": f"at({at.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Description": f"clemap-edge: retrain device {device} once its uploads pause",
        "Target": {"Arn": own_arn, "RoleArn": settings.scheduler_role_arn, "Input": json.dumps({"device": device})},
    }
    try:
        clients.scheduler.update_schedule(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        try:
            clients.scheduler.create_schedule(**request)
        except ClientError as conflict:
            if conflict.response["Error"]["Code"] != "ConflictException":
                raise
            clients.scheduler.update_schedule(**request)


# MARK: - The schedule fired


def on_schedule(device: str, settings: TriggerSettings, clients: Clients) -> dict[str, Any]:
    """Starts the device's training job, unless its last one is more recent than `MIN_HOURS_BETWEEN_JOBS`."""
    moment = now()
    last = _last_job(device, settings, clients)
    if last is not None and moment - last[1] < timedelta(seconds=settings.min_seconds_between_jobs):
        logger.info("device %s: job %s started at %s, too recent; no new job", device, last[0], last[1].isoformat())
        return {"started": None, "last": last[0]}
    job = names.job_name(settings.job_prefix, device, moment)
    request = training_job_request(job, device, settings, code_uri=_code_uri(settings, clients),
                                   region=clients.sagemaker.meta.region_name)
    clients.sagemaker.create_training_job(**request)
    clients.s3.put_object(Bucket=settings.bucket, Key=names.state_key(settings.code_prefix, device),
                          Body=json.dumps({"job": job, "started": moment.isoformat()}).encode(),
                          ContentType="application/json")
    logger.info("device %s: training job %s started on %s", device, job,
                request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"])
    return {"started": job}


def training_job_request(job: str, device: str, settings: TriggerSettings, code_uri: str, region: str) -> dict[str, Any]:
    """CreateTrainingJob's arguments: one `training` channel over the lake, the script, its hyperparameters."""
    channel = settings.minutes_prefix + (f"device={device}/" if settings.scope == "device" else "")
    # The SDK's convention for framework containers: every value JSON-encoded (train.py decodes them).
    hyperparameters = {str(k): json.dumps(v) for k, v in settings.hyperparameters.items()}
    hyperparameters |= {
        "sagemaker_program": json.dumps(TRAINING_PROGRAM),
        "sagemaker_submit_directory": json.dumps(code_uri),
        "sagemaker_region": json.dumps(region),
        "sagemaker_container_log_level": "20",
    }
    return {
        "TrainingJobName": job,
        "AlgorithmSpecification": {"TrainingImage": settings.training_image, "TrainingInputMode": "File",
                                   "MetricDefinitions": METRIC_DEFINITIONS},
        "RoleArn": settings.sagemaker_role_arn,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [{
            "ChannelName": "training",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{settings.bucket}/{channel}",
                                            "S3DataDistributionType": "FullyReplicated"}},
            "ContentType": "text/csv",
            "CompressionType": "None",
        }],
        "OutputDataConfig": {"S3OutputPath": f"s3://{settings.bucket}/{settings.output_prefix}"},
        "ResourceConfig": {"InstanceType": settings.instance_type, "InstanceCount": 1,
                           "VolumeSizeInGB": settings.volume_size_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        "Tags": [{"Key": names.DEVICE_TAG, "Value": device}],
    }


def _last_job(device: str, settings: TriggerSettings, clients: Clients) -> tuple[str, datetime] | None:
    try:
        body = clients.s3.get_object(Bucket=settings.bucket, Key=names.state_key(settings.code_prefix, device))["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    state = json.loads(body)
    return state["job"], datetime.fromisoformat(state["started"])


# MARK: - The training code


def source_archive() -> bytes:
    """`training/*.py` as SageMaker's sourcedir.tar.gz; the same bytes for the same sources (no times, no owners)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path in sorted(TRAINING_SOURCES.glob("*.py")):
                data = path.read_bytes()
                info = tarfile.TarInfo(path.name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


_uploaded: dict[str, str] = {}


def _code_uri(settings: TriggerSettings, clients: Clients) -> str:
    """Uploads the training code once per version (named by its hash) and returns its S3 URI."""
    data = source_archive()
    key = f"{settings.code_prefix}sourcedir-{hashlib.sha256(data).hexdigest()[:16]}.tar.gz"
    uri = f"s3://{settings.bucket}/{key}"
    if _uploaded.get(settings.bucket) == key:
        return uri
    try:
        clients.s3.head_object(Bucket=settings.bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
        clients.s3.put_object(Bucket=settings.bucket, Key=key, Body=data, ContentType="application/gzip")
    _uploaded[settings.bucket] = key
    return uri
