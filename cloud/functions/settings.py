# SPDX-License-Identifier: Apache-2.0
"""The functions' environment, read and checked in one place (cloud/README.md lists every variable).

Nothing about the account, the region or a resource is written in the code: the template passes names and ARNs in,
and the session knows its region. A missing or malformed variable is an error naming the variable and the fix, raised
before any call to AWS, so a misconfigured stack fails on its first event instead of half-working.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from training import contract

#: Training job names are `<JOB_PREFIX>-<device slug>-<UTC time>`, at most 63 of [A-Za-z0-9-].
_JOB_PREFIX = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,14})$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class SettingsError(ValueError):
    """A variable of the function's environment is missing or wrong; the message names it and says what to set."""


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name, default)
    if value is None or value == "":
        raise SettingsError(f"environment variable {name} is not set: set it in the function's configuration "
                            "(cloud/template.yaml does)")
    return value


def _prefix(env: Mapping[str, str], name: str, default: str) -> str:
    value = _text(env, name, default)
    if not value.endswith("/") or value.startswith("/"):
        raise SettingsError(f"{name} = {value!r}: a prefix ends with '/' and does not start with one, e.g. {default!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = _text(env, name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} = {text!r} is not a whole number; set it between {low} and {high}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} = {value} is outside {low}…{high}")
    return value


def _bucket(env: Mapping[str, str]) -> str:
    value = _text(env, "BUCKET")
    if not _BUCKET.match(value):
        raise SettingsError(f"BUCKET = {value!r} is not a bucket name (3–63 of a-z 0-9 . -)")
    return value


def _job_prefix(env: Mapping[str, str]) -> str:
    value = _text(env, "JOB_PREFIX", "clemap")
    if not _JOB_PREFIX.match(value):
        raise SettingsError(f"JOB_PREFIX = {value!r}: use 1–15 of A-Z a-z 0-9 and '-', starting with a letter or digit "
                            "(training job names are at most 63 characters)")
    return value


@dataclass(frozen=True)
class TriggerSettings:
    """RetrainTrigger's environment."""

    bucket: str
    data_prefix: str
    code_prefix: str
    output_prefix: str
    scope: str
    training_image: str
    sagemaker_role_arn: str
    instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    job_prefix: str
    quiet_seconds: int
    min_seconds_between_jobs: int
    schedule_group: str
    scheduler_role_arn: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def minutes_prefix(self) -> str:
        """Where the exporter's hourly objects are: `<DATA_PREFIX>minutes/`."""
        return self.data_prefix + "minutes/"

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> TriggerSettings:
        scope = _text(env, "TRAINING_SCOPE", "device")
        if scope not in ("device", "fleet"):
            raise SettingsError(f"TRAINING_SCOPE = {scope!r}: use 'device' (a job reads its device's minutes) or 'fleet'")
        raw = _text(env, "HYPERPARAMETERS", "{}")
        try:
            hyperparameters = json.loads(raw)
        except json.JSONDecodeError as error:
            raise SettingsError(f"HYPERPARAMETERS is not JSON ({error}); give an object, e.g. "
                                '{"window": 60, "horizon": 15}') from None
        if not isinstance(hyperparameters, dict):
            raise SettingsError("HYPERPARAMETERS must be a JSON object, e.g. {\"window\": 60, \"horizon\": 15}")
        unknown = sorted(set(hyperparameters) - set(contract.HYPERPARAMETERS))
        if unknown:
            raise SettingsError(f"HYPERPARAMETERS sets {', '.join(unknown)}, which train.py does not take; "
                                f"it takes {', '.join(contract.HYPERPARAMETERS)}")
        max_runtime = _integer(env, "MAX_RUNTIME_SECONDS", 3600, 60, 432_000)
        min_hours = _integer(env, "MIN_HOURS_BETWEEN_JOBS", 24, 1, 24 * 365)
        if min_hours * 3600 < max_runtime:
            # Else a job could still run when the next one of the same device starts.
            raise SettingsError(f"MIN_HOURS_BETWEEN_JOBS = {min_hours} is shorter than MAX_RUNTIME_SECONDS = {max_runtime}: "
                                "raise it so that one device's jobs never overlap")
        return cls(
            bucket=_bucket(env),
            data_prefix=_prefix(env, "DATA_PREFIX", "data/"),
            code_prefix=_prefix(env, "CODE_PREFIX", "training-code/"),
            output_prefix=_prefix(env, "OUTPUT_PREFIX", "training-output/"),
            scope=scope,
            training_image=_text(env, "TRAINING_IMAGE"),
            sagemaker_role_arn=_text(env, "SAGEMAKER_ROLE_ARN"),
            instance_type=_text(env, "INSTANCE_TYPE", "ml.m5.large"),
            volume_size_gb=_integer(env, "VOLUME_SIZE_GB", 5, 1, 512),
            max_runtime_seconds=max_runtime,
            job_prefix=_job_prefix(env),
            quiet_seconds=_integer(env, "QUIET_SECONDS", 900, 60, 7 * 86400),
            min_seconds_between_jobs=min_hours * 3600,
            schedule_group=_text(env, "SCHEDULE_GROUP"),
            scheduler_role_arn=_text(env, "SCHEDULER_ROLE_ARN"),
            hyperparameters=hyperparameters,
        )


@dataclass(frozen=True)
class PublishSettings:
    """PublishModel's environment."""

    bucket: str
    model_prefix: str
    job_prefix: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> PublishSettings:
        return cls(bucket=_bucket(env), model_prefix=_prefix(env, "MODEL_PREFIX", "models/"), job_prefix=_job_prefix(env))
