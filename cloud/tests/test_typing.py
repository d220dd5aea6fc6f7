# SPDX-License-Identifier: Apache-2.0
"""The functions and the training job type-check under `mypy --strict` (boto3, keras and TensorFlow are untyped
here: what they return is Any)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLOUD = Path(__file__).resolve().parents[1]


# Two runs: train.py imports its neighbours as top-level modules (SageMaker runs it as a script), the functions as
# `training.contract`; one mypy run would see contract.py under two names.
@pytest.mark.parametrize("folder, targets", [(CLOUD, ["functions"]), (CLOUD / "training", ["train.py", "minutes.py", "contract.py"])],
                         ids=["functions", "training"])
def test_mypy_strict(folder: Path, targets: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "--cache-dir", "/dev/null",
                             *targets], cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
