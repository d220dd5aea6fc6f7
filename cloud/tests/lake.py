# SPDX-License-Identifier: Apache-2.0
"""Writes minute CSVs as the device's exporter lays them out in S3, for the training tests (numpy free)."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable
from pathlib import Path

SCHEMA_SWIFT = Path(__file__).resolve().parents[2] / "Sources" / "MeterStore" / "Schema.swift"


def meter_data_columns() -> list[tuple[str, str]]:
    """(name, SQLite type) of `meter_data` after every migration in Schema.swift, in table order: `CREATE TABLE
    meter_data`, then each `ALTER TABLE meter_data ADD COLUMN`. It is the exporter's CSV header (MinuteRow.columns,
    which a Swift test keeps equal to the table)."""
    text = SCHEMA_SWIFT.read_text()
    body = re.search(r"CREATE TABLE meter_data \((.*?)\n\s*\);", text, re.S)
    assert body, f"no CREATE TABLE meter_data in {SCHEMA_SWIFT}"
    created = [(m.group(1), m.group(2)) for m in re.finditer(r"\b([a-z0-9_]+) (INTEGER|REAL)\b", body.group(1))]
    added = re.findall(r"ALTER TABLE meter_data ADD COLUMN ([a-z0-9_]+) (INTEGER|REAL);", text)
    return created + added


METER_COLUMNS = [name for name, _ in meter_data_columns()]


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
