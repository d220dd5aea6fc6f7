# SPDX-License-Identifier: Apache-2.0
"""RetrainTrigger against moto: debouncing per device, the job's channel and code, nothing hard-coded."""

from __future__ import annotations

import io
import json
import re
import tarfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import Stack, hour_key
from functions import names, trigger
from functions.settings import SettingsError, TriggerSettings

CLOUD = Path(__file__).resolve().parents[1]


def fire(stack: Stack, device: str) -> dict:
    """What EventBridge Scheduler does when the device's schedule comes due: invoke the target with its input."""
    schedule = stack.schedules()[names.schedule_name("clemap", device)]
    assert schedule["Target"]["Arn"] == stack.trigger_arn
    return trigger.handler(json.loads(schedule["Target"]["Input"]), stack.context)


def due(stack: Stack, device: str) -> datetime:
    expression = stack.schedules()[names.schedule_name("clemap", device)]["ScheduleExpression"]
    return datetime.fromisoformat(re.fullmatch(r"at\((.+)\)", expression).group(1) + "+00:00")


def test_a_burst_of_uploads_starts_one_job_per_device_after_it_ends(stack: Stack) -> None:
    start = stack.clock[0]
    # A week of backlog from SE-A (168 hourly objects, one notification each, 2 s apart) and three hours from SE-B.
    for n in range(168):
        stack.clock[0] = start + timedelta(seconds=2 * n)
        trigger.handler(stack.upload_event(hour_key("SE-A", n % 24, day=f"2026-11-{23 + n // 24:02d}")), stack.context)
        if n in (10, 20, 30):
            trigger.handler(stack.upload_event(hour_key("SE-B", n // 10)), stack.context)
    last_upload = stack.clock[0]
    assert sorted(stack.schedules()) == sorted(names.schedule_name("clemap", d) for d in ("SE-A", "SE-B"))
    # Each schedule was pushed out by its device's last upload: it fires once the burst has been quiet 15 min.
    assert due(stack, "SE-A") == (last_upload + timedelta(seconds=900)).replace(microsecond=0)
    assert due(stack, "SE-B") == (start + timedelta(seconds=60 + 900)).replace(microsecond=0)
    assert stack.jobs() == []

    stack.clock[0] = due(stack, "SE-A")
    assert fire(stack, "SE-A")["started"]
    assert fire(stack, "SE-B")["started"]
    jobs = stack.jobs()
    assert len(jobs) == 2
    assert {stack.sagemaker.list_tags(ResourceArn=j["TrainingJobArn"])["Tags"][0]["Value"] for j in jobs} == {"SE-A", "SE-B"}


def test_at_most_one_job_per_device_in_min_hours_between_jobs(stack: Stack) -> None:
    trigger.handler(stack.upload_event(hour_key("SE-A", 5)), stack.context)
    stack.clock[0] = due(stack, "SE-A")
    first = fire(stack, "SE-A")["started"]
    started = stack.clock[0]
    # The next hour's upload: the schedule waits for the 24 h to pass, not just for 15 quiet minutes.
    stack.clock[0] = started + timedelta(hours=1)
    trigger.handler(stack.upload_event(hour_key("SE-A", 6)), stack.context)
    assert due(stack, "SE-A") == started + timedelta(hours=24)
    # A schedule that fires early anyway (set before the job started, or delivered twice) starts nothing.
    assert fire(stack, "SE-A") == {"started": None, "last": first}
    assert len(stack.jobs()) == 1
    stack.clock[0] = started + timedelta(hours=24)
    second = fire(stack, "SE-A")["started"]
    assert second and second != first and len(stack.jobs()) == 2


def test_the_job_reads_its_device_minutes_on_one_training_channel_with_the_shipped_code(stack: Stack) -> None:
    trigger.handler(stack.upload_event(hour_key("SE-A", 5)), stack.context)
    stack.clock[0] = due(stack, "SE-A")
    job = fire(stack, "SE-A")["started"]
    assert re.fullmatch(r"clemap-SE-A-[0-9a-f]{6}-20261206-111500", job), job
    described = stack.sagemaker.describe_training_job(TrainingJobName=job)
    assert described["InputDataConfig"] == [{
        "ChannelName": "training",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{stack.bucket}/data/minutes/device=SE-A/",
                                        "S3DataDistributionType": "FullyReplicated"}},
        "ContentType": "text/csv", "CompressionType": "None"}]
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{stack.bucket}/training-output/"
    assert described["RoleArn"] == stack.env["SAGEMAKER_ROLE_ARN"]
    assert described["AlgorithmSpecification"]["TrainingImage"] == stack.env["TRAINING_IMAGE"]
    assert described["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5}
    assert described["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    hp = {k: json.loads(v) for k, v in described["HyperParameters"].items()}
    assert hp["window"] == 60 and hp["epochs"] == 12
    assert hp["sagemaker_program"] == "train.py" and hp["sagemaker_region"] == stack.region
    # The code the job runs is training/*.py exactly, in the bucket under the code prefix.
    bucket, _, key = hp["sagemaker_submit_directory"].removeprefix("s3://").partition("/")
    assert bucket == stack.bucket and key.startswith("training-code/sourcedir-")
    archive = tarfile.open(fileobj=io.BytesIO(stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    shipped = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}
    assert shipped == {p.name: p.read_bytes() for p in (CLOUD / "training").glob("*.py")}
    assert {"train.py", "minutes.py", "contract.py"} <= set(shipped)


def test_metric_definitions_read_the_lines_train_py_prints() -> None:
    # The end-to-end test (make test-cloud) applies them to a real run's output; here, to the format.
    log = "Epoch 12/12\nvalidation_mae=123.5;\npersistence_mae=150.25;\nskill=0.178;\n"
    parsed = {d["Name"]: float(re.search(d["Regex"], log).group(1)) for d in trigger.METRIC_DEFINITIONS}
    assert parsed == {"validation:mae": 123.5, "validation:persistence_mae": 150.25, "validation:skill": 0.178}
    assert re.search(trigger.METRIC_DEFINITIONS[0]["Regex"], "persistence_mae=1.0;") is None


def test_fleet_scope_reads_every_device_and_the_code_is_uploaded_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_SCOPE", "fleet")
    for device in ("SE-A", "SE-B"):
        trigger.handler(stack.upload_event(hour_key(device, 5)), stack.context)
    stack.clock[0] = due(stack, "SE-B")
    for device in ("SE-A", "SE-B"):
        fire(stack, device)
    uris = {j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] for j in stack.jobs()}
    assert uris == {f"s3://{stack.bucket}/data/minutes/"}
    code = stack.s3.list_object_versions(Bucket=stack.bucket, Prefix="training-code/sourcedir-").get("Versions", [])
    assert len(code) == 1


def test_objects_outside_the_lake_and_odd_keys(stack: Stack) -> None:
    result = trigger.handler(stack.upload_event("data/Clemap_train.csv", "data/minutes/readme.txt",
                                                "data/minutes/device=/date=2026-12-01/hour=01.csv",
                                                "data/minutes/device=SE A+1/date=2026-12-01/hour=01.csv"), stack.context)
    # The space and '+' arrive URL-encoded ('+' and '%2B') and are decoded: the device is "SE A+1".
    assert result == {"scheduled": {"SE A+1": (stack.clock[0] + timedelta(seconds=900)).isoformat()}, "ignored": 3}
    assert "SE A+1" in json.loads(stack.schedules()[names.schedule_name("clemap", "SE A+1")]["Target"]["Input"])["device"]
    with pytest.raises(ValueError, match="neither an S3 notification"):
        trigger.handler({"detail": {}}, stack.context)


def test_a_device_id_a_tag_cannot_hold_gets_no_schedule_and_a_clear_log(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    result = trigger.handler(stack.upload_event(hour_key("SE~1", 1)), stack.context)
    assert result["scheduled"] == {} and stack.schedules() == {}
    assert "SE~1" in caplog.text and "hw_serial" in caplog.text


def test_names_are_unique_and_within_aws_limits() -> None:
    long = "X" * 200
    for device in ("SE-A", "se-a", "SE.A", long, long + "1", "ünïcode"):
        name = names.job_name("clemap-edge-eu1", device, datetime(2026, 12, 6, 11, 0))
        assert len(name) <= 63 and re.fullmatch(r"[A-Za-z0-9](-*[A-Za-z0-9])*", name), name
        assert len(names.schedule_name("clemap-edge-eu1", device)) <= 64
    assert names.slug("SE-A") != names.slug("se-a") and names.slug(long) != names.slug(long + "1")


def test_settings_name_the_variable_and_the_fix(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        "TRAINING_IMAGE": ("", "TRAINING_IMAGE is not set"),
        "DATA_PREFIX": ("data", "DATA_PREFIX = 'data': a prefix ends with '/'"),
        "TRAINING_SCOPE": ("all", "TRAINING_SCOPE = 'all'"),
        "HYPERPARAMETERS": ("[1]", "must be a JSON object"),
        "MIN_HOURS_BETWEEN_JOBS": ("0", "outside 1"),
        "JOB_PREFIX": ("clemap_edge", "JOB_PREFIX = 'clemap_edge'"),
        "QUIET_SECONDS": ("soon", "QUIET_SECONDS = 'soon' is not a whole number"),
    }
    for name, (value, message) in cases.items():
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(SettingsError, match=re.escape(message)):
                TriggerSettings.from_environment()
    with monkeypatch.context() as m:
        m.setenv("MAX_RUNTIME_SECONDS", str(2 * 86400))
        with pytest.raises(SettingsError, match="never overlap"):
            TriggerSettings.from_environment()
    with monkeypatch.context() as m:
        m.setenv("HYPERPARAMETERS", '{"sagemaker_program": "evil.py", "windw": 30}')
        with pytest.raises(SettingsError, match="sets sagemaker_program, windw, which train.py does not take"):
            TriggerSettings.from_environment()


def test_everything_account_and_region_specific_comes_from_the_environment(stack: Stack) -> None:
    trigger.handler(stack.upload_event(hour_key("SE-A", 5)), stack.context)
    stack.clock[0] = due(stack, "SE-A")
    fire(stack, "SE-A")
    (job,) = stack.jobs()
    assert f":{stack.region}:{stack.account}:" in job["TrainingJobArn"]
    schedule = stack.schedules()[names.schedule_name("clemap", "SE-A")]
    assert schedule["Target"]["RoleArn"] == stack.env["SCHEDULER_ROLE_ARN"]


def test_the_functions_source_names_no_account_region_arn_or_bucket() -> None:
    for path in sorted((CLOUD / "functions").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"\b\d{12}\b", text), f"{path.name}: an account id"
        assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)-(north|south|east|west|central|northeast|southeast|gov)+-\d\b", text), \
            f"{path.name}: a region"
        assert "arn:aws" not in text, f"{path.name}: an ARN"
        assert "clemapbucket" not in text and "s3://" + "clemap" not in text, f"{path.name}: a bucket name"
