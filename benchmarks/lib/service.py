# SPDX-License-Identifier: Apache-2.0
"""What the benchmarks that load a running service share: the release binary started on the simulator in real
time, stopped with SIGTERM, asked over its HTTP API, and a prefix on every message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = ["bench"]


def say(text: str) -> None:
    print(f"[{NAME[0]}] {text}", file=sys.stderr, flush=True)


def die(text: str) -> None:
    say(f"ERROR: {text}")
    sys.exit(1)


def start(binary: Path, config: Path, db: Path, log: Path, tmp: Path, scenario: str) -> subprocess.Popen[bytes]:
    """`clemap-edge run --simulate --sim-speed 1` on scenarios/<scenario>.json, its log in `log`."""
    argv = [str(binary), "run", "--simulate", "--config", str(config), "--db", str(db),
            "--scenario", str(ROOT / "scenarios" / f"{scenario}.json"), "--sim-speed", "1"]
    # TMPDIR: a simulated run keeps its output states and spill files there.
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
                            env={**os.environ, "TMPDIR": str(tmp)})


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def wait_for_reading(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Until GET /api/v1/live answers (the first snapshot was taken); dies with the log's tail if the service exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            die(f"the service exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            get_json(base + "/api/v1/live")
            return
        except OSError:
            time.sleep(0.1)
    die(f"no answer from {base}/api/v1/live within {timeout} s:\n{log.read_text()[-2000:]}")
