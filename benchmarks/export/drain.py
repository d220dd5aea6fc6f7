# SPDX-License-Identifier: Apache-2.0
"""The exporter draining a week's backlog into moto's S3 server: throughput and the service's peak RSS.

Run by benchmarks/export/drain.sh (which builds the release binary); it prints figures, each beside a baseline
measured in the same run, and exits 0 unless a step cannot run. It is a benchmark, not a test.

1. The backlog: `clemap-edge run --simulate` (scenarios/home-day.json, forecaster off) for a simulated week at
   BENCH_WEEK_SPEED with `[CLOUD]` pointing at a stopped relay (connection refused), so every closed hour waits in
   export_outbox. Its database is copied once, made "store reachable again": the pending hours due now
   (next_attempt = 0, the stored pause and error cleared), trimmed to exactly DAYS x 24 closed hours.
2. `clemap-edge export flush` on a copy (prefix flush/): the whole outbox in one pass.
3. The service started on a copy (prefix drain/) with the store reachable, `--log-level debug`: the time from its
   first to its last `export: uploaded` line. Its peak RSS (GNU time's maximum resident set size) against the
   same service, same copy, same simulated duration and speed, with `[CLOUD] enabled = false`.
4. Baseline: boto3 PUTs the same objects (read back from moto: same bytes, same keys under boto3/) one after
   the other to the same server, through the same signature check.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "integration" / "process"))

from httpservice import set_keys  # noqa: E402
from s3server import MotoServer, Relay, cloud_config  # noqa: E402  (imports pytest, moto and boto3 lazily)

HOUR = 3600
DAY = 86400
SERIAL = "SE-BENCH"


def say(text: str) -> None:
    print(f"[bench-export] {text}", file=sys.stderr, flush=True)


def die(text: str) -> None:
    say(f"ERROR: {text}")
    sys.exit(1)


# MARK: - A process measured: stderr lines timestamped on arrival, RSS sampled, the peak from GNU time


class Measured:
    """Runs argv under GNU time; every stderr line is kept with time.monotonic() at arrival; VmRSS/VmHWM of the
    process are sampled every `sample_s`; the peak RSS and CPU come from GNU time (its wait4: ru_maxrss of the
    process alone; wait4 from here would count this Python process's RSS, which a child carries until its exec)."""

    def __init__(self, argv: list[str], log_path: Path, timeout_s: float, sample_s: float = 0.05, cwd: Path = ROOT):
        self.argv = argv
        self.lines: list[tuple[float, str]] = []
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, VmRSS KiB, VmHWM KiB)
        self._log = open(log_path, "wb")
        self.stdout_path = log_path.with_suffix(".stdout")
        self.time_path = log_path.with_suffix(".time")
        self.started = time.monotonic()
        with open(self.stdout_path, "wb") as stdout:
            self.proc = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", str(self.time_path), *argv], cwd=cwd,
                                         stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE)
        self.pid: int | None = None  # the measured process (GNU time's child), once seen
        self.timed_out = False
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._sampler = threading.Thread(target=self._sample, args=(sample_s,), daemon=True)
        self._sampler.start()
        self._timer = threading.Timer(timeout_s, self._kill)
        self._timer.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            at = time.monotonic()
            self._log.write(raw)
            self.lines.append((at, raw.decode("utf-8", "replace").rstrip("\r\n")))

    def _child(self) -> int | None:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            return int(children[0]) if children else None
        except OSError:
            return None

    def _sample(self, every: float) -> None:
        while not self._done.is_set():
            if self.pid is None:
                self.pid = self._child()
            if self.pid is not None:
                try:
                    rss = hwm = 0
                    with open(f"/proc/{self.pid}/status") as status:
                        for line in status:
                            if line.startswith("VmRSS:"):
                                rss = int(line.split()[1])
                            elif line.startswith("VmHWM:"):
                                hwm = int(line.split()[1])
                    if hwm:
                        self.samples.append((time.monotonic(), rss, hwm))
                except (OSError, ValueError):
                    pass
            self._done.wait(every)

    def _kill(self) -> None:
        self.timed_out = True
        for pid in (self.pid or self._child(), self.proc.pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def wait(self) -> "Measured":
        self.proc.wait()
        self.ended = time.monotonic()
        self._done.set()
        self._timer.cancel()
        self._reader.join(10)
        self._sampler.join(10)
        self._log.close()
        # GNU time writes "Command exited with non-zero status N" first when the command failed.
        lines = self.time_path.read_text().splitlines() if self.time_path.exists() else []
        fields = lines[-1].split() if lines else []
        if len(fields) == 3:
            self.peak_kib, self.cpu = int(fields[0]), float(fields[1]) + float(fields[2])
        else:
            self.peak_kib, self.cpu = max((s[2] for s in self.samples), default=0), float("nan")
        return self

    @property
    def returncode(self) -> int:
        return self.proc.returncode

    @property
    def wall(self) -> float:
        return self.ended - self.started

    def rss_at(self, moment: float) -> int | None:
        """VmRSS of the last sample at or before `moment` (KiB)."""
        before = [s for s in self.samples if s[0] <= moment]
        return before[-1][1] if before else None

    def tail(self, n: int = 20) -> str:
        return "\n".join("    " + text[:400] for _, text in self.lines[-n:])


def run_measured(argv: list[str], log_path: Path, timeout_s: float, what: str) -> Measured:
    m = Measured(argv, log_path, timeout_s).wait()
    if m.timed_out:
        die(f"{what}: killed after {timeout_s:.0f} s\n{m.tail()}")
    if m.returncode != 0:
        die(f"{what}: exit status {m.returncode}\n{m.tail()}")
    return m


# MARK: - The backlog database


def busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: user nice system irq softirq steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK")


def db_query(db: Path, sql: str, params=()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def prepare_backlog(week_db: Path, backlog_db: Path, hours_wanted: int) -> dict:
    """A consistent copy of the week's database, as a meter whose store is reachable again: every pending hour due
    now, the stored pause and error cleared; trimmed to `hours_wanted` closed hours (the newest extra closed hour,
    if the week's start minute gave one more, is deleted: rows and outbox row; the open hour stays)."""
    source = sqlite3.connect(f"file:{week_db}?mode=ro", uri=True)
    target = sqlite3.connect(backlog_db)
    source.backup(target)
    source.close()
    newest = target.execute("SELECT max(time) FROM meter_data").fetchone()[0]
    open_hour = newest // HOUR * HOUR
    closed = [h for (h,) in target.execute(
        "SELECT DISTINCT time / 3600 * 3600 FROM meter_data WHERE time < ? ORDER BY 1", (open_hour,))]
    trimmed = 0
    if len(closed) > hours_wanted:
        cut = closed[hours_wanted]
        trimmed = len(closed) - hours_wanted
        target.execute("DELETE FROM meter_data WHERE time >= ? AND time < ?", (cut, open_hour))
        target.execute("DELETE FROM export_outbox WHERE kind = 'hour' AND from_time >= ? AND from_time < ?", (cut, open_hour))
        closed = closed[:hours_wanted]
    target.execute("UPDATE export_outbox SET next_attempt = 0 WHERE uploaded IS NULL AND dropped IS NULL")
    target.execute("DELETE FROM export_state WHERE name IN ('paused_until', 'last_error')")
    target.commit()
    info = {
        "closed_hours": len(closed),
        "trimmed_hours": trimmed,
        "rows_closed": target.execute("SELECT count(*) FROM meter_data WHERE time < ?", (open_hour,)).fetchone()[0],
        "rows_open": target.execute("SELECT count(*) FROM meter_data WHERE time >= ?", (open_hour,)).fetchone()[0],
        "pending": target.execute("SELECT count(*) FROM export_outbox WHERE uploaded IS NULL AND dropped IS NULL").fetchone()[0],
        "pending_hours": [h for (h,) in target.execute(
            "SELECT from_time FROM export_outbox WHERE kind = 'hour' AND uploaded IS NULL AND dropped IS NULL ORDER BY from_time")],
        "closed": closed,
    }
    target.close()
    for suffix in ("-wal", "-shm"):
        if Path(str(backlog_db) + suffix).exists():
            die(f"{backlog_db}{suffix} left behind after closing the copy")
    return info


def upload_lines(process: Measured) -> list[tuple[float, int, int]]:
    """(arrival time, rows, bytes) of each `export: uploaded` debug line."""
    uploads = []
    for at, text in process.lines:
        if text.endswith("export: uploaded"):
            rows_m, bytes_m = re.search(r"\brows=(\d+)", text), re.search(r"\bbytes=(\d+)", text)
            uploads.append((at, int(rows_m.group(1)) if rows_m else 0, int(bytes_m.group(1)) if bytes_m else 0))
    return uploads


def copy_with_prefix(backlog_db: Path, db: Path, prefix: str) -> None:
    """A copy of the backlog whose pending keys start with `prefix` instead of data/ (a separate place in the bucket)."""
    shutil.copy(backlog_db, db)
    con = sqlite3.connect(db)
    con.execute("UPDATE export_outbox SET object_key = ? || substr(object_key, 6) WHERE object_key LIKE 'data/%'", (prefix,))
    con.commit()
    con.close()


def outbox_status(db: Path) -> tuple[int, int, int, int]:
    """(uploaded, pending, rows uploaded, bytes uploaded)"""
    return db_query(db, """SELECT sum(uploaded IS NOT NULL), sum(uploaded IS NULL AND dropped IS NULL),
                                  total(rows), total(bytes) FROM export_outbox""")[0]


# MARK: - Main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--week-speed", type=float, default=4000)
    parser.add_argument("--drain-speed", type=float, default=60)
    parser.add_argument("--drain-seconds", type=float, default=0, help="simulated seconds of the drain runs; 0: from the flush time")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--swift-version", default="")
    args = parser.parse_args()
    binary, out = Path(args.bin), Path(args.out)
    scenario = ROOT / "scenarios" / "home-day.json"
    # The exporter's cost alone: the HTTP API (on by default since issue 11) is off in every run here.
    base_config = out / "base.ini"
    base_config.write_text(set_keys((ROOT / "calibration" / "config.ini").read_text(), "HTTP", {"enabled": "false"}))
    hours_wanted = args.days * 24
    began = time.monotonic()

    import boto3  # noqa: F401  (MotoServer fails clearly when missing)
    import moto

    say("starting moto's S3 server on 127.0.0.1 (signatures checked, IAM user, versioned bucket)")
    server = MotoServer(out)

    def moto_cpu() -> float:
        """moto's user+sys CPU so far, seconds (it serves only this benchmark's requests)."""
        fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    relay = Relay(server.port)
    try:
        # ------------------------------------------------------------------------------------ 1. the offline week
        relay.stop()
        week_ini = cloud_config(base_config, out / "week.ini", endpoint=relay.url, bucket=server.bucket, serial=SERIAL,
                                credentials=server.credentials, forecast={"enabled": "false"})
        week_db = out / "week.db"
        week_seconds = args.days * DAY + 300
        say(f"the backlog: {args.days} simulated days at {args.week_speed:g}x with the store unreachable "
            f"(~{week_seconds / args.week_speed:.0f} s)")
        week = run_measured([str(binary), "run", "--config", str(week_ini), "--db", str(week_db), "--simulate",
                             "--scenario", str(scenario), "--sim-speed", f"{args.week_speed:g}", "--sim-duration", str(week_seconds)],
                            out / "week.log", timeout_s=week_seconds / args.week_speed * 3 + 60, what="the offline week")
        rows, samples, first, last = db_query(week_db, "SELECT count(*), coalesce(sum(samples), 0), min(time), max(time) FROM meter_data")[0]
        # The first and the last row may be partial (start at a late tick, stop); the others must be whole minutes.
        partial, empty, min_samples = db_query(week_db, """
            SELECT coalesce(sum(flags & 1), 0), coalesce(sum(samples = 0 OR l1_v IS NULL), 0), min(samples)
            FROM meter_data WHERE time > ? AND time < ?""", (first, last))[0]
        expected_rows = week_seconds // 60
        sane = empty == 0 and partial == 0 and abs(rows - expected_rows) <= 1 and last - first == (rows - 1) * 60
        week_uploaded = db_query(week_db, "SELECT count(*) FROM export_outbox WHERE uploaded IS NOT NULL")[0][0]
        failures = sum(1 for _, text in week.lines if "upload failed" in text)

        backlog_db = out / "backlog.db"
        backlog = prepare_backlog(week_db, backlog_db, hours_wanted)
        if backlog["closed_hours"] != hours_wanted:
            say(f"WARNING: {backlog['closed_hours']} closed hours, not {hours_wanted}")
        if backlog["pending_hours"] != backlog["closed"]:
            say(f"WARNING: the outbox holds {len(backlog['pending_hours'])} pending hours for {backlog['closed_hours']} closed ones "
                "(the rest are queued by whoever drains)")
        n_objects = backlog["closed_hours"]

        def config(name: str, prefix: str, enabled: bool = True) -> Path:
            path = cloud_config(base_config, out / f"{name}.ini", endpoint=server.url, bucket=server.bucket, serial=SERIAL,
                                credentials=server.credentials, forecast={"enabled": "false"},
                                extra={"data_prefix": prefix, "enabled": "true" if enabled else "false"})
            return path

        # ------------------------------------------------------------------------------------ 2. export flush
        flush_db = out / "flush.db"
        copy_with_prefix(backlog_db, flush_db, "flush/")
        say(f"`clemap-edge export flush` on a copy ({n_objects} hours pending)")
        load0 = (busy_seconds(), time.process_time(), moto_cpu(), time.monotonic())
        moto0 = moto_cpu()
        flush = run_measured([str(binary), "export", "flush", "--config", str(config("flush", "flush/")), "--db", str(flush_db), "--json",
                              "--log-level", "debug"],
                             out / "flush.log", timeout_s=600, what="export flush")
        flush_moto = moto_cpu() - moto0
        f_uploaded, f_pending, f_rows, f_bytes = outbox_status(flush_db)
        m = re.search(r'"seconds":([0-9.]+)', flush.stdout_path.read_text())
        flush_pass_s = float(m.group(1)) if m else None

        # ------------------------------------------------------------------------------------ 3. the service draining
        drain_seconds = args.drain_seconds or math.ceil(max(20.0, 4 * flush.wall + 5) * args.drain_speed / 60) * 60
        drain_db, plain_db = out / "drain.db", out / "plain.db"
        copy_with_prefix(backlog_db, drain_db, "drain/")
        copy_with_prefix(backlog_db, plain_db, "drain/")

        def service(name: str, db: Path, ini: Path) -> Measured:
            say(f"{name}: the service on a copy of the backlog, {drain_seconds:g} simulated s at {args.drain_speed:g}x "
                f"(~{drain_seconds / args.drain_speed:.0f} s), --log-level debug")
            return run_measured([str(binary), "run", "--config", str(ini), "--db", str(db), "--simulate", "--scenario", str(scenario),
                                 "--sim-speed", f"{args.drain_speed:g}", "--sim-duration", f"{drain_seconds:g}", "--log-level", "debug"],
                                out / f"{name}.log", timeout_s=drain_seconds / args.drain_speed * 3 + 60, what=name)

        moto0 = moto_cpu()
        drain = service("drain", drain_db, config("drain", "drain/"))
        drain_moto = moto_cpu() - moto0  # the service's PUTs only: no model polling with the forecaster off
        uploads = upload_lines(drain)
        d_uploaded, d_pending, d_rows, d_bytes = outbox_status(drain_db)
        plain = service("baseline", plain_db, config("plain", "drain/", enabled=False))

        # ------------------------------------------------------------------------------------ 4. boto3 baseline
        client = server.client()
        keys = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix="drain/"):
            keys += [o["Key"] for o in page.get("Contents", [])]
        keys.sort()
        bodies = {k: client.get_object(Bucket=server.bucket, Key=k)["Body"].read() for k in keys}
        same_as_flush = all(client.get_object(Bucket=server.bucket, Key="flush/" + k[len("drain/"):])["Body"].read() == body
                            for k, body in bodies.items())
        say(f"baseline: boto3 PUTs the {len(keys)} objects one after the other (same bytes, keys under boto3/)")
        put = server.client()
        put.list_objects_v2(Bucket=server.bucket, MaxKeys=1)  # the client made and its connection open before timing
        moto0, cpu0, t0 = moto_cpu(), time.process_time(), time.monotonic()
        for key in keys:
            put.put_object(Bucket=server.bucket, Key="boto3/" + key[len("drain/"):], Body=bodies[key], ContentType="text/csv")
        boto_s = time.monotonic() - t0
        boto_cpu, boto_moto = time.process_time() - cpu0, moto_cpu() - moto0
        # CPU that neither this script, moto nor the measured processes used, from the flush to the end of boto3's PUTs
        mine = time.process_time() - load0[1] + moto_cpu() - load0[2] + flush.cpu + drain.cpu + plain.cpu
        other_cores = max(0.0, (busy_seconds() - load0[0] - mine) / (time.monotonic() - load0[3]))
        boto_bytes = sum(len(b) for b in bodies.values())
        boto_rows = sum(b.count(b"\n") - 1 for b in bodies.values())
        boto_count = sum(page.get("KeyCount", 0) for page in
                         client.get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix="boto3/"))
    finally:
        relay.stop()
        server.stop()

    # ---------------------------------------------------------------------------------------- figures
    mib = lambda kib: kib / 1024  # noqa: E731
    cores = os.cpu_count()
    print()
    print(f"clemap-edge export benchmark, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {cores} cores, {os.uname().machine}"
          + (f", {args.swift_version}" if args.swift_version else "") + f", moto {moto.__version__}, boto3 {boto3.__version__}")
    print(f"backlog: {args.days} simulated days (scenarios/home-day.json, forecaster off) at {args.week_speed:g}x: {week.wall:.1f} s wall, "
          f"store unreachable (relay stopped)")
    print(f"  {rows} rows ({expected_rows} expected, one a minute: {'yes' if last - first == (rows - 1) * 60 else 'NO'}); "
          f"inner rows: {partial} partial, {empty} without samples, {min_samples} to 60 samples ({samples / max(1, rows):.1f} on average)"
          f" => {'rows sane' if sane else 'ROWS NOT SANE: lower BENCH_WEEK_SPEED'}")
    print(f"  outbox: {backlog['pending']} hours pending ({week_uploaded} uploaded, {failures} 'upload failed' warnings while offline); "
          f"{backlog['closed_hours']} closed hours, {backlog['rows_closed']} rows in them"
          + (f" (the newest {backlog['trimmed_hours']} closed hour(s) trimmed)" if backlog["trimmed_hours"] else ""))
    print("  every figure below: 127.0.0.1, moto's S3 server (Python, in memory) with SigV4 checked for an IAM user")
    print(f"  other processes used {other_cores:.2f} of {cores} cores while the figures below were measured"
          + (" -- NOT QUIET: throughput is lower and noisier; run again on an idle machine" if other_cores > 0.2 else ""))
    print()

    def rate_line(label: str, objects: float, rows_: float, bytes_: float, seconds: float, client_cpu: float, moto_cpu_: float,
                  note: str) -> tuple[float, float]:
        ops, rps = objects / seconds, rows_ / seconds
        print(f"  {label:<34}{ops:>9.1f}{rps:>9.0f}{bytes_ / seconds / 1e6:>7.2f}{seconds:>8.2f}"
              f"{client_cpu / n_objects * 1e3:>8.2f}{moto_cpu_ / n_objects * 1e3:>7.2f}   {note}")
        return ops, rps

    print(f"upload throughput of the backlog ({n_objects} objects, {int(f_rows)} rows, {f_bytes / 1e6:.2f} MB of CSV)")
    print(f"  {'':<34}{'objects/s':>9}{'rows/s':>9}{'MB/s':>7}{'seconds':>8}{'ms CPU per object':>19}")
    print(f"  {'':<34}{'':>9}{'':>9}{'':>7}{'':>8}{'client':>8}{'moto':>7}")
    drain_ops = drain_rps = None
    if len(uploads) >= 2:
        span = uploads[-1][0] - uploads[0][0]
        drain_ops, drain_rps = rate_line(
            "(a) service draining it", len(uploads) - 1, sum(u[1] for u in uploads[1:]), sum(u[2] for u in uploads[1:]), span,
            drain.cpu - plain.cpu, drain_moto,
            f"first to last 'export: uploaded' line (uploads 2..{len(uploads)}; the first {uploads[0][0] - drain.started:.2f} s "
            f"after start); {d_uploaded:.0f} uploaded, {d_pending:.0f} left")
    else:
        print(f"  (a) service draining it: only {len(uploads)} upload lines; nothing to time")
    fl = upload_lines(flush)
    flush_ops, flush_rps = rate_line("(b) export flush", f_uploaded, f_rows, f_bytes, flush.wall, flush.cpu, flush_moto,
                                     "process wall time (" + (f"{flush_pass_s:.2f} s its own pass" if flush_pass_s is not None else "its --json printed no seconds")
                                     + (f"; first to last upload line as in (a): {(len(fl) - 1) / (fl[-1][0] - fl[0][0]):.1f} objects/s"
                                        if len(fl) >= 2 and fl[-1][0] > fl[0][0] else "") + f"); {f_pending:.0f} left")
    boto_ops, boto_rps = rate_line("baseline: boto3, sequential PUTs", len(keys), boto_rows, boto_bytes, boto_s, boto_cpu, boto_moto,
                                   f"{boto_count} objects under boto3/, one PUT each, one client")
    print(f"  ratio to boto3 (objects/s): (a) service {drain_ops / boto_ops:.3f}" if drain_ops else "  ratio to boto3: (a) -", end="")
    print(f", (b) export flush {flush_ops / boto_ops:.3f}")
    print("  client CPU: (a) the service's run minus the same run with [CLOUD] off; (b) the whole process; boto3: the PUT loop")
    print(f"  objects: drain/ and flush/ byte-identical: {'yes' if same_as_flush else 'NO'}; "
          f"rows uploaded (a) {int(d_rows)}, (b) {int(f_rows)}, boto3 {boto_rows}")
    print()
    print(f"service peak RSS (GNU time's maximum resident set size), same backlog copy, {drain_seconds:g} simulated s at {args.drain_speed:g}x, --log-level debug")
    print(f"  draining ([CLOUD] on)        {mib(drain.peak_kib):6.1f} MiB   ({len(uploads)} uploads in the run; CPU user+sys {drain.cpu:.2f} s)")
    marks = [(n, drain.rss_at(uploads[n - 1][0])) for n in sorted({1, 2, 24, len(uploads) // 2, len(uploads)}) if 1 <= n <= len(uploads)]
    if marks and all(kib for _, kib in marks):
        print("    VmRSS sampled after upload " + ", ".join(f"{n}: {mib(kib):.1f}" for n, kib in marks) + " MiB"
              + (f"; at the end {mib(drain.samples[-1][1]):.1f} MiB" if drain.samples else ""))
    print(f"    vs [CLOUD] enabled = false  {mib(plain.peak_kib):6.1f} MiB   (CPU user+sys {plain.cpu:.2f} s): ratio {drain.peak_kib / plain.peak_kib:.3f}")
    print(f"  offline week ([CLOUD] on, store unreachable, {args.week_speed:g}x): {mib(week.peak_kib):.1f} MiB "
          f"(vs the [CLOUD]-off run above, a shorter run: ratio {week.peak_kib / plain.peak_kib:.3f})")
    print()
    say(f"done in {time.monotonic() - began:.0f} s (after the build)")


if __name__ == "__main__":
    main()
