# SPDX-License-Identifier: Apache-2.0
"""kill -9 at random moments never loses a committed minute, never corrupts the database.

One database file, many accelerated runs of `clemap-edge run --simulate --scenario scenarios/home-day.json`
(--sim-speed 600..2400, no --sim-duration: every run ends by SIGKILL). After every kill the file is opened with
Python's sqlite3 (read-only, so this test never checkpoints the service's -wal) and checked.

"Completed interval" = a row the service REPORTED COMMITTED: the debug line `row stored` (metadata row.time,
row.outcome, row.flags), which BacklogWriter.drain() logs only after the insert transaction returned. A row
committed but killed before its line was written is allowed to exist unreported; a reported row must exist.

Seeded: the seed is printed (and in every failure message); rerun one schedule with CLEMAP_KILL_SEED=<seed>.
CLEMAP_KILL_COUNT changes the number of kills (default 50).
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import random
import shutil
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import (
    FLAG_PARTIAL,
    ServiceProcess,
    assert_totals_match_rows,
    column,
    conflict_rows,
    SCHEMA_TABLES,
    schema_state,
    integrity,
    meter_rows,
    original_query,
)

KILLS = int(os.environ.get("CLEMAP_KILL_COUNT", "50"))
SPEEDS = (600, 600, 1200, 2400)  # simulated minute = 100, 100, 50, 25 ms real
RUN_SECONDS = (0.3, 4.0)  # real time a run lasts before its SIGKILL (start-up kills excepted)
STARTUP_SHARE, BOUNDARY_SHARE = 0.16, 0.34  # the rest: mid-minute

# Start-up milestones, in the order the service logs them (storage and sampling start concurrently, so the last
# three may interleave). A start-up kill waits for one of them, then kills after 0..3 ms.
STARTUP_MILESTONES = (
    ("just exec'd", None),
    ("'database:' printed (before the store opens)", r"^database: "),
    ("service group starting", r"Starting service lifecycle"),
    ("database opened", r"Opened database"),
    ("chip set up", r"ADE9000 running"),
    ("sampling started", r"\[MeterServices\] sampling$"),
)


@dataclass
class Kill:
    number: int
    kind: str  # startup | boundary | mid-minute
    speed: int
    planned: str
    rows_reported: int = 0
    run_seconds: float = 0.0
    since_last_commit_ms: float | None = None
    period_ms: float = 0.0
    unreported_commits: int = 0  # rows in the file this run committed without getting to log them

    def __str__(self) -> str:
        since = "-" if self.since_last_commit_ms is None else f"{self.since_last_commit_ms:6.1f}"
        return (f"kill {self.number:2d} {self.kind:10s} x{self.speed:<5d} {self.planned:48s} after {self.run_seconds:5.2f} s, "
                f"{self.rows_reported:3d} rows reported, last commit {since} ms before (minute = {self.period_ms:.0f} ms)"
                + (f", {self.unreported_commits} committed unreported" if self.unreported_commits else ""))


@dataclass
class Ledger:
    """Everything the service reported committed so far, and what the database held after the previous kill."""

    inserted: dict[int, int] = field(default_factory=dict)  # time -> flags, outcome inserted (into meter_data)
    conflicts: collections.Counter = field(default_factory=collections.Counter)  # (time, flags) reported as conflict
    duplicates: set[int] = field(default_factory=set)
    meter_data: dict[int, tuple] = field(default_factory=dict)  # after the previous kill
    conflict_count: int = 0
    reported_total: int = 0


def _sleep_until(deadline: float) -> None:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(remaining - 0.002 if remaining > 0.003 else 0)  # the last 2 ms busy-waiting: a precise kill


def _kill_during_startup(service: ServiceProcess, rng: random.Random, kill: Kill) -> float:
    label, pattern = STARTUP_MILESTONES[rng.randrange(len(STARTUP_MILESTONES))]
    if pattern is None:
        delay = rng.uniform(0.002, 0.060)
        kill.planned = f"start-up: {delay * 1000:.0f} ms after exec"
        _sleep_until(service.started_at + delay)
    else:
        delay = rng.uniform(0, 0.003)
        kill.planned = f"start-up: {delay * 1000:.1f} ms after {label}"
        _, line = service.wait_for(pattern, timeout=20, what=f"start-up milestone {label!r}")
        _sleep_until(line.at + delay)
    return service.kill9()


def _kill_on_grid(service: ServiceProcess, rng: random.Random, kill: Kill, period: float) -> float:
    """Runs the service 0.3..4 s, then kills it at a chosen phase of the simulated minute, measured from the
    commits it reported (a commit follows each minute boundary by the first snapshot, the insert and the fsync)."""
    run_for = rng.uniform(*RUN_SECONDS)
    if kill.kind == "boundary":
        offset = rng.uniform(-0.004, 0.0015)  # from 4 ms before to 1.5 ms after the predicted commit line
        kill.planned = f"~{run_for:.2f} s, {offset * 1000:+.1f} ms from a commit"
    else:
        fraction = rng.uniform(0.3, 0.7)
        offset = fraction * period
        kill.planned = f"~{run_for:.2f} s, {fraction:.0%} into a minute"
    _sleep_until(service.started_at + run_for - min(period, 0.05))
    reference = service.wait_for_rows(1, timeout=20)[-1].seen_at  # the newest commit seen: the minute's phase
    earliest = max(service.started_at + run_for, time.monotonic() + 0.001)
    cycles = math.ceil((earliest - reference - offset) / period)
    _sleep_until(reference + cycles * period + offset)
    return service.kill9()


def _check_database(db: Path, ledger: Ledger, new_rows, context: str, scratch: Path) -> int:
    """Checks the file after a kill; returns how many rows it holds that were committed but never reported."""
    folder = db.parent
    aside = sorted(p.name for p in folder.iterdir() if ".corrupt-" in p.name)
    assert not aside, f"{context}the service moved the database aside after a kill -9 (everything before is lost): {aside}"

    if not db.exists():
        assert ledger.reported_total == 0, f"{context}{db} is gone, but {ledger.reported_total} rows were reported stored"
        return 0
    journal = Path(f"{db}-journal")
    if journal.exists() and journal.stat().st_size > 0:
        # Killed inside a rollback-journal transaction. Only a new file's first open is in that mode (it switches to
        # WAL before the schema is created), so nothing can have been stored yet. A read-only connection cannot roll
        # a hot journal back (SQLITE_READONLY_ROLLBACK); the service's next open does. Check a rolled-back copy and
        # leave the original to the service.
        assert ledger.reported_total == 0 and not new_rows, f"{context}a hot rollback journal after rows were stored"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            if Path(f"{db}{suffix}").exists():
                shutil.copy2(f"{db}{suffix}", scratch / f"{db.name}{suffix}")
        copy = scratch / db.name
        with contextlib.closing(sqlite3.connect(copy)) as c:
            c.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read rolls the journal back
        db = copy
    result = integrity(db)
    assert result == ["ok"], f"{context}PRAGMA integrity_check = {result}"
    tables, version = schema_state(db)
    if not tables:
        # Killed before the schema migration committed: its transaction rolled back, nothing was lost.
        assert version == 0, f"{context}no tables, but user_version = {version}"
        assert ledger.reported_total == 0 and not new_rows, f"{context}rows were reported but meter_data is missing"
        return 0
    assert tables == SCHEMA_TABLES and version == 2, (
        f"{context}half a schema migration: tables {sorted(tables)}, user_version {version}")

    rows = meter_rows(db)
    conflicts = conflict_rows(db)

    # Row times are minute boundaries, in both tables.
    bad = [t for t in list(rows) + [r[0] for r in conflicts] if t % 60 != 0]
    assert not bad, f"{context}row times that are not multiples of 60: {bad[:10]}"

    # Rows the database held after the previous kill are still there, with the same values: a later run's row
    # with a taken time went to meter_data_conflicts, it never overwrote meter_data.
    for t, before in ledger.meter_data.items():
        assert t in rows, f"{context}meter_data row at time {t} was there after the previous kill and is gone now"
        assert rows[t] == before, (
            f"{context}meter_data row at time {t} changed:\n  before {before}\n  now    {rows[t]}")

    # Every row reported committed (in this run or any before) is present.
    for row in new_rows:
        if row.outcome == "inserted":
            assert row.time not in ledger.inserted, (
                f"{context}time {row.time} was reported inserted into meter_data twice: the first row was lost")
            ledger.inserted[row.time] = row.flags
        elif row.outcome == "conflict":
            ledger.conflicts[(row.time, row.flags)] += 1
        elif row.outcome == "duplicate":
            ledger.duplicates.add(row.time)
        else:
            pytest.fail(f"{context}unknown row.outcome in: {row.line}")
    ledger.reported_total += len(new_rows)

    for t, flags in ledger.inserted.items():
        assert t in rows, f"{context}row at time {t} was reported stored (inserted) but is not in meter_data"
        assert column(rows[t], "flags") == flags, (
            f"{context}meter_data row at time {t} has flags {column(rows[t], 'flags')}, the service logged {flags}")
    stored_conflicts = collections.Counter((r[0], column(r, "flags")) for r in conflicts)
    for key, reported in ledger.conflicts.items():
        assert stored_conflicts[key] >= reported, (
            f"{context}{reported} rows with (time, flags) = {key} were reported stored in meter_data_conflicts, "
            f"the table holds {stored_conflicts[key]}")
    conflict_times = {r[0] for r in conflicts}
    for t in ledger.duplicates:
        assert t in rows or t in conflict_times, f"{context}time {t} was reported duplicate but is stored nowhere"

    # Never duplicated: meter_data has time as its primary key; meter_data_conflicts never holds the same row twice,
    # nor a copy of the meter_data row of its time.
    copies = [r for r, n in collections.Counter(conflicts).items() if n > 1]
    assert not copies, f"{context}meter_data_conflicts holds the same row more than once: {copies[:3]}"
    echoes = [r for r in conflicts if rows.get(r[0]) == r]
    assert not echoes, f"{context}meter_data_conflicts repeats rows of meter_data: {echoes[:3]}"

    # Rows only ever grow.
    assert len(rows) >= len(ledger.meter_data), f"{context}meter_data shrank: {len(ledger.meter_data)} -> {len(rows)}"
    assert len(conflicts) >= ledger.conflict_count, (
        f"{context}meter_data_conflicts shrank: {ledger.conflict_count} -> {len(conflicts)}")

    # A row and its energy are one transaction.
    assert_totals_match_rows(db, context)

    # The original readers' query still gets floats.
    latest = original_query(db)
    assert len(latest) == min(10, len(rows)), f"{context}original query returned {len(latest)} rows"
    for r in latest:
        assert isinstance(r[0], int) and all(isinstance(v, float) for v in r[1:]), (
            f"{context}original query row is not (int, float, float, float): {r!r}")

    unreported = (len(rows) - len(ledger.meter_data) + len(conflicts) - ledger.conflict_count
                  - sum(1 for r in new_rows if r.outcome != "duplicate"))
    ledger.meter_data = rows
    ledger.conflict_count = len(conflicts)
    return unreported


def test_kill9_never_loses_a_committed_row(start_service, workdir: Path):
    seed = int(os.environ.get("CLEMAP_KILL_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"\nkill -9 test: seed {seed} (rerun with CLEMAP_KILL_SEED={seed}), {KILLS} kills")
    rng = random.Random(seed)
    db = workdir / "db" / "data_gathering.db"
    db.parent.mkdir()

    startup = max(1, round(KILLS * STARTUP_SHARE))
    boundary = max(1, round(KILLS * BOUNDARY_SHARE))
    kinds = ["startup"] * startup + ["boundary"] * boundary + ["mid-minute"] * max(0, KILLS - startup - boundary)
    rng.shuffle(kinds)
    first = kinds.index("startup")  # the first run dies during start-up, on a new file
    kinds[0], kinds[first] = kinds[first], kinds[0]

    ledger = Ledger()
    history: list[Kill] = []
    began = time.monotonic()
    for number, kind in enumerate(kinds[:KILLS], start=1):
        speed = rng.choice(SPEEDS)
        period = 60 / speed
        kill = Kill(number, kind, speed, "", period_ms=period * 1000)
        service = start_service(db, scenario_name="home-day", speed=speed, name=f"kill{number:02d}")
        if kind == "startup":
            killed_at = _kill_during_startup(service, rng, kill)
        else:
            killed_at = _kill_on_grid(service, rng, kill, period)
        code = service.wait(timeout=15)
        kill.run_seconds = killed_at - service.started_at
        new_rows = service.stored_rows()
        kill.rows_reported = len(new_rows)
        if new_rows:
            kill.since_last_commit_ms = (killed_at - new_rows[-1].seen_at) * 1000
        history.append(kill)
        context = (f"[seed {seed}] after {kill} (stderr: {service.stderr_path}):\n  ")
        assert code == -signal.SIGKILL, (
            f"{context}clemap-edge ended by itself (exit code {code}) before the SIGKILL\n{service.describe()}")
        kill.unreported_commits = _check_database(db, ledger, new_rows, context, workdir / "journal-copy")

    elapsed = time.monotonic() - began
    print("\n".join(str(k) for k in history))
    print(f"{sum(1 for k in history if k.unreported_commits)} kills landed between a commit and its log line")
    print(f"{len(history)} kills in {elapsed:.1f} s; {ledger.reported_total} rows reported stored; "
          f"meter_data {len(ledger.meter_data)} rows, meter_data_conflicts {ledger.conflict_count} rows")

    # The schedule did what it claims.
    assert collections.Counter(k.kind for k in history) == collections.Counter(kinds[:KILLS])
    grid = [k for k in history if k.kind != "startup"]
    assert all(k.rows_reported > 0 for k in grid), "every 0.3..4 s run stored rows before its kill"
    assert ledger.meter_data, "no row was ever stored"
    assert ledger.conflict_count > 0, "no run met an earlier run's times: the conflict path was not exercised"

    # After all that, the file still works for a clean run: rows stored, SIGTERM writes the partial minute.
    before = len(ledger.meter_data) + ledger.conflict_count
    service = start_service(db, scenario_name="home-day", speed=600, name="final")
    service.wait_for_rows(3, timeout=20)
    # Half a simulated minute into the next interval (50 ms at 600x): a SIGTERM sent the moment a row was stored
    # can land before the next minute's first snapshot, and then there is no partial minute to write.
    time.sleep(0.05)
    service.terminate()
    assert service.wait(timeout=25) == 0, service.describe()
    _check_database(db, ledger, service.stored_rows(), f"[seed {seed}] final clean run: ", workdir / "journal-copy")
    after = len(ledger.meter_data) + ledger.conflict_count
    assert after >= before + 3
    last = service.stored_rows()[-1]
    assert last.flags & FLAG_PARTIAL, f"the row written at SIGTERM is not flagged partial: {last.line}"
