# SPDX-License-Identifier: Apache-2.0
"""`clemap-edge run --simulate --sim-speed 600`: what lands in meter_data, who can read it meanwhile, and how a
signal ends a run. Scenario balanced-resistive: 230 V, 10 A, PF 1 on three phases, so every phase draws 2300 W
and a whole minute holds 2300 × 60 / 3600 = 38.33 Wh per phase."""

from __future__ import annotations

import json
import math
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (
    FLAG_PARTIAL,
    ORIGINAL_QUERY,
    PHASE,
    assert_totals_match_rows,
    column,
    conflict_rows,
    count_lines,
    integrity,
    meter_rows,
    original_query,
)

WATTS = 2300.0
MINUTE_WH = WATTS * 60 / 3600
TOLERANCE = 0.005  # 0.5 %
FLAG_MISSED_SAMPLES = 4


def _within(value: float, expected: float, tolerance: float = TOLERANCE) -> bool:
    return value is not None and abs(value - expected) <= tolerance * abs(expected)


def test_thirty_simulated_minutes_store_thirty_exact_rows(start_service, workdir: Path):
    db = workdir / "data_gathering.db"
    service = start_service(db, speed=600, duration=1800)
    assert service.wait(timeout=60) == 0, service.describe()
    assert integrity(db) == ["ok"]
    assert conflict_rows(db) == []

    rows = meter_rows(db)
    times = sorted(rows)
    reported = service.stored_rows()
    assert [r.time for r in reported] == times and all(r.outcome == "inserted" for r in reported), (
        "meter_data holds exactly the rows the service reported, in order")
    assert count_lines(service, rf"rows\.stored={len(times)}\b") == 1, service.describe()

    # Every criterion is checked on every row, so one failure lists all that is wrong.
    problems = []
    if len(times) != 30:
        problems.append(f"{len(times)} rows, not 30")
    if times != list(range(times[0], times[0] + len(times) * 60, 60)) or times[0] % 60:
        problems.append(f"row times are not consecutive minutes: {times}")
    for t in times:
        row = rows[t]
        flags, duration = column(row, "flags"), column(row, "duration_s")
        where = f"row {t} (minute {(t - times[0]) // 60}, duration_s {duration:.3f}, samples {column(row, 'samples')})"
        # At 600x a real-time tick is 1.7 ms and the sleeps sometimes wake late: a row may miss snapshots
        # (flag 4, missed samples; its energy is exact all the same). Anything else is a problem.
        if flags & ~FLAG_MISSED_SAMPLES != 0:
            problems.append(f"{where}: flags {flags}")
        if not abs(duration - 60) < 0.5:
            problems.append(f"{where}: duration_s is not 60 ± 0.5")
        for phase in PHASE:
            wh, p = column(row, f"{phase}_wh_imp"), column(row, f"{phase}_p")
            if not _within(wh, p * 60 / 3600):
                problems.append(f"{where}: {phase}_wh_imp {wh:.4f} is not within 0.5 % of {phase}_p × 60/3600 = "
                                f"{p * 60 / 3600:.4f} ({(wh / (p * 60 / 3600) - 1) * 100:+.2f} %)")
            if not _within(wh, MINUTE_WH):
                problems.append(f"{where}: {phase}_wh_imp {wh:.4f} is not within 0.5 % of 2300 × 60/3600 = "
                                f"{MINUTE_WH:.4f} ({(wh / MINUTE_WH - 1) * 100:+.2f} %)")
            if column(row, f"{phase}_wh_exp") != 0:
                problems.append(f"{where}: {phase}_wh_exp {column(row, f'{phase}_wh_exp')} (nothing is exported)")
            if not (_within(column(row, f"{phase}_v"), 230, 0.01) and _within(column(row, f"{phase}_i"), 10, 0.01)):
                problems.append(f"{where}: {phase} {column(row, f'{phase}_v')} V {column(row, f'{phase}_i')} A")
    assert not problems, ("--sim-duration 1800 did not store 30 clean whole minutes of 2300 W:\n  "
                          + "\n  ".join(problems))

    # The original readers' query: the 10 newest rows, newest first, floats.
    latest = original_query(db)
    assert [r[0] for r in latest] == times[::-1][:10]
    for r in latest:
        assert isinstance(r[0], int), r
        assert all(isinstance(v, float) and _within(v, WATTS) for v in r[1:]), f"not floats ≈ 2300: {r!r}"
    assert_totals_match_rows(db)


def _hint_command(service) -> list[str]:
    """The `sqlite3 <db> 'SELECT …'` command the service prints at start."""
    _, line = service.wait_for(r"look at it with: ", timeout=10, what="the sqlite3 hint")
    command = shlex.split(line.text.split("look at it with: ", 1)[1])
    assert command[0] == "sqlite3" and command[-1] == ORIGINAL_QUERY, command
    return command


_PYTHON_READER = r"""
import json, sqlite3, sys, time
db, query, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
c = sqlite3.connect(db, timeout=1, isolation_level=None)  # a plain read-write connection, as a user script opens it
if hold == 0:
    print(json.dumps([[type(v).__name__ for v in row] + list(row) for row in c.execute(query)]))
else:
    c.execute("BEGIN")  # a long read transaction: one snapshot while the service commits rows
    first = c.execute(query).fetchall()
    time.sleep(hold)
    again = c.execute(query).fetchall()
    c.execute("COMMIT")
    after = c.execute(query).fetchall()
    print(json.dumps({"first": first, "again": again, "after": after}))
"""


def _python_reader(db: Path, hold: float = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PYTHON_READER, str(db), ORIGINAL_QUERY, str(hold)],
                          capture_output=True, text=True, timeout=30)


def test_other_processes_read_while_the_service_writes(start_service, workdir: Path):
    db = workdir / "data_gathering.db"
    service = start_service(db, speed=600)
    try:
        command = _hint_command(service)
        service.wait_for_rows(2, timeout=20)
        reads_began = len(service.stored_rows())
        newest_seen: list[int] = []

        if shutil.which("sqlite3"):
            # The exact command the service prints, run while it writes (a new minute every 0.1 s).
            for _ in range(8):
                done = subprocess.run(command, capture_output=True, text=True, timeout=30)
                assert done.returncode == 0 and done.stderr == "", f"{command}: {done.returncode} {done.stderr}"
                lines = [line.split("|") for line in done.stdout.splitlines()]
                assert 1 <= len(lines) <= 10, done.stdout
                times = [int(t) for t, *_ in lines]
                assert times == sorted(times, reverse=True), f"not newest first: {times}"
                for _, *watts in lines:
                    assert all(_within(float(w), WATTS) for w in watts), done.stdout
                newest_seen.append(times[0])
                time.sleep(0.12)
        else:
            print("sqlite3 CLI not installed: reading with Python's sqlite3 from second processes only")

        # Python's sqlite3 from a second process: floats, while the service writes.
        for _ in range(4):
            done = _python_reader(db)
            assert done.returncode == 0, done.stderr
            rows = json.loads(done.stdout)
            assert 1 <= len(rows) <= 10
            for types_and_values in rows:
                assert types_and_values[:4] == ["int", "float", "float", "float"], types_and_values
            newest_seen.append(rows[0][4])
            time.sleep(0.12)

        # A reader holding one read transaction for ~5 simulated minutes does not stop the writer.
        stored_before_hold = len(service.stored_rows())
        done = _python_reader(db, hold=0.5)
        assert done.returncode == 0, done.stderr
        held = json.loads(done.stdout)
        assert held["first"] == held["again"], "a read transaction saw rows change under it"
        assert len(service.stored_rows()) >= stored_before_hold + 3, "the service stopped storing during a long read"
        assert held["after"][0][0] > held["first"][0][0], "the reader did not see the rows stored meanwhile"
        newest_seen.append(held["after"][0][0])

        assert newest_seen == sorted(newest_seen) and newest_seen[-1] > newest_seen[0], (
            f"readers did not see the service's new rows: {newest_seen}")
        assert len(service.stored_rows()) - reads_began >= 5
        service.terminate()
        assert service.wait(timeout=25) == 0, service.describe()
    finally:
        service.cleanup()

    assert count_lines(service, r" (warning|error|critical) ") == 0, f"readers disturbed the writer\n{service.describe()}"
    assert integrity(db) == ["ok"]
    rows = meter_rows(db)
    assert sorted(rows) == sorted(r.time for r in service.stored_rows())


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_minute_writes_the_partial_row_and_exits_0(start_service, workdir: Path, stop):
    db = workdir / "data_gathering.db"
    service = start_service(db, speed=600)
    try:
        rows = service.wait_for_rows(3, timeout=20)
        # Half-way through a simulated minute (0.1 s real at x600), measured from the newest commit.
        target = rows[-1].seen_at + 0.05
        while time.monotonic() < target:
            time.sleep(0.001)
        service.send(stop)
        code = service.wait(timeout=25)
    finally:
        service.cleanup()

    assert code == 0, f"exit code {code} after {stop.name}\n{service.describe()}"
    assert integrity(db) == ["ok"]
    assert not Path(str(db) + "-wal").exists() or Path(str(db) + "-wal").stat().st_size == 0, (
        "the database was not closed cleanly: a -wal with frames is left")
    reported = service.stored_rows()
    rows = meter_rows(db)
    times = sorted(rows)
    assert times == sorted(r.time for r in reported), "meter_data holds exactly the reported rows"
    assert times == list(range(times[0], times[-1] + 60, 60)), f"a minute is missing: {times}"
    assert count_lines(service, rf"rows\.stored={len(reported)}\b") == 1, service.describe()

    last = rows[times[-1]]
    duration = column(last, "duration_s")
    assert column(last, "flags") & FLAG_PARTIAL, f"the last row is not flagged partial: flags {column(last, 'flags')}"
    assert 0.5 <= duration < 60, f"the last row's duration_s is {duration}"
    assert reported[-1].time == times[-1] and reported[-1].flags & FLAG_PARTIAL
    full = [rows[t] for t in times[1:-1]]
    assert all(column(r, "flags") & ~FLAG_MISSED_SAMPLES == 0 and math.isclose(column(r, "duration_s"), 60, abs_tol=0.5) for r in full)
    # The order of the stop: the sampler closes the interval, then storage writes it and closes the database.
    sampling_stopped, _ = service.wait_for(r"sampling stopped", timeout=1, what="sampling stopped")
    storage_stopped, _ = service.wait_for(r"storage stopped", timeout=1, what="storage stopped")
    assert sampling_stopped < storage_stopped


def test_a_noisy_bus_moves_no_energy_between_minutes(start_service, workdir: Path):
    """1 % of reads corrupted on the wire (scenarios/faults-noisy-bus.json): the reads are repeated, and
    the energy counters of each snapshot still come from one transfer with one time stamp, so every whole
    minute holds 2300 W × 60 s, however late a retry ran."""
    db = workdir / "data_gathering.db"
    service = start_service(db, scenario_name="faults-noisy-bus", speed=300, duration=600)
    assert service.wait(timeout=60) == 0, service.describe()
    assert count_lines(service, r"spi\.crc_mismatches=[1-9]") == 1, "no read was corrupted: the fault did not fire"
    rows = meter_rows(db)
    assert len(rows) == 10
    for t, row in rows.items():
        for phase in PHASE:
            assert _within(column(row, f"{phase}_p"), WATTS, 0.001), f"row {t} {phase}_p {column(row, f'{phase}_p')}"
            assert _within(column(row, f"{phase}_wh_imp"), MINUTE_WH, 0.002), f"row {t} {phase}_wh_imp"
