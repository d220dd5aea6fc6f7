#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`make demo`: the service against the simulated meter, and what every feature made of it.

Runs `clemap-edge run --simulate` (90 household minutes at 180x by default), then prints the newest rows as the original
readers query them, the forecaster's status and the exporter's: when moto's S3 server can be started on loopback
(pip's `moto[server]` and `boto3`, installed on first use when pip can reach PyPI), `[CLOUD]` points at it and the
closed hours land in its bucket as the fleet's lake has them. Without it, the demo runs without the exporter.
Ctrl-C stops the run early and keeps what was stored.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sqlite3
import subprocess
import sys
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
    try:
        say(f"clemap-edge run: {args.seconds} simulated seconds at {args.speed}x ({Path(args.scenario).name}); "
            "Ctrl-C stops early and keeps what was stored.")
        run = subprocess.Popen([args.binary, "run", "--simulate", "--config", str(config), "--scenario", args.scenario,
                                "--sim-speed", args.speed, "--sim-duration", args.seconds, "--db", str(db)])
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
