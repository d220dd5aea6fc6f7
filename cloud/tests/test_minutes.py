# SPDX-License-Identifier: Apache-2.0
"""The training job's data part (cloud/training/minutes.py) on real CSV files in the lake's layout: what a model
learns from is decided here, so windows, targets, the split and the scaler are checked against hand counts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import minutes  # noqa: E402
from lake import METER_COLUMNS, hour_path, meter_row, write_lake  # noqa: E402

T0 = 1796101200  # 2026-12-01 05:00 UTC


def at(*minute_ranges: range, value: float = 100.0) -> list[tuple[int, float | None]]:
    return [(T0 + 60 * k, value + k) for r in minute_ranges for k in r]


def test_header_is_meter_data() -> None:
    # Migration 1's 37 columns, then migration 2's THD and neutral current (13).
    assert len(METER_COLUMNS) == 50 and METER_COLUMNS[:4] == ["time", "l1_v", "l2_v", "l3_v"]
    assert METER_COLUMNS[7:10] == ["l1_p", "l2_p", "l3_p"] and METER_COLUMNS[32:37] == [
        "duration_s", "samples", "flags", "temp_c", "input_b"]
    assert METER_COLUMNS[37:40] == ["l1_vthd", "l2_vthd", "l3_vthd"] and METER_COLUMNS[-1] == "n_i"
    assert hour_path(Path("r"), "SE-A", T0 + 59) == Path("r/data/minutes/device=SE-A/date=2026-12-01/hour=05.csv")


def test_windows_never_span_a_gap(tmp_path: Path) -> None:
    # Runs of 10, 19, 4 and 5 minutes; the second crosses into hour 06's file and stays one run.
    write_lake(tmp_path, "SE-A", at(range(0, 10), range(50, 69), range(71, 75), range(80, 85)))
    series = minutes.read_folder(tmp_path)
    assert [len(r.times) for r in minutes.runs(series["SE-A"])] == [10, 19, 4, 5]
    samples = minutes.all_windows(series, window=3, horizon=2, target="value")
    assert len(samples) == 6 + 15 + 0 + 1  # a run of L minutes gives L − window − horizon + 1
    assert np.all(samples.last_target_time - samples.first_input_time == 60 * (3 + 2 - 1))


@pytest.mark.parametrize(("target", "horizon", "expected"), [
    ("value", 2, [25, 36, 49]), ("mean", 2, [20.5, 30.5, 42.5]), ("value", 1, [16, 25, 36, 49])])
def test_targets_by_hand(tmp_path: Path, target: str, horizon: int, expected: list[float]) -> None:
    write_lake(tmp_path, "SE-A", [(T0 + 60 * k, float((k + 1) ** 2)) for k in range(7)])  # 1 4 9 16 25 36 49
    samples = minutes.all_windows(minutes.read_folder(tmp_path), window=3, horizon=horizon, target=target)
    assert samples.targets.tolist() == pytest.approx(expected)
    assert samples.inputs[0].tolist() == pytest.approx([1, 4, 9])


def test_devices_are_never_mixed(tmp_path: Path) -> None:
    # B's minutes continue A's in time: joined they would make one run of 20 and 16 windows.
    write_lake(tmp_path, "SE-A", at(range(0, 10), value=100))
    write_lake(tmp_path, "SE-B", at(range(10, 20), value=900))
    series = minutes.read_folder(tmp_path)
    assert list(series) == ["SE-A", "SE-B"]
    samples = minutes.all_windows(series, window=3, horizon=2, target="mean")
    assert len(samples) == 6 + 6
    assert all(row.max() < 500 or row.min() > 500 for row in samples.inputs)


def test_nearest_device_folder_names_the_series() -> None:
    assert minutes.device_of(Path("/lake/device=fleet/x/device=SE-B/date=d/hour=01.csv")) == "SE-B"
    assert minutes.device_of(Path("/opt/ml/input/data/training/date=d/hour=01.csv")) == "default"


def test_duplicates_count_once(tmp_path: Path) -> None:
    (path,) = write_lake(tmp_path, "SE-A", at(range(0, 10)))
    copy = path.parent.parent / "retry" / path.name  # the same hour uploaded again elsewhere under the device
    copy.parent.mkdir()
    copy.write_text(path.read_text() + ",".join(meter_row(T0 + 60 * 3, 103.0)) + "\n")
    series = minutes.read_folder(tmp_path)["SE-A"]
    assert series.times.tolist() == [T0 + 60 * k for k in range(10)]
    assert series.values.tolist() == pytest.approx([100.0 + k for k in range(10)])
    assert len(minutes.all_windows({"SE-A": series}, window=3, horizon=2, target="value")) == 6


def test_null_power_is_a_gap(tmp_path: Path) -> None:
    rows = at(range(0, 12))
    rows[5] = (rows[5][0], None)  # l2_p empty
    write_lake(tmp_path, "SE-A", rows)
    series = minutes.read_folder(tmp_path)["SE-A"]
    assert T0 + 300 not in series.times
    assert [len(r.times) for r in minutes.runs(series)] == [5, 6]
    assert len(minutes.all_windows({"SE-A": series}, window=3, horizon=2, target="value")) == 1 + 2


def test_time_target_format(tmp_path: Path) -> None:
    lines = ["time,target"] + [f"{T0 + 60 * k},{k * 10}" for k in range(6)] + [f"{T0 + 600},"]
    (tmp_path / "export.csv").write_text("\n".join(lines) + "\n")
    series = minutes.read_folder(tmp_path)
    assert list(series) == ["default"]
    assert series["default"].values.tolist() == [0, 10, 20, 30, 40, 50]  # the empty target is a missing minute


def long_lake(root: Path) -> dict[str, minutes.Series]:
    """Two devices, a day of minutes with gaps; the last part much higher, to tell the parts apart."""
    for device, shift in (("SE-A", 0), ("SE-B", 7)):
        write_lake(root, device, [(T0 + 60 * k, 100.0 + (k % 30) + (1000.0 if k >= 1100 else 0.0))
                                  for k in range(shift, 1440) if k % 97 not in (0, 1)])
    return minutes.read_folder(root)


def test_split_has_no_leakage(tmp_path: Path) -> None:
    series = long_lake(tmp_path)
    samples = minutes.all_windows(series, window=20, horizon=15, target="mean")
    training, validation = minutes.split(series, samples, validation_fraction=0.25)
    assert training.last_target_time.max() < validation.first_input_time.min()
    cut = T0 + 60 * 1439 - 0.25 * 60 * 1439
    assert validation.first_input_time.min() >= cut > training.last_target_time.max()
    assert len(training) + len(validation) < len(samples)  # windows across the cut are used by neither


def test_scaler_from_training_part_only(tmp_path: Path) -> None:
    series = long_lake(tmp_path)
    samples = minutes.all_windows(series, window=20, horizon=15, target="value")
    training, _ = minutes.split(series, samples, validation_fraction=0.2)
    scaler = minutes.fit_scaler(training)
    assert scaler.mean == pytest.approx(training.inputs.mean()) and scaler.mean < 200  # the high tail is held out
    assert scaler.std == pytest.approx(training.inputs.std())
    assert scaler.target_mean == pytest.approx(training.targets.mean())
    assert scaler.target_std == pytest.approx(training.targets.std())
    assert set(scaler.as_json(15, "value")) == {"mean", "std", "target_mean", "target_std", "horizon_min", "target"}


def test_constant_data_has_a_nonzero_std() -> None:
    flat = minutes.Windows(np.full((5, 3), 250.0), np.full(5, 250.0), np.zeros(5, np.int64), np.zeros(5, np.int64))
    scaler = minutes.fit_scaler(flat)
    assert scaler.std > 0 and scaler.target_std > 0


def test_persistence_mae_and_skill_by_hand() -> None:
    samples = minutes.Windows(np.array([[1.0, 2, 3], [4, 5, 6]]), np.array([5.0, 2.0]),
                              np.zeros(2, np.int64), np.zeros(2, np.int64))
    assert minutes.persistence(samples).tolist() == [3, 6]
    assert minutes.mae(minutes.persistence(samples), samples.targets) == 3.0  # (|5 − 3| + |2 − 6|) / 2
    assert minutes.skill(1.5, 3.0) == 0.5
    assert minutes.skill(0.0, 0.0) == 0.0 and minutes.skill(1.0, 0.0) == -np.inf


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "device=SE-A" / "hour=05.csv"
    path.parent.mkdir()
    path.write_text(f"time,l1_p,l2_p\n{T0},1,2\n")
    with pytest.raises(ValueError, match=r"hour=05\.csv:1: missing column\(s\) l3_p"):
        minutes.read_folder(tmp_path)


def test_bad_value_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(f"time,target\n{T0},1\n{T0 + 60},watts\n")
    with pytest.raises(ValueError, match=r"x\.csv:3: column 'target' is not a number"):
        minutes.read_folder(tmp_path)


def test_no_csv_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no \\*.csv under"):
        minutes.read_folder(tmp_path)


def test_too_little_data_says_found_and_needed(tmp_path: Path) -> None:
    write_lake(tmp_path, "SE-A", at(range(0, 100)))
    series = minutes.read_folder(tmp_path)
    samples = minutes.all_windows(series, window=10, horizon=15, target="mean")  # 100 − 10 − 15 + 1 = 76
    with pytest.raises(ValueError, match=r"too little data: 76 windows .* found, .*at least 100 and 10 needed"):
        minutes.split(series, samples, validation_fraction=0.2)
