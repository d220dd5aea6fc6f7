# SPDX-License-Identifier: Apache-2.0
"""The HTTP API under wrk while the service samples in real time: requests/s and latency percentiles of
/api/v1/live and /metrics, the service's peak RSS under that load, and the same service with `[HTTP] enabled =
false` (no server at all) as the RSS baseline, measured in the same run.

Run by benchmarks/http/load.sh (which builds the release binary); it prints figures and exits 0 unless a step
cannot run. It is a benchmark, not a test (integration/process/test_http_load.py is the test).

1. Loaded: `clemap-edge run --simulate --sim-speed 1` (scenarios/home-day.json) with [HTTP] on a free loopback
   port; after WARMUP_S, wrk (-t2 -c16 --latency) on /api/v1/live for SECONDS, then on /metrics for SECONDS; then
   VmHWM from /proc/PID/status. The chip's snapshot counter (/api/v1/status) before and after says whether
   sampling kept its one a second meanwhile.
2. Baseline: the same binary, config and scenario with [HTTP] enabled = false, for as long as run 1 lasted;
   then its VmHWM.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "integration" / "process"))
sys.path.insert(0, str(ROOT / "benchmarks" / "lib"))

import wrk  # noqa: E402
from httpservice import free_port, write_config  # noqa: E402
from service import NAME, die, get_json, say, start, stop, wait_for_reading  # noqa: E402

NAME[0] = "bench-http"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=10, help="wrk's duration per route")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if wrk.executable() is None:
        die("wrk not found: apt-get install wrk")
    out = args.out or Path(tempfile.mkdtemp(prefix="clemap-bench-http."))
    config_ini = ROOT / "calibration" / "config.ini"

    # 1. Loaded.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(config_ini, out / "on.ini", port)
    say(f"run 1: the service with [HTTP] on {base}, wrk {args.seconds:g} s on each route")
    began = time.monotonic()
    service = start(args.bin, config, out / "on.db", out / "on.log", out, "home-day")
    try:
        wait_for_reading(base, service, out / "on.log")
        time.sleep(args.warmup)
        before, t0 = get_json(base + "/api/v1/status"), time.monotonic()
        results = {}
        for route in ("/api/v1/live", "/metrics"):
            results[route] = wrk.finish(wrk.start(base + route, args.seconds, args.threads, args.connections),
                                        base + route, timeout=args.seconds + 60)
        after, t1 = get_json(base + "/api/v1/status"), time.monotonic()
        loaded_rss = wrk.peak_rss_kib(service.pid)
    finally:
        stop(service)
    duration = time.monotonic() - began

    # 2. Baseline: no HTTP server, as long as run 1.
    say(f"run 2: the same service with [HTTP] enabled = false for {duration:.0f} s")
    config = write_config(config_ini, out / "off.ini", free_port(), enabled=False)
    baseline = start(args.bin, config, out / "off.db", out / "off.log", out, "home-day")
    try:
        time.sleep(duration)
        if baseline.poll() is not None:
            die(f"the baseline service exited ({baseline.returncode}):\n{(out / 'off.log').read_text()[-2000:]}")
        baseline_rss = wrk.peak_rss_kib(baseline.pid)
    finally:
        stop(baseline)

    snapshots = after["chip"]["snapshots"] - before["chip"]["snapshots"]
    print(f"\nclemap-edge {after['version']} (release), --sim-speed 1, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.seconds:g}s per route, {os.cpu_count()} cores, on loopback")
    for route, result in results.items():
        print("  " + result.line(route))
    print(f"  sampling during the load: {snapshots} snapshots in {t1 - t0:.1f} s "
          f"({'kept one a second' if abs(snapshots - (t1 - t0)) <= 1.5 else 'MISSED SECONDS'})")
    print(f"  peak RSS (VmHWM), [HTTP] on under load: {loaded_rss / 1024:6.1f} MiB")
    print(f"  peak RSS (VmHWM), [HTTP] enabled = false: {baseline_rss / 1024:6.1f} MiB   (baseline, same run)")
    print(f"  ratio: {loaded_rss / baseline_rss:.2f}")
    bad = [route for route, result in results.items() if not result.clean]
    if bad:
        say(f"socket errors or non-2xx answers on {', '.join(bad)}: see the wrk output above")
        for route in bad:
            print(results[route].output, file=sys.stderr)


if __name__ == "__main__":
    main()
