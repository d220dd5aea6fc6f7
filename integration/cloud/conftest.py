# SPDX-License-Identifier: Apache-2.0
"""The retraining loop end to end (`make test-cloud`): the process tests' harness (the built binary as a process,
moto's server on loopback) and the cloud functions in this process.

Needs: the debug binary (`swift build`), .venv-cloud (cloud/requirements-dev.txt) running pytest, and a Python with
TensorFlow for the training job in CLOUD_TRAIN_PYTHON (cloud/training/requirements.txt; make test-cloud makes it).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROCESS = REPO / "integration" / "process"
sys.path.insert(0, str(PROCESS))
sys.path.insert(0, str(REPO / "cloud"))

# The process tests' conftest, loaded under its own name so its fixtures serve here too.
_spec = importlib.util.spec_from_file_location("process_conftest", PROCESS / "conftest.py")
process_conftest = importlib.util.module_from_spec(_spec)
sys.modules["process_conftest"] = process_conftest
_spec.loader.exec_module(process_conftest)
clemap_bin = process_conftest.clemap_bin
config_ini = process_conftest.config_ini
scenario = process_conftest.scenario


@pytest.fixture(scope="session")
def train_python() -> Path:
    """The Python the training job runs with (TensorFlow); a missing one fails, it never skips."""
    value = os.environ.get("CLOUD_TRAIN_PYTHON")
    if not value or not Path(value).is_file():
        pytest.fail("CLOUD_TRAIN_PYTHON must name a Python with cloud/training/requirements.txt installed; "
                    "`make test-cloud` makes .venv-cloud-train and sets it", pytrace=False)
    return Path(value)
