# SPDX-License-Identifier: Apache-2.0
"""The whole retraining loop on one machine (`make test-cloud`):

1. The device (the built binary, simulator, `home-day` at 4000x: a fridge and a freezer cycling, daily appliances)
   exports its minutes to moto's server on loopback, as it would to S3.
2. S3's notifications, one per object the device uploaded, go to RetrainTrigger (in this process, signing as an
   IAM user allowed exactly the actions template.yaml grants the two functions): one debounce schedule, fired at its
   due time, starts one training job in moto's SageMaker.
3. SageMaker's part, which moto does not run, is played here as SageMaker does it: the job's `training` channel is
   downloaded, the code archive the trigger uploaded is unpacked, train.py runs with the job's hyperparameters under
   TensorFlow (CLOUD_TRAIN_PYTHON), the model folder is packed into `model.tar.gz` at the job's output path, and
   the job's final status, failure reason and metrics are what the script's exit, failure file and log say.
4. PublishModel copies the artifact to `models/device=<id>/<job>/`; the running device fetches it, checks it on its
   own last day and serves it; its live skill against persistence is printed.
5. A second job with a diverging learning rate is refused by train.py: the job fails, nothing is published, and the
   device keeps serving the first model.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.config import Config
from cfnlint.decode import decode

from process_conftest import ServiceProcess
from s3server import MotoServer, cloud_config
from functions import aws, names, publish, trigger
from training import contract

REPO = Path(__file__).resolve().parents[2]
DEVICE = "SE-E2E"
SPEED = 4000
#: Days of history before the first job: with two, the validation part holds an evening the training part saw once.
DAYS = 5
#: Quick (about 10 s), and enough to learn the appliances' cycles and the day's sequences: the mean of the next hour,
#: where persistence is weakest (on 5 days of home-day: skill +0.30; the next 15 minutes' mean needs 30 epochs for +0.20).
HYPERPARAMETERS = {"window": 60, "horizon": 60, "target": "mean", "epochs": 15}
#: Adam at this learning rate overflows float32 within the first steps (cloud/tests/tensorflow/test_train.py).
DIVERGING = {**HYPERPARAMETERS, "learning_rate": 1e38, "epochs": 2}


def template_actions() -> list[str]:
    """The actions template.yaml grants RetrainTrigger and PublishModel (their inline policies)."""
    template, matches = decode(str(REPO / "cloud" / "template.yaml"))
    assert template is not None and not matches, matches
    resources = template["Resources"]
    documents = [resources["RetrainTriggerPolicy"]["Properties"]["PolicyDocument"]]
    documents += [p["PolicyDocument"] for p in resources["PublishModelRole"]["Properties"].get("Policies", [])]
    actions = {a for d in documents for s in d["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    return sorted(actions)


class SageMakerOutcome:
    """moto marks every job Completed at once; this shows PublishModel what SageMaker would report for the run here."""

    def __init__(self, sagemaker: Any, outcomes: dict[str, dict[str, Any]]):
        self._sagemaker, self._outcomes = sagemaker, outcomes

    def describe_training_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._sagemaker.describe_training_job(**kwargs) | self._outcomes.get(kwargs["TrainingJobName"], {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sagemaker, name)


class ScheduleRecorder:
    """The functions' Scheduler client, remembering each schedule as last created or updated: what Scheduler holds.
    (moto's server refuses the signature of every GET to its Scheduler API, so the schedules are not read back.)"""

    def __init__(self, scheduler: Any):
        self._scheduler = scheduler
        self.schedules: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def _record(self, call: str, request: dict[str, Any]) -> Any:
        response = getattr(self._scheduler, call)(**request)
        self.schedules[request["Name"]] = request
        self.calls += 1
        return response

    def create_schedule(self, **request: Any) -> Any:
        return self._record("create_schedule", request)

    def update_schedule(self, **request: Any) -> Any:
        return self._record("update_schedule", request)

    def due(self, name: str) -> datetime:
        expression = self.schedules[name]["ScheduleExpression"]
        return datetime.fromisoformat(re.fullmatch(r"at\((.+)\)", expression).group(1) + "+00:00")


def run_training_job(job: str, harness: SimpleNamespace, root: Path, train_python: Path) -> dict[str, Any]:
    """SageMaker's part: the channel and code downloaded, train.py run, the model folder packed and uploaded."""
    described = harness.sagemaker.describe_training_job(TrainingJobName=job)
    (channel,) = described["InputDataConfig"]
    assert channel["ChannelName"] == "training"
    bucket, _, prefix = channel["DataSource"]["S3DataSource"]["S3Uri"].removeprefix("s3://").partition("/")
    data = root / "input" / "data" / "training"
    count = 0
    for page in harness.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            target = data / item["Key"][len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(harness.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            count += 1
    hyperparameters = {k: json.loads(v) for k, v in described["HyperParameters"].items()}
    code_bucket, _, code_key = hyperparameters["sagemaker_submit_directory"].removeprefix("s3://").partition("/")
    code = root / "code"
    with tarfile.open(fileobj=io.BytesIO(harness.s3.get_object(Bucket=code_bucket, Key=code_key)["Body"].read())) as archive:
        archive.extractall(code, filter="data")
    # The container passes every hyperparameter but its own as `--name value`.
    arguments = [a for k, v in hyperparameters.items() if not k.startswith("sagemaker_") for a in (f"--{k}", str(v))]
    model, output = root / "model", root / "output"
    env = dict(os.environ, SM_CHANNEL_TRAINING=str(data), SM_MODEL_DIR=str(model), SM_OUTPUT_DATA_DIR=str(output / "data"),
               TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    started = time.monotonic()
    result = subprocess.run([str(train_python), str(code / hyperparameters["sagemaker_program"]), *arguments,
                             "--failure-file", str(output / "failure")],
                            capture_output=True, text=True, env=env, timeout=600)
    seconds = time.monotonic() - started
    metrics = {}
    for definition in contract.METRIC_DEFINITIONS:
        found = re.findall(definition["Regex"], result.stdout)
        if found:
            metrics[definition["Name"]] = float(found[-1])
    outcome: dict[str, Any] = {"objects": count, "seconds": seconds, "metrics": metrics, "stdout": result.stdout,
                               "stderr": result.stderr}
    if result.returncode != 0:
        assert not model.exists() or not any(model.iterdir()), f"{job}: a refused job left files in its model folder"
        outcome["describe"] = {"TrainingJobStatus": "Failed", "FailureReason": (output / "failure").read_text().strip()}
        return outcome
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(model.iterdir()):
            archive.add(path, arcname=path.name)
    artifact_bucket, _, artifact_key = described["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://").partition("/")
    harness.s3.put_object(Bucket=artifact_bucket, Key=artifact_key, Body=buffer.getvalue())
    outcome["files"] = sorted(p.name for p in model.iterdir())
    outcome["describe"] = {"TrainingJobStatus": "Completed",
                           "FinalMetricDataList": [{"MetricName": k, "Value": v} for k, v in metrics.items()]}
    return outcome


def notify(keys: list[str], bucket: str, context: SimpleNamespace) -> None:
    """S3's notifications: one event per object created, key URL-encoded (the trigger's line for each is muted)."""
    logger = logging.getLogger("clemap.retrain-trigger")
    logger.setLevel(logging.WARNING)
    for key in keys:
        trigger.handler({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                      "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}}}]}, context)
    logger.setLevel(logging.INFO)


def newest_row_time(service: ServiceProcess) -> int:
    rows = service.stored_rows()
    return rows[-1].time if rows else 0


def row_at_least(moment: int):
    """A predicate over log lines: a row stored for `moment` or later."""
    return lambda text: (m := re.search(r"row\.time=(\d+)", text)) is not None and int(m.group(1)) >= moment


def test_the_retraining_loop_end_to_end(tmp_path: Path, clemap_bin: Path, config_ini: Path, scenario, train_python: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    began = time.monotonic()
    moto = MotoServer(tmp_path, users={"functions": template_actions(), "harness": ["*"]})
    service = None
    try:
        region, url = moto.region, moto.url
        quiet = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")
        h = moto.users["harness"]
        harness = SimpleNamespace(**{name: boto3.client(name, endpoint_url=url, region_name=region, config=quiet,
                                                        aws_access_key_id=h.access_key_id, aws_secret_access_key=h.secret_access_key)
                                     for name in ("s3", "sagemaker", "scheduler", "iam")})
        # What the stack would have made besides the functions.
        assume = json.dumps({"Version": "2012-10-17", "Statement": []})
        training_role = harness.iam.create_role(RoleName="TrainingRole", AssumeRolePolicyDocument=assume)["Role"]["Arn"]
        scheduler_role = harness.iam.create_role(RoleName="SchedulerRole", AssumeRolePolicyDocument=assume)["Role"]["Arn"]
        harness.scheduler.create_schedule_group(Name="retrain")
        f = moto.users["functions"]
        environment = {
            "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": region, "AWS_ACCESS_KEY_ID": f.access_key_id,
            "AWS_SECRET_ACCESS_KEY": f.secret_access_key, "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
            "BUCKET": moto.bucket, "DATA_PREFIX": "data/", "CODE_PREFIX": "training-code/", "OUTPUT_PREFIX": "training-output/",
            "MODEL_PREFIX": "models/", "TRAINING_SCOPE": "device", "TRAINING_IMAGE": "tensorflow-training:local",
            "SAGEMAKER_ROLE_ARN": training_role, "INSTANCE_TYPE": "ml.m5.large", "VOLUME_SIZE_GB": "5",
            "MAX_RUNTIME_SECONDS": "3600", "JOB_PREFIX": "clemap", "HYPERPARAMETERS": json.dumps(HYPERPARAMETERS),
            "QUIET_SECONDS": "900", "MIN_HOURS_BETWEEN_JOBS": "24", "SCHEDULE_GROUP": "retrain",
            "SCHEDULER_ROLE_ARN": scheduler_role,
        }
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            monkeypatch.delenv(name, raising=False)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        aws.forget()
        recorder = ScheduleRecorder(aws.client("scheduler"))
        monkeypatch.setitem(aws._made, "scheduler", recorder)
        monkeypatch.setattr(trigger, "_uploaded", {})
        context = SimpleNamespace(invoked_function_arn=f"arn:aws:lambda:{region}:123456789012:function:retrain-trigger")

        # 1. The device, exporting as it samples; models from its own prefix.
        config = cloud_config(config_ini, tmp_path / "config.ini", endpoint=url, bucket=moto.bucket, serial=DEVICE,
                              credentials=moto.credentials,
                              extra={"model_prefix": f"models/device={DEVICE}/", "poll_interval_sec": "600"})
        db = tmp_path / "meter.db"
        argv = [str(clemap_bin), "run", "--config", str(config), "--db", str(db), "--simulate", "--scenario",
                str(scenario("home-day")), "--sim-speed", str(SPEED), "--sim-duration", str(10 * 86400), "--log-level", "debug"]
        service = ServiceProcess(argv, tmp_path / "device.stdout", tmp_path / "device.stderr", cwd=tmp_path)
        service.wait_for(r"row stored", timeout=60, what="the first row")
        first_row = service.stored_rows()[0].time
        service.wait_for(row_at_least(first_row + DAYS * 86400), timeout=600, what=f"{DAYS} days of rows")
        history_seconds = time.monotonic() - began
        lake = f"data/minutes/device={DEVICE}/"
        uploaded = [o["Key"] for o in sorted(harness.s3.list_objects_v2(Bucket=moto.bucket, Prefix=lake).get("Contents", []),
                                             key=lambda o: o["LastModified"])]
        assert len(uploaded) >= DAYS * 24 - 1, f"only {len(uploaded)} hours in the lake"

        # 2. The notifications of every upload so far: one schedule, 15 quiet minutes after the last; it fires once.
        cloud_now = datetime.now(timezone.utc)
        monkeypatch.setattr(trigger, "now", lambda: cloud_now)
        notify(uploaded, moto.bucket, context)
        name = names.schedule_name("clemap", DEVICE)
        assert list(recorder.schedules) == [name] and recorder.calls == len(uploaded)
        due = recorder.due(name)
        assert due == (cloud_now + timedelta(seconds=900)).replace(microsecond=0)
        assert recorder.schedules[name]["Target"]["RoleArn"] == scheduler_role
        monkeypatch.setattr(trigger, "now", lambda: due)
        job = trigger.handler(json.loads(recorder.schedules[name]["Target"]["Input"]), context)["started"]
        assert job and [j["TrainingJobName"] for j in harness.sagemaker.list_training_jobs()["TrainingJobSummaries"]] == [job]

        # 3. SageMaker's part.
        outcomes: dict[str, dict[str, Any]] = {}
        trained = run_training_job(job, harness, tmp_path / "job1", train_python)
        outcomes[job] = trained["describe"]
        assert trained["describe"]["TrainingJobStatus"] == "Completed", trained["stderr"][-3000:]
        assert trained["files"] == ["model.h5", "scaler.json"]
        assert trained["metrics"]["validation:skill"] > 0

        # 4. Published; the device fetches, checks and serves it.
        clients = publish.Clients(s3=aws.client("s3"), sagemaker=SageMakerOutcome(aws.client("sagemaker"), outcomes))
        mark = len(service.lines)
        result = publish.handler({"detail": {"TrainingJobName": job, "TrainingJobStatus": "Completed"}}, None, clients)
        assert result["published"] == f"s3://{moto.bucket}/models/device={DEVICE}/{job}/model.tar.gz"
        published_at = time.monotonic()
        _, verdict = service.wait_for(r"export: new model (served|refused)", timeout=120, what="the device's verdict", start=mark)
        assert "new model served" in verdict.text, verdict.text
        served_seconds = time.monotonic() - published_at
        served_row = newest_row_time(service)

        # 5. A diverging job a day later: refused by train.py, so the job fails and nothing is published.
        monkeypatch.setenv("HYPERPARAMETERS", json.dumps(DIVERGING))
        later = sorted(harness.s3.list_objects_v2(Bucket=moto.bucket, Prefix=lake).get("Contents", []), key=lambda o: o["LastModified"])
        cloud_now = due + timedelta(hours=25)
        monkeypatch.setattr(trigger, "now", lambda: cloud_now)
        notify([o["Key"] for o in later if o["Key"] not in uploaded], moto.bucket, context)
        assert recorder.due(name) == (cloud_now + timedelta(seconds=900)).replace(microsecond=0)
        monkeypatch.setattr(trigger, "now", lambda: recorder.due(name))
        diverging = trigger.handler(json.loads(recorder.schedules[name]["Target"]["Input"]), context)["started"]
        assert diverging and diverging != job
        refused = run_training_job(diverging, harness, tmp_path / "job2", train_python)
        outcomes[diverging] = refused["describe"]
        assert refused["describe"]["TrainingJobStatus"] == "Failed"
        assert "non-finite" in refused["describe"]["FailureReason"], refused["describe"]
        mark = len(service.lines)
        result = publish.handler({"detail": {"TrainingJobName": diverging, "TrainingJobStatus": "Failed"}}, None, clients)
        assert result["published"] is None and "Failed" in result["reason"]
        models = harness.s3.list_object_versions(Bucket=moto.bucket, Prefix="models/").get("Versions", [])
        assert [m["Key"] for m in models] == [f"models/device={DEVICE}/{job}/model.tar.gz"]

        # Twelve simulated hours of forecasts by the served model (the device polls the prefix every 10 minutes meanwhile).
        service.wait_for(row_at_least(served_row + 12 * 3600), timeout=120, what="twelve more hours", start=mark)
        assert not re.search(r"export: new model", "\n".join(line.text for line in service.lines[mark:]))
        service.terminate()
        assert service.wait(timeout=60) == 0, service.describe()

        status = subprocess.run([str(clemap_bin), "forecast", "status", "--config", str(config), "--db", str(db), "--json"],
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert job in report["model_in_use"]["source"], report["model_in_use"]
        con = sqlite3.connect(db)
        keras, persistence = con.execute(
            """SELECT avg(abs(k.value - k.actual)), avg(abs(p.value - p.actual)) FROM forecast k
               JOIN forecast p ON p.issued = k.issued AND p.horizon_min = k.horizon_min AND p.kind = k.kind AND p.model = 'persistence'
               WHERE k.model = 'keras' AND k.horizon_min = 60 AND k.kind = 'mean' AND k.actual IS NOT NULL""").fetchone()
        count = con.execute("SELECT count(*) FROM forecast WHERE model = 'keras' AND actual IS NOT NULL").fetchone()[0]
        con.close()
        assert count >= 300, f"only {count} scored Keras forecasts"
        live_skill = 1 - keras / persistence
        check = re.search(r" model=(.*) \[MeterServices\]", verdict.text).group(1)
        print(f"\nretraining loop, end to end ({time.monotonic() - began:.0f} s): "
              f"{len(uploaded)} hourly objects from {DEVICE} ({history_seconds:.0f} s at {SPEED}x); "
              f"one schedule, one job {job} on {trained['objects']} objects, trained in {trained['seconds']:.0f} s: "
              f"validation MAE {trained['metrics']['validation:mae']:.1f} W, persistence {trained['metrics']['validation:persistence_mae']:.1f} W, "
              f"skill {trained['metrics']['validation:skill']:+.3f}; published and served {served_seconds:.1f} s later "
              f"(the device's check: {check}); "
              f"live over the next {count} scored forecasts: mean of the next hour MAE {keras:.1f} W against persistence "
              f"{persistence:.1f} W, skill {live_skill:+.3f}; the diverging job {diverging} failed "
              f"({refused['describe']['FailureReason']}) and published nothing")
        assert live_skill > 0, f"live skill {live_skill:+.3f}"
    finally:
        aws.forget()
        if service is not None:
            service.cleanup()
        moto.stop()
