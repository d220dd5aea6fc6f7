# SPDX-License-Identifier: Apache-2.0
"""Writes minute CSVs as the device's exporter lays them out in S3, for the training tests (numpy free)."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from pathlib import Path

PHASES = ("l1", "l2", "l3")
# meter_data's columns in table order (Sources/MeterReadings/Rows/MinuteRow+Columns.swift,
# integration/process/conftest.py METER_COLUMNS).
METER_COLUMNS = (
    ["time"]
    + [f"{p}_{q}" for q in ("v", "i", "p", "q", "s", "pf") for p in PHASES]
    + ["freq"]
    + [f"{p}_{q}" for q in ("wh_imp", "wh_exp", "varh", "vah") for p in PHASES]
    + ["duration_s", "samples", "flags", "temp_c", "input_b"]
)


def hour_path(root: Path, device: str, time: int) -> Path:
    """`data/minutes/device=<id>/date=YYYY-MM-DD/hour=HH.csv` of the hour holding `time` (UTC)."""
    days, seconds = divmod(time, 86400)
    date = (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()
    return root / "data" / "minutes" / f"device={device}" / f"date={date}" / f"hour={seconds // 3600:02d}.csv"


def meter_row(time: int, power: float | None) -> list[str]:
    """A full meter_data row whose phase powers sum to `power`; None leaves l2_p empty (NULL: a missing minute)."""
    values = {name: "0" for name in METER_COLUMNS}
    values.update({"time": str(time), "l1_v": "230.1", "l2_v": "229.8", "l3_v": "231.0", "freq": "50.0",
                   "duration_s": "60", "samples": "60", "flags": "0", "temp_c": "", "input_b": ""})
    if power is None:
        values.update(l1_p="1.0", l2_p="", l3_p="2.0")
    elif math.isfinite(power):
        values.update(l1_p=repr(power / 2), l2_p=repr(power / 4), l3_p=repr(power / 4))
    return [values[name] for name in METER_COLUMNS]


def write_lake(root: Path, device: str, minutes: Iterable[tuple[int, float | None]]) -> list[Path]:
    """One CSV per hour under the lake layout, rows in the exporter's order; returns the files written."""
    hours: dict[Path, list[list[str]]] = {}
    for time, power in minutes:
        hours.setdefault(hour_path(root, device, time), []).append(meter_row(time, power))
    for path, rows in hours.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(",".join(r) for r in [METER_COLUMNS, *rows]) + "\n")
    return list(hours)
