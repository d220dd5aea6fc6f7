# SPDX-License-Identifier: Apache-2.0
"""The training job (cloud/training/train.py) run as SageMaker runs it, a subprocess, on synthetic lake CSVs with
something to learn: it must save exactly what the device reads, and refuse (exit 1, nothing saved) what it must not
publish. Needs TensorFlow (.venv-keras3); small data and few epochs keep it near a minute."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

CLOUD = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CLOUD / "training"))
sys.path.insert(0, str(CLOUD / "tests"))
import minutes  # noqa: E402
import contract  # noqa: E402
from lake import write_lake  # noqa: E402

T0 = 1796083200  # 2026-12-01 00:00 UTC
# SageMaker's metric definitions, as RetrainTrigger passes them, by the key train.py prints.
METRIC = {key: re.compile(d["Regex"]) for key, d in zip(contract.METRICS, contract.METRIC_DEFINITIONS)}
# Adam moves each weight by about the learning rate per step: at 1e38 float32 overflows within the first steps.
DIVERGING = ["--learning_rate", "1e38", "--epochs", "2"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of a fridge cycling every 45 min (15 min on at +120 W over a 400 W base), noise, a few gaps."""
    root = tmp_path_factory.mktemp("lake")
    rng = np.random.default_rng(7)
    gaps = {*range(500, 520), *range(2000, 2003), *range(3100, 3160)}
    write_lake(root, "SE-A", [(T0 + 60 * k, 400.0 + (120.0 if k % 45 < 15 else 0.0) + float(rng.normal(0, 5)))
                              for k in range(3 * 1440) if k not in gaps])
    return root


def run(lake: Path, out: Path, *hyperparameters: str) -> subprocess.CompletedProcess[str]:
    (out / "model").mkdir(parents=True)  # SageMaker makes it before the script starts
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")} | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, str(CLOUD / "training" / "train.py"), "--training", str(lake), "--model-dir",
         str(out / "model"), "--output-data-dir", str(out / "data"), "--failure-file", str(out / "failure"),
         "--window", "60", "--horizon", "15", "--target", "mean", "--units", "16", *hyperparameters],
        capture_output=True, text=True, env=env, timeout=300)


def metric(result: subprocess.CompletedProcess[str], name: str) -> float:
    (value,) = METRIC[name].findall(result.stdout)  # exactly one line each
    return float(value)


@pytest.fixture(scope="module")
def trained(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("trained")
    return run(lake, out, "--epochs", "6", "--model_dir", "s3://bucket/job/model"), out


def test_saves_exactly_what_the_device_reads(trained: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, out = trained
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (out / "model").iterdir()) == ["model.h5", "scaler.json"]
    assert metric(result, "skill") > 0
    assert metric(result, "skill") == pytest.approx(
        1 - metric(result, "validation_mae") / metric(result, "persistence_mae"))
    scaler = json.loads((out / "model" / "scaler.json").read_text())
    assert set(scaler) == {"mean", "std", "target_mean", "target_std", "horizon_min", "target"}
    assert (scaler["horizon_min"], scaler["target"]) == (15, "mean") and scaler["std"] > 0
    saved = json.loads((out / "data" / "metrics.json").read_text())
    assert saved["failure"] is None and saved["skill"] == metric(result, "skill")
    assert not (out / "failure").exists()


def test_h5_holds_only_layers_the_device_computes(trained: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    with h5py.File(trained[1] / "model" / "model.h5") as file:
        config = json.loads(file.attrs["model_config"])
    assert config["class_name"] == "Sequential"
    assert [layer["class_name"] for layer in config["config"]["layers"]] == ["InputLayer", "LSTM", "Dense"]


def test_reloaded_model_gives_the_same_validation_mae(
        lake: Path, trained: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    import keras

    result, out = trained
    model = keras.saving.load_model(out / "model" / "model.h5", compile=False)
    scaler = json.loads((out / "model" / "scaler.json").read_text())
    series = minutes.read_folder(lake)
    _, validation = minutes.split(series, minutes.all_windows(series, 60, 15, "mean"), 0.2)
    scaled = model.predict(((validation.inputs[..., None] - scaler["mean"]) / scaler["std"]).astype(np.float32),
                           batch_size=256, verbose=0)
    forecasts = scaled.reshape(-1).astype(np.float64) * scaler["target_std"] + scaler["target_mean"]
    assert minutes.mae(forecasts, validation.targets) == pytest.approx(metric(result, "validation_mae"), rel=1e-6)


def test_quoted_hyperparameters_and_keras_format(lake: Path, tmp_path: Path) -> None:
    result = run(lake, tmp_path, "--cell", '"gru"', "--format", '"keras"', "--epochs", '"3"', "--batch-size", "128")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["model.keras", "scaler.json"]


def assert_refused(result: subprocess.CompletedProcess[str], out: Path) -> str:
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert list((out / "model").iterdir()) == []
    reason = (out / "failure").read_text()
    assert reason.strip() in result.stderr
    return reason


def test_divergence_is_refused(lake: Path, tmp_path: Path) -> None:
    result = run(lake, tmp_path, *DIVERGING)
    assert re.search(r"loss: nan", result.stdout)  # it really diverged
    assert "non-finite" in assert_refused(result, tmp_path)


def test_no_better_than_persistence_is_refused(lake: Path, tmp_path: Path) -> None:
    result = run(lake, tmp_path, "--epochs", "1", "--min_skill", "0.99")
    reason = assert_refused(result, tmp_path)
    assert f"skill {metric(result, 'skill'):.4g} <= min_skill 0.99" in reason and "persistence" in reason
    assert json.loads((tmp_path / "data" / "metrics.json").read_text())["failure"] == reason.strip()


@pytest.mark.parametrize(("hyperparameters", "message"), [
    (["--horizon", "7"], "target 'mean' with horizon 7: the device serves value 1, 15, 60; mean 15, 60"),
    (["--cell", "conv"], "cell 'conv': one of lstm, gru, simple_rnn"),
    (["--target", "value", "--horizon", "30"], "horizon 30"),
])
def test_bad_hyperparameters(lake: Path, tmp_path: Path, hyperparameters: list[str], message: str) -> None:
    result = run(lake, tmp_path, *hyperparameters)
    assert result.returncode != 0 and message in result.stderr
    assert message in (tmp_path / "failure").read_text()
    assert list((tmp_path / "model").iterdir()) == []


def test_constant_data_is_refused_without_nan(tmp_path: Path) -> None:
    """The original's constant input gave NaN weights; here the floored std keeps it finite, and a model can only
    tie a perfect persistence, so it is refused for its skill."""
    write_lake(tmp_path / "lake", "SE-A", [(T0 + 60 * k, 250.0) for k in range(1440)])
    result = run(tmp_path / "lake", tmp_path / "out", "--epochs", "1")
    reason = assert_refused(result, tmp_path / "out")
    assert "non-finite" not in reason and "persistence 0 W" in reason
