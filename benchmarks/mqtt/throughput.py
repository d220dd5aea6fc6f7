# SPDX-License-Identifier: Apache-2.0
"""MQTT throughput and memory: messages/s the service sustains into a real broker, and its peak RSS with MQTT on
against off, in the same run.

Run by benchmarks/mqtt/throughput.sh (which builds the release binary); it prints figures and exits 0 unless a step
cannot run. A benchmark, not a test (integration/process/test_mqtt.py is the test).

1. On: mosquitto on a free loopback port, a paho-mqtt subscriber to clemap/<serial>/# (QoS 1), and
   `clemap-edge run --simulate --sim-speed SPEED --sim-duration SPEED*SECONDS` with [MQTT] on and
   publish_interval_sec = 1 (its minimum): a live state every simulated second, so SPEED states a second of real
   time, plus a minute row and an energy message every 60/SPEED s. Under GNU time (peak RSS).
2. Off: the same binary, config, scenario, speed and duration with [MQTT] enabled = false.
[HTTP] is off in both (no port to share), the forecaster on as shipped. The sampling grid of each run is read from
its database: rows, snapshots per row, rows flagged with missed snapshots (flag 4).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "integration" / "process"))

from httpservice import set_keys  # noqa: E402
from mqttbroker import Broker, Recorder  # noqa: E402

SERIAL = "BENCH0001"
BASE = f"clemap/{SERIAL}"


def say(text: str) -> None:
    print(f"[bench-mqtt] {text}", file=sys.stderr, flush=True)


def die(text: str) -> None:
    say(f"ERROR: {text}")
    sys.exit(1)


def config(dest: Path, port: int, enabled: bool) -> Path:
    text = (ROOT / "calibration" / "config.ini").read_text()
    text = set_keys(text, "INFO", {"hw_serial": SERIAL})
    text = set_keys(text, "HTTP", {"enabled": "false"})
    text = set_keys(text, "MQTT", {"enabled": "true" if enabled else "false", "port": str(port), "publish_interval_sec": "1"})
    dest.write_text(text)
    return dest


def run(binary: Path, cfg: Path, db: Path, out: Path, name: str, speed: float, seconds: float) -> tuple[int, float, str, float]:
    """The service under GNU time until --sim-duration ends it: (peak RSS KiB, wall seconds, its log, CPU seconds)."""
    log, rss = out / f"{name}.log", out / f"{name}.rss"
    argv = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss), str(binary), "run", "--simulate", "--config", str(cfg), "--db", str(db),
            "--scenario", str(ROOT / "scenarios" / "home-day.json"), "--sim-speed", f"{speed:g}",
            "--sim-duration", f"{speed * seconds:g}"]
    began = time.monotonic()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
                          env={**os.environ, "TMPDIR": str(out)}, timeout=seconds * 3 + 120)
    wall = time.monotonic() - began
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        die(f"{name}: the service exited {done.returncode}:\n{text[-2000:]}")
    peak, user, system = rss.read_text().split()[-3:]
    return int(peak), wall, text, float(user) + float(system)


def grid(db: Path) -> tuple[int, int, float, int]:
    """(rows, fewest snapshots in a full row, mean snapshots per full row, rows flagged with missed snapshots)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute("SELECT samples, flags FROM meter_data").fetchall()
    full = [s for s, f in rows if not f & 1]
    return len(rows), min(full, default=0), sum(full) / max(1, len(full)), sum(1 for _, f in rows if f & 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=1200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="clemap-bench-mqtt."))
    version = subprocess.run([str(args.bin), "--version"], capture_output=True, text=True, check=True).stdout.strip()

    broker = Broker(out)
    recorder = Recorder(broker.port, topic=f"{BASE}/#", persistent=False, client_id="bench-subscriber")
    try:
        say(f"run 1: [MQTT] on, --sim-speed {args.speed:g}, {args.seconds:g} s, a state every simulated second")
        on_rss, on_wall, on_log, on_cpu = run(args.bin, config(out / "on.ini", broker.port, True), out / "on.db", out, "on",
                                      args.speed, args.seconds)
        time.sleep(1)
    finally:
        recorder.close()
        broker.stop()
    say(f"run 2: [MQTT] enabled = false, the same for {args.seconds:g} s")
    off_rss, off_wall, _, off_cpu = run(args.bin, config(out / "off.ini", broker.port, False), out / "off.db", out, "off",
                               args.speed, args.seconds)

    messages = recorder.snapshot()
    states = [m for m in messages if m.topic == f"{BASE}/state"]
    if len(states) < 10:
        die(f"only {len(states)} states arrived:\n{on_log[-2000:]}")
    # Sustained: the states that arrived between the first and the last, over that time.
    span = states[-1].at - states[0].at
    counts = {name: sum(1 for m in messages if m.topic == f"{BASE}/{name}") for name in ("state", "minute", "energy")}
    published = re.search(r"messages\.minutes=(\d+) messages\.other=(\d+) messages\.state=(\d+)", on_log)
    on_grid, off_grid = grid(out / "on.db"), grid(out / "off.db")
    with sqlite3.connect(f"file:{out / 'on.db'}?mode=ro", uri=True) as c:
        stored, snapshots = c.execute("SELECT count(*), sum(samples) FROM meter_data").fetchone()

    print(f"\nclemap-edge {version} (release), --sim-speed {args.speed:g}, publish_interval_sec = 1, {args.seconds:g} s a run, "
          f"mosquitto on loopback, paho-mqtt subscriber (QoS 1), {os.cpu_count()} cores")
    print(f"  live state received: {len(states)} in {span:.1f} s = {len(states) / span:,.0f} messages/s sustained "
          f"(a state per simulated second: {args.speed:g}/s offered)")
    print(f"  every snapshot the sampler took is a state received: {len(states)} states, {snapshots} snapshots in the "
          f"stored rows ({len(states) / snapshots:.1%}); the rate is the sampler's, see the grid below")
    print(f"  all messages received: {len(messages)} ({counts['minute']} minutes of {stored} stored, {counts['energy']} energy, "
          f"the rest status, outputs) = {len(messages) / span:,.0f}/s")
    if published:
        print(f"  handed to libmosquitto (the service's count): state {published.group(3)}, minutes {published.group(1)}, "
              f"other {published.group(2)}")
    for label, (rows, fewest, mean, missed) in (("MQTT on ", on_grid), ("MQTT off", off_grid)):
        print(f"  sampling, {label}: {rows} rows, snapshots per full row min {fewest} mean {mean:.2f}, "
              f"{missed} rows flagged with missed snapshots")
    print(f"  service CPU (user + system): MQTT on {on_cpu:.2f} s, off {off_cpu:.2f} s: "
          f"{(on_cpu - off_cpu) / max(1, len(messages)) * 1e6:.0f} µs a message")
    print(f"  peak RSS, [MQTT] on:            {on_rss / 1024:6.1f} MiB  (wall {on_wall:.1f} s)")
    print(f"  peak RSS, [MQTT] enabled=false: {off_rss / 1024:6.1f} MiB  (baseline, same run; wall {off_wall:.1f} s)")
    print(f"  ratio: {on_rss / off_rss:.2f}")


if __name__ == "__main__":
    main()
