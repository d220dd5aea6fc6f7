# SPDX-License-Identifier: Apache-2.0
"""Helpers and fixtures for the installation tests (systemd unit, sysusers.d, udev rules, make install).

Everything runs offline and bounded: no network, every subprocess has a timeout, and nothing outside a
temporary directory is changed (the udev test works in a private mount namespace).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "clemap-edge.service"
SYSUSERS = REPO / "systemd" / "clemap-edge.sysusers"
RULES = REPO / "udev" / "60-clemap-edge.rules"
INSTALL_MK = REPO / "mk" / "install.mk"
DEFAULT_CONFIG = REPO / "calibration" / "config.ini"
DB_PATH = "/var/lib/clemap-edge/data_gathering.db"

# Seconds: generous bounds so a slow CI box passes and a hang still ends.
QUICK = 60
BUILD = 1800


def run(args, *, timeout=QUICK, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command with captured text output; on failure the assertion shows both streams."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


def need_tool(name: str, package: str) -> str:
    """The tool's path, or skip: `make test-install` (mk/install.mk) installs the packages first."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (apt-get install {package}, or run `make test-install`)")
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(scope="session")
def binary(tmp_path_factory) -> Path:
    """A copy of the clemap-edge binary: the debug build if there is one, else `swift build` makes it.

    Copied once so a concurrent rebuild of .build cannot hand a half-linked file to a test.
    """
    built = REPO / ".build" / "debug" / "clemap-edge"
    if not (built.is_file() and os.access(built, os.X_OK)):
        swift = shutil.which("swift") or "/opt/swift/usr/bin/swift"
        if not Path(swift).exists():
            pytest.skip("no .build/debug/clemap-edge and no swift to build it")
        run([swift, "build", "--package-path", str(REPO), "--product", "clemap-edge"], timeout=BUILD)
    copy = tmp_path_factory.mktemp("bin") / "clemap-edge"
    shutil.copy2(built, copy)
    return copy


def make_install(*goals: str, destdir: Path, binary: Path | None = None, makefile: Path = INSTALL_MK,
                 directory: Path = REPO, **variables: str) -> subprocess.CompletedProcess:
    """`make -f <makefile> <goals> DESTDIR=… [BIN=…] [VAR=value…]`, run in `directory`."""
    args = ["make", "--no-print-directory", "-C", str(directory), "-f", str(makefile), *goals,
            f"DESTDIR={destdir}"]
    if binary is not None:
        args.append(f"BIN={binary}")
    args += [f"{key}={value}" for key, value in variables.items()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return run(args, env=env, timeout=QUICK)


@pytest.fixture(scope="module")
def staged(tmp_path_factory, binary) -> Path:
    """A tree staged by `make install DESTDIR=<tmp>` with the default PREFIX=/usr/local."""
    destdir = tmp_path_factory.mktemp("destdir")
    make_install("install", destdir=destdir, binary=binary)
    return destdir
