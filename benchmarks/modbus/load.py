# SPDX-License-Identifier: Apache-2.0
"""Modbus TCP under load while the service samples in real time: requests/s and latency percentiles with 50
clients, the service's peak RSS under that load, and the same service with `[MODBUS] enabled = false` as the RSS
baseline, measured in the same run.

Run by benchmarks/modbus/load.sh (which builds the release binary and the C load generator); it prints figures and
exits 0 unless a step cannot run. It is a benchmark, not a test (integration/process/test_modbus.py is the test).

1. Loaded: `clemap-edge run --simulate --sim-speed 1` (scenarios/unbalanced-neutral.json) with [MODBUS] on a free
   loopback port ([HTTP] on too, as shipped: it answers /api/v1/status); after WARMUP_S, modbus-load (C, libmodbus:
   CLIENTS threads, one connection each, reading 19000 x 44, 20000 x 74 and 19018 x 2 in turn, back to back) for
   SECONDS; then VmHWM from /proc/PID/status. The chip's snapshot counter before and after says whether sampling
   kept its one a second meanwhile.
2. Baseline: the same binary, config and scenario with [MODBUS] enabled = false, for as long as run 1 lasted; then
   its VmHWM.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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

NAME[0] = "bench-modbus"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", type=Path, required=True)
    parser.add_argument("--load", type=Path, required=True, help="the modbus-load binary")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--with-mqtt", action="store_true",
                        help="run 1 also publishes to a mosquitto on loopback (state every second): the peak RSS with both on")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="clemap-bench-modbus."))
    config_ini = ROOT / "calibration" / "config.ini"

    # 1. Loaded.
    http_port, modbus_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    settings = {"MODBUS": {"enabled": "true", "port": str(modbus_port), "max_clients": "64"}}
    broker = recorder = None
    if args.with_mqtt:
        from mqttbroker import Broker, Recorder  # imports paho-mqtt only when asked
        broker = Broker(out)
        recorder = Recorder(broker.port)
        settings["MQTT"] = {"enabled": "true", "host": "127.0.0.1", "port": str(broker.port), "publish_interval_sec": "1"}
    config = write_config(config_ini, out / "on.ini", http_port, settings=settings)
    say(f"run 1: the service with [MODBUS] on 127.0.0.1:{modbus_port}, {args.clients} clients for {args.seconds:g} s")
    began = time.monotonic()
    service = start(args.bin, config, out / "on.db", out / "on.log", out, "unbalanced-neutral")
    try:
        wait_for_reading(base, service, out / "on.log")
        time.sleep(args.warmup)
        idle_rss = wrk.peak_rss_kib(service.pid)
        before, t0 = get_json(base + "/api/v1/status"), time.monotonic()
        done = subprocess.run([str(args.load), "127.0.0.1", str(modbus_port), str(args.clients), f"{args.seconds:g}"],
                              capture_output=True, text=True, timeout=args.seconds + 60)
        after, t1 = get_json(base + "/api/v1/status"), time.monotonic()
        loaded_rss = wrk.peak_rss_kib(service.pid)
        if not done.stdout.strip():
            die(f"modbus-load printed nothing (exit {done.returncode}): {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        stop(service)
        mqtt_messages = len(recorder.snapshot()) if recorder else 0
        if recorder:
            recorder.close()
        if broker:
            broker.stop()
    duration = time.monotonic() - began

    # 2. Baseline: no Modbus server, as long as run 1.
    say(f"run 2: the same service with [MODBUS] enabled = false for {duration:.0f} s")
    config = write_config(config_ini, out / "off.ini", free_port(), settings={"MODBUS": {"enabled": "false"}})
    baseline = start(args.bin, config, out / "off.db", out / "off.log", out, "unbalanced-neutral")
    try:
        time.sleep(duration)
        if baseline.poll() is not None:
            die(f"the baseline service exited ({baseline.returncode}):\n{(out / 'off.log').read_text()[-2000:]}")
        baseline_rss = wrk.peak_rss_kib(baseline.pid)
    finally:
        stop(baseline)

    snapshots = after["chip"]["snapshots"] - before["chip"]["snapshots"]
    print(f"\nclemap-edge {after['version']} (release), --sim-speed 1, modbus-load (C, libmodbus) {result['clients']} clients "
          f"x {args.seconds:g} s, {os.cpu_count()} cores, on loopback")
    print(f"  requests: {result['requests']} in {result['seconds']:.1f} s = {result['requests_per_s']:.0f}/s, "
          f"errors {result['errors']}, connect failures {result['connect_failures']}")
    print(f"  latency: p50 {result['p50_ms']:.2f} ms, p90 {result['p90_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
          f"max {result['max_ms']:.2f} ms")
    print(f"  sampling during the load: {snapshots} snapshots in {t1 - t0:.1f} s "
          f"({'kept one a second' if abs(snapshots - (t1 - t0)) <= 1.5 else 'MISSED SECONDS'})")
    if args.with_mqtt:
        print(f"  [MQTT] on as well (mosquitto on loopback, state every second): {mqtt_messages} messages received in run 1")
    print(f"  peak RSS (VmHWM), [MODBUS] on, before the load: {idle_rss / 1024:6.1f} MiB")
    print(f"  peak RSS (VmHWM), [MODBUS] on under load:      {loaded_rss / 1024:6.1f} MiB")
    print(f"  peak RSS (VmHWM), [MODBUS] enabled = false:    {baseline_rss / 1024:6.1f} MiB   (baseline, same run"
          + (", [MQTT] off too)" if args.with_mqtt else ")"))
    print(f"  ratio under load / baseline: {loaded_rss / baseline_rss:.2f}")
    if result["errors"] or result["connect_failures"]:
        say("some requests failed: see the figures above")


if __name__ == "__main__":
    main()
