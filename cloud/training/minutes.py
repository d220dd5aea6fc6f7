# SPDX-License-Identifier: Apache-2.0
"""The training job's data part, numpy only: the lake's minute CSVs → windows over consecutive minutes, the split,
the scaler and persistence.

Kept apart from TensorFlow so it is tested in the light test venv, and so the rules that decide what a model learns
from (no window across a gap, no leakage into the held-out part, scaling from the training part only) are read in
one small place. The original train_lstm.py had none of them: it slid over rows regardless of time, never scaled,
and never checked the result against persistence.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MINUTE = 60
POWER_COLUMNS = ("l1_p", "l2_p", "l3_p")
TARGETS = ("value", "mean")
# Fewer windows than this would give a model and a skill that mean nothing.
MIN_TRAINING_WINDOWS = 100
MIN_VALIDATION_WINDOWS = 10


@dataclass(frozen=True)
class Series:
    """One device's minutes, sorted by time, each minute once; `times` in Unix seconds, `values` in watts."""

    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Windows:
    """Samples: `inputs[k]` (window minutes) → `targets[k]`; the times bound what each sample saw (for the split)."""

    inputs: np.ndarray
    targets: np.ndarray
    first_input_time: np.ndarray
    last_target_time: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, mask: np.ndarray) -> Windows:
        return Windows(self.inputs[mask], self.targets[mask], self.first_input_time[mask], self.last_target_time[mask])

    @staticmethod
    def concatenate(parts: list[Windows], window: int) -> Windows:
        if not parts:
            empty = np.zeros(0)
            return Windows(np.zeros((0, window)), empty, empty.astype(np.int64), empty.astype(np.int64))
        return Windows(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("inputs", "targets", "first_input_time", "last_target_time")))


@dataclass(frozen=True)
class Scaler:
    """What the device applies: inputs `(x − mean) / std`, outputs `y · target_std + target_mean`."""

    mean: float
    std: float
    target_mean: float
    target_std: float

    def as_json(self, horizon: int, target: str) -> dict[str, float | int | str]:
        """The `scaler.json` the device reads (Sources/KerasModel/README.md, Scaler)."""
        return {"mean": self.mean, "std": self.std, "target_mean": self.target_mean, "target_std": self.target_std,
                "horizon_min": horizon, "target": target}


def device_of(path: Path) -> str:
    """The nearest `device=<id>` folder above a file names its device; files outside any are one series."""
    for part in reversed(path.parent.parts):
        if part.startswith("device=") and len(part) > len("device="):
            return part[len("device="):]
    return "default"


def _number(text: str, path: Path, line: int, column: str) -> float:
    if text.strip() == "":
        return math.nan  # NULL: a missing value, so a missing minute
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{path}:{line}: column {column!r} is not a number: {text!r}") from None


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One file's (times, power); a minute with any power column empty has power NaN (dropped later as a gap).

    Either the exporter's meter_data columns (power = l1_p + l2_p + l3_p) or a `time,target` file.
    """
    with path.open(newline="") as file:
        reader = csv.reader(file)
        header = [name.strip() for name in next(reader, [])]
        if "target" in header:
            wanted: tuple[str, ...] = ("target",)
        else:
            wanted = POWER_COLUMNS
        missing = [name for name in ("time", *wanted) if name not in header]
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {', '.join(missing)}: a minute CSV needs time and "
                             f"{'+'.join(POWER_COLUMNS)} (the meter_data columns), or time,target")
        time_at, value_at = header.index("time"), [header.index(name) for name in wanted]
        times: list[int] = []
        values: list[float] = []
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            time = _number(row[time_at], path, line, "time")
            if not math.isfinite(time) or time != int(time):
                raise ValueError(f"{path}:{line}: column 'time' is not whole Unix seconds: {row[time_at]!r}")
            times.append(int(time))
            values.append(sum(_number(row[i], path, line, header[i]) for i in value_at))
    return np.array(times, dtype=np.int64), np.array(values, dtype=np.float64)


def read_folder(root: Path) -> dict[str, Series]:
    """Every `*.csv` under `root` at any depth, as one sorted series per device.

    A device's minute seen twice (an hour re-uploaded, a fleet prefix read twice) counts once: the last file in path
    order with a value for it wins. Missing minutes are left out, so they are gaps.
    """
    paths = sorted(p for p in root.rglob("*.csv") if p.is_file())
    if not paths:
        raise ValueError(f"no *.csv under {root}")
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for path in paths:
        times, values = read_csv(path)
        known = np.isfinite(values)
        parts.setdefault(device_of(path.absolute()), []).append((times[known], values[known]))
    series = {}
    for device, chunks in sorted(parts.items()):
        times = np.concatenate([t for t, _ in chunks])
        values = np.concatenate([v for _, v in chunks])
        # np.unique keeps the first of equal keys; reversed, that is the last one read.
        unique, first = np.unique(times[::-1], return_index=True)
        series[device] = Series(unique, values[::-1][first])
    return series


def runs(series: Series) -> list[Series]:
    """The series cut where the step is not exactly one minute: a gap (or an odd timestamp) starts a new run."""
    cuts = np.flatnonzero(np.diff(series.times) != MINUTE) + 1
    return [Series(t, v) for t, v in zip(np.split(series.times, cuts), np.split(series.values, cuts))]


def windows(series: Series, window: int, horizon: int, target: str) -> Windows:
    """Every sample inside one run: `window` inputs, then the target `value` `horizon` minutes after the last input,
    or the `mean` of the next `horizon` minutes. Both reach `horizon` minutes past the inputs."""
    if target not in TARGETS:
        raise ValueError(f"target {target!r}: one of {', '.join(TARGETS)}")
    parts = []
    for run in runs(series):
        count = len(run.values) - window - horizon + 1
        if count <= 0:
            continue
        starts = np.arange(count)
        inputs = np.lib.stride_tricks.sliding_window_view(run.values, window)[:count]
        if target == "value":
            targets = run.values[starts + window + horizon - 1]
        else:
            sums = np.concatenate([[0.0], np.cumsum(run.values)])
            targets = (sums[starts + window + horizon] - sums[starts + window]) / horizon
        parts.append(Windows(inputs, targets, run.times[starts], run.times[starts + window + horizon - 1]))
    return Windows.concatenate(parts, window)


def all_windows(series: dict[str, Series], window: int, horizon: int, target: str) -> Windows:
    """Each device's windows on its own (a window never mixes devices), together."""
    return Windows.concatenate([windows(s, window, horizon, target) for s in series.values()], window)


def split(series: dict[str, Series], samples: Windows, validation_fraction: float) -> tuple[Windows, Windows]:
    """(training, validation): the most recent `validation_fraction` of the whole time span is held out.

    Validation samples lie wholly in it; training samples end (their last target minute) before it starts; samples
    across the cut are used by neither, so nothing the model is judged on was seen in training.
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction {validation_fraction}: must be between 0 and 1")
    known = [s.times for s in series.values() if len(s.times)]
    start, end = (min(int(t[0]) for t in known), max(int(t[-1]) for t in known)) if known else (0, 0)
    cut = end - validation_fraction * (end - start)
    training = samples.take(samples.last_target_time < cut)
    validation = samples.take(samples.first_input_time >= cut)
    if len(training) < MIN_TRAINING_WINDOWS or len(validation) < MIN_VALIDATION_WINDOWS:
        raise ValueError(
            f"too little data: {len(samples)} windows of consecutive minutes found, {len(training)} for training and "
            f"{len(validation)} for validation; at least {MIN_TRAINING_WINDOWS} and {MIN_VALIDATION_WINDOWS} needed")
    return training, validation


def _floored(std: float, mean: float) -> float:
    """Constant data has std 0; dividing by it gave the original NaNs, so it is floored relative to the level."""
    return max(std, 1e-6 * max(abs(mean), 1.0))


def fit_scaler(training: Windows) -> Scaler:
    """Mean and std of the training inputs and targets only (the held-out part stays unseen)."""
    mean, target_mean = float(training.inputs.mean()), float(training.targets.mean())
    return Scaler(mean, _floored(float(training.inputs.std()), mean),
                  target_mean, _floored(float(training.targets.std()), target_mean))


def persistence(samples: Windows) -> np.ndarray:
    """The forecast to beat: the last input minute's value, for either target."""
    return samples.inputs[:, -1]


def mae(forecasts: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(forecasts, dtype=np.float64).reshape(-1) - targets)))


def skill(model_mae: float, persistence_mae: float) -> float:
    """1 − model/persistence: above 0 beats persistence. Against a perfect persistence, a perfect model ties (0)
    and any other is infinitely worse."""
    if persistence_mae == 0:
        return 0.0 if model_mae == 0 else -math.inf
    return 1 - model_mae / persistence_mae
