#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`make demo`: the service against the simulated meter, and what every feature made of it.

Runs `clemap-edge run --simulate` (90 household minutes at 180x by default), then prints the newest rows as the original
readers query them, the forecaster's status and the exporter's: when moto's S3 server can be started on loopback
(pip's `moto[server]` and `boto3`, installed on first use when pip can reach PyPI), `[CLOUD]` points at it and the
closed hours land in its bucket as the fleet's lake has them. Without it, the demo runs without the exporter.
Halfway through, it asks the running service's HTTP API (`[HTTP]`, 127.0.0.1:4000, or a free port when 4000 is taken)
for the live values, today's energy, the health and a few Prometheus metrics; the dashboard is at its `/` meanwhile.
Ctrl-C stops the run early and keeps what was stored.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "integration" / "process"))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def moto_available() -> bool:
    if importlib.util.find_spec("moto") and importlib.util.find_spec("boto3") and importlib.util.find_spec("flask"):
        return True
    say("installing moto's S3 server for the exporter's part of the demo (pip install 'moto[server]' boto3) …")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "moto[server]", "boto3"], capture_output=True, text=True)
    if result.returncode != 0:
        say("  not installed (no PyPI?): the demo runs without the exporter.")
        return False
    importlib.invalidate_caches()
    return True


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else one the kernel picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return probe.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free loopback port")


def with_http_port(config: Path, out: Path, port: int) -> Path:
    """`config` with `[HTTP] port` set, and `[POWER_QUALITY] overcurrent_a = 32` (off as shipped) so the demo's 40 A
    spike is an event: the only lines changed."""
    section, lines = "", []
    for line in config.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
        key = stripped.split("=", 1)[0].strip()
        if section == "HTTP" and key == "port":
            line = f"port = {port}"
        if section == "POWER_QUALITY" and key == "overcurrent_a" and not stripped.split("=", 1)[1].strip():
            line = "overcurrent_a = 32"
        lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return out


def show_api(base: str, after: float) -> None:
    """Halfway through the run: what the HTTP API answers."""
    time.sleep(after)
    try:
        def get(path: str) -> bytes:
            with urllib.request.urlopen(base + path, timeout=5) as answer:
                return answer.read()
        live = json.loads(get("/api/v1/live"))
        energy = json.loads(get("/api/v1/energy"))["today"]
        status = json.loads(get("/api/v1/status"))
        metrics = [line for line in get("/metrics").decode().splitlines() if line.startswith(("clemap_active_power_watts", "clemap_freq"))]
    except (OSError, ValueError) as error:
        say(f"\n[HTTP API at {base}: no answer ({error})]")
        return
    power = sum(live[f"l{n}_p"] for n in (1, 2, 3))
    say(f"\n[HTTP API, {base}, while it runs]\n"
        f"  GET /api/v1/live    l1_v {live['l1_v']} V, l1_p {live['l1_p']} W, l2_p {live['l2_p']} W, l3_p {live['l3_p']} W "
        f"(total {power:.0f} W), freq {live['freq']} Hz\n"
        f"  GET /api/v1/energy  today: imported {energy['total_wh_imp'] / 1000:.3f} kWh, exported {energy['total_wh_exp'] / 1000:.3f} kWh\n"
        f"  GET /api/v1/status  {status['health']}, {status['storage']['rows']} rows, uptime {status['uptime_s']:.0f} s, "
        f"version {status['version']}\n"
        f"  GET /metrics        " + "\n                      ".join(metrics) + "\n"
        f"  the dashboard: {base}/ ; the API: {base}/api/v1/openapi.yaml\n")


def with_disturbances(scenario: Path, out: Path, every_s: float = 900) -> Path:
    """The scenario with the dips, swells, interruption and overcurrent of scenarios/pq-disturbances.json added, each
    every 15 simulated minutes (unless it scripts its own): the power-quality events the demo then lists."""
    data = json.loads(scenario.read_text())
    if "disturbances" in data:
        return scenario
    script = json.loads((ROOT / "scenarios" / "pq-disturbances.json").read_text())["disturbances"]
    data["disturbances"] = [dict(d, every_s=every_s) for d in script]
    out.write_text(json.dumps(data, indent=1))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "debug" / "clemap-edge"))
    parser.add_argument("--config", default=str(ROOT / "calibration" / "config.ini"))
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "home-day.json"))
    parser.add_argument("--db", default=str(ROOT / "out" / "demo.db"))
    parser.add_argument("--speed", default="180")
    parser.add_argument("--seconds", default="5400")
    args = parser.parse_args()

    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    config = Path(args.config)
    moto = None
    if moto_available():
        from s3server import MotoServer, cloud_config

        moto = MotoServer(db.parent, bucket="demo-lake")
        config = cloud_config(Path(args.config), db.parent / "demo-config.ini", endpoint=moto.url, bucket=moto.bucket,
                              serial="DEMO0001", credentials=moto.credentials)
        say(f"exporter: moto's S3 server on {moto.url}, bucket {moto.bucket} ([CLOUD] in {config})")
    scenario = with_disturbances(Path(args.scenario), db.parent / "demo-scenario.json")
    port = free_port(4000)
    config = with_http_port(config, db.parent / "demo-http-config.ini", port)
    base = f"http://127.0.0.1:{port}"
    try:
        wall = float(args.seconds) / float(args.speed)
        say(f"clemap-edge run: {args.seconds} simulated seconds at {args.speed}x ({Path(args.scenario).name}"
            f"{' with the disturbances of pq-disturbances.json every 15 min' if scenario != Path(args.scenario) else ''}, {wall:.0f} s); "
            f"the dashboard meanwhile at {base}/. Ctrl-C stops early and keeps what was stored.")
        run = subprocess.Popen([args.binary, "run", "--simulate", "--config", str(config), "--scenario", str(scenario),
                                "--sim-speed", args.speed, "--sim-duration", args.seconds, "--db", str(db)])
        threading.Thread(target=show_api, args=(base, wall * 0.6), daemon=True).start()
        try:
            run.wait()
        except KeyboardInterrupt:
            run.send_signal(signal.SIGINT)
            run.wait()

        say("\nThe newest rows, as the original readers query them:")
        con = sqlite3.connect(db)
        rows = con.execute("SELECT time, l1_p, l2_p, l3_p FROM meter_data ORDER BY time DESC LIMIT 10").fetchall()
        con.close()
        print(f"{'time':>10}  {'l1_p':>10}  {'l2_p':>10}  {'l3_p':>10}")
        for row in rows:
            print(f"{row[0]:>10}  " + "  ".join(f"{v:>10.1f}" if v is not None else f"{'':>10}" for v in row[1:]))

        say("\nPower-quality events from the chip's half-cycle engine (timed to the half cycle at 1x; at this speed each poll"
            " spans a simulated second, so the durations are that coarse):")
        subprocess.run([args.binary, "pq", "events", "--since", "0", "--config", str(config), "--db", str(db)], stderr=subprocess.DEVNULL)

        say("\nThe forecaster (three-phase total power; the built-in model trains once it holds three weeks):")
        subprocess.run([args.binary, "forecast", "status", "--config", str(config), "--db", str(db)], stderr=subprocess.DEVNULL)

        if moto is not None:
            say("\nThe exporter: the outbox, then the lake (one CSV a closed UTC hour, Hive-partitioned):")
            subprocess.run([args.binary, "export", "status", "--config", str(config), "--db", str(db)], stderr=subprocess.DEVNULL)
            objects = moto.client().list_objects_v2(Bucket=moto.bucket).get("Contents", [])
            for item in objects:
                print(f"  s3://{moto.bucket}/{item['Key']}  {item['Size']} bytes")
            if objects:
                head = moto.get(objects[0]["Key"]).decode().splitlines()
                print(f"  first lines of the first: {head[0][:60]}…\n    {head[1][:60]}…")
            else:
                print("  none yet: an hour is uploaded once it is closed (the run crossed no full hour)")
        say(f"\nMore: sqlite3 {db} 'SELECT * FROM meter_data ORDER BY time DESC LIMIT 3' (columns: README.md)")
        return 0
    finally:
        if moto is not None:
            moto.stop()


if __name__ == "__main__":
    sys.exit(main())
