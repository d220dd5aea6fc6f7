# SPDX-License-Identifier: Apache-2.0
"""Running wrk (Debian's /usr/bin/wrk) and reading its report; shared by test_http_load.py and
benchmarks/http/load.py, so it needs nothing but the standard library."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    url: str
    requests: int
    seconds: float
    requests_per_s: float
    latency_s: dict[int, float]  # percentile (50, 75, 90, 99) -> seconds
    socket_errors: dict[str, int]  # connect, read, write, timeout
    non_2xx_3xx: int
    output: str

    @property
    def clean(self) -> bool:
        return self.requests > 0 and self.non_2xx_3xx == 0 and not any(self.socket_errors.values())

    def line(self, label: str) -> str:
        ms = {p: f"{v * 1e3:.2f}" for p, v in self.latency_s.items()}
        return (f"{label:<16} {self.requests_per_s:>9.0f} req/s   p50 {ms.get(50, '?'):>7} ms   p90 {ms.get(90, '?'):>7} ms"
                f"   p99 {ms.get(99, '?'):>7} ms   ({self.requests} requests, non-2xx {self.non_2xx_3xx}, "
                f"socket errors {sum(self.socket_errors.values())})")


def executable() -> str | None:
    return shutil.which("wrk")


def command(url: str, seconds: float, threads: int = 2, connections: int = 16) -> list[str]:
    wrk = executable() or "wrk"
    return [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "2s", "--latency", url]


def start(url: str, seconds: float, threads: int = 2, connections: int = 16) -> subprocess.Popen[str]:
    return subprocess.Popen(command(url, seconds, threads, connections), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str], url: str, timeout: float = 60) -> WrkResult:
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited {process.returncode}:\n{output}")
    return parse(url, output)


def parse(url: str, output: str) -> WrkResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not done or not rate:
        raise ValueError(f"not a wrk report:\n{output}")
    latency = {int(p): float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()))) if errors else {}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(url, int(done.group(1)), float(done.group(2)) * _UNITS[done.group(3)], float(rate.group(1)),
                     latency, socket_errors, int(non_2xx.group(1)) if non_2xx else 0, output)


def peak_rss_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a running process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise ValueError(f"no VmHWM in /proc/{pid}/status")
