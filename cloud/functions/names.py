# SPDX-License-Identifier: Apache-2.0
"""Names derived from a device id: its lake prefix, its training jobs, its debounce schedule, its models.

A device id is the exporter's `[INFO] hw_serial`, written into keys as `device=<id>`. AWS names allow fewer
characters and fewer of them, so jobs and schedules carry a readable slug plus a hash of the whole id: two devices
never share a name, and a job's device is read back from its tag, never parsed out of the name.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

#: What SageMaker allows in a tag value; a device outside it cannot be tagged, so it gets no job (logged).
_TAG_VALUE = re.compile(r"^[\w.:/=+\-@ ]{1,256}$")
#: The tag that says which device a training job is for (read by PublishModel).
DEVICE_TAG = "clemap:device"


def device_from_key(key: str, minutes_prefix: str) -> str | None:
    """`data/minutes/device=SE-1/date=2026-12-01/hour=05.csv` → `SE-1`; None for a key outside the lake's layout."""
    if not key.startswith(minutes_prefix):
        return None
    first, _, rest = key[len(minutes_prefix):].partition("/")
    if not first.startswith("device=") or not rest:
        return None
    device = first[len("device="):]
    return device or None


def is_taggable(device: str) -> bool:
    return _TAG_VALUE.match(device) is not None


def slug(device: str) -> str:
    """At most 31 characters of [A-Za-z0-9-]: a readable part and 6 hex digits of the id's SHA-256."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", device).strip("-")[:24].strip("-") or "device"
    return f"{readable}-{hashlib.sha256(device.encode()).hexdigest()[:6]}"


def job_name(job_prefix: str, device: str, now: datetime) -> str:
    """`clemap-SE-1-4f2a9c-20261206-113000` (UTC): at most 15 + 1 + 31 + 1 + 15 = 63 characters."""
    return f"{job_prefix}-{slug(device)}-{now.strftime('%Y%m%d-%H%M%S')}"


def schedule_name(job_prefix: str, device: str) -> str:
    """One debounce schedule per device: `clemap-retrain-SE-1-4f2a9c`."""
    return f"{job_prefix}-retrain-{slug(device)}"


def model_key(model_prefix: str, device: str, job: str) -> str:
    """Where a job's model is published: `models/device=SE-1/<job>/model.tar.gz`; the device polls `models/device=SE-1/`."""
    return f"{model_prefix}device={device}/{job}/model.tar.gz"


def state_key(code_prefix: str, device: str) -> str:
    """The trigger's memory of a device's last job (a small JSON object beside the training code)."""
    return f"{code_prefix}state/device={device}.json"
