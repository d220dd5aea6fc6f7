# SPDX-License-Identifier: Apache-2.0
"""Rows the database did not take at a stop go to a spill file; the next start stores them exactly once.

The spill file is `<db path>.spill` (trailing slashes stripped), else `<state dir>/<db name>.spill`, the state dir
of `--simulate` being `$TMPDIR/clemap-edge-sim`: TMPDIR points inside the test's folder, so nothing reaches /tmp.
Every run starts at the current real minute on the scaled clock, so a later run's minutes overlap the spilled
ones: such a row is a conflict (meter_data_conflicts) or a duplicate, never a second meter_data row.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import time
from pathlib import Path

from conftest import (
    METER_COLUMNS,
    assert_totals_match_rows,
    conflict_rows,
    count_lines,
    integrity,
    meter_rows,
)

CANNOT_OPEN = r"database cannot be opened; keeping rows in memory"
SPILLED = r"stopping with rows the database did not take: saved to a spill file; the next start stores them"
IMPORTED = r"stored the rows of an earlier stop's spill file"
NOT_SAVED = r"stopping with rows the database did not take, and no spill file could be written"


def _metadata(line: str, key: str) -> int:
    match = re.search(rf"(?:^|\s){re.escape(key)}=(\d+)\b", line)
    assert match, f"no {key}= in {line}"
    return int(match.group(1))


def _read_spill(path: Path) -> dict[int, dict]:
    assert path.is_file(), f"no spill file at {path}"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        assert set(row) == set(METER_COLUMNS), f"spill line not keyed by the meter_data columns: {sorted(row)}"
    times = [row["time"] for row in rows]
    assert len(times) == len(set(times)), f"a minute was spilled twice: {times}"
    assert all(t % 60 == 0 for t in times), f"spilled times are not whole minutes: {times}"
    assert sorted(times) == list(range(min(times), max(times) + 60, 60)), f"spilled minutes not consecutive: {times}"
    return {row["time"]: row for row in rows}


def _same(stored: tuple, spilled: dict) -> list[str]:
    """The columns in which a meter_data row differs from a spilled row."""
    differ = []
    for name, value in zip(METER_COLUMNS, stored):
        want = spilled[name]
        if (value is None) != (want is None) or (value is not None and not math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-9)):
            differ.append(f"{name}: stored {value!r}, spilled {want!r}")
    return differ


def test_rows_of_a_run_without_a_database_are_spilled_and_stored_once_by_the_next_start(
        start_service, workdir: Path, monkeypatch):
    tmpdir = workdir / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    db = workdir / "meter.db"
    spill = workdir / "meter.db.spill"
    state_spill = tmpdir / "clemap-edge-sim" / "meter.db.spill"

    # 1. The database path is a folder: SQLite cannot open it; rows stay in memory until SIGTERM spills them.
    db.mkdir()
    first = start_service(f"{db}/", name="no-database")  # the trailing slash is stripped for the spill path
    try:
        first.wait_for(CANNOT_OPEN, timeout=20, what="the database failure")
        first.wait_for(r"\] sampling\s*$", timeout=20, what="sampling to start")
        time.sleep(1.0)  # ~10 simulated minutes at x600
        first.send(signal.SIGTERM)
        code = first.wait(timeout=25)
    finally:
        first.cleanup()
    assert code == 0, f"a stop that spilled its rows must exit 0\n{first.describe()}"
    assert count_lines(first, CANNOT_OPEN) == 1, f"the failure is logged once\n{first.describe()}"
    _, line = first.wait_for(SPILLED, timeout=1, what="the spill log")
    assert str(spill) in line.text, f"the spill log does not name {spill}: {line.text}"
    spilled = _read_spill(spill)
    assert len(spilled) >= 5, f"only {len(spilled)} rows spilled over ~10 simulated minutes\n{first.describe()}"
    assert _metadata(line.text, "rows") == len(spilled), f"logged rows differ from the file's {len(spilled)}: {line.text}"
    assert not first.stored_rows(), "rows reported stored although the database could not be opened"
    assert not state_spill.exists(), "the state-directory fallback was used although the database's folder is writable"
    saved = workdir / "saved.spill"
    shutil.copyfile(spill, saved)

    # 2. The database can be opened again: the spill file is imported at start, then removed.
    db.rmdir()
    second = start_service(db, duration=300, name="import")
    assert second.wait(timeout=30) == 0, second.describe()
    _, imported = second.wait_for(IMPORTED, timeout=1, what="the import log")
    assert _metadata(imported.text, "rows") == len(spilled) and _metadata(imported.text, "rows.new") == len(spilled), (
        f"the import did not store all {len(spilled)} spilled rows as new: {imported.text}")
    assert not spill.exists(), f"the imported spill file was not removed\n{second.describe()}"
    assert integrity(db) == ["ok"]
    rows, conflicts = meter_rows(db), conflict_rows(db)
    for t, want in spilled.items():
        assert t in rows, f"spilled minute {t} is not in meter_data"
        differ = _same(rows[t], want)
        assert not differ, f"minute {t} in meter_data is not the spilled row: " + "; ".join(differ)
    reported = second.stored_rows()
    inserted = [r.time for r in reported if r.outcome == "inserted"]
    assert reported and len({r.time for r in reported}) == len(reported), f"run 2 reported a minute twice: {reported}"
    assert not set(inserted) & set(spilled), f"run 2 inserted a second row for a spilled minute: {inserted}"
    assert all(r.time in spilled for r in reported if r.outcome != "inserted"), "a conflict/duplicate outside the spill"
    assert sorted(rows) == sorted(set(spilled) | set(inserted)), (
        f"meter_data {sorted(rows)} is not the spilled {sorted(spilled)} plus run 2's inserted {inserted}")
    assert len(conflicts) == sum(r.outcome == "conflict" for r in reported), "conflicts not as reported"
    assert not any(c[0] in spilled and not _same(c, spilled[c[0]]) for c in conflicts), "a spilled row stored twice"
    assert_totals_match_rows(db, "after the import: ")
    after_import = rows

    # 3. A crash after the import's commit but before the file's removal: the same file again at the next start.
    shutil.copyfile(saved, spill)
    third = start_service(db, duration=120, name="reimport")
    assert third.wait(timeout=30) == 0, third.describe()
    _, again = third.wait_for(IMPORTED, timeout=1, what="the repeated import log")
    assert _metadata(again.text, "rows") == len(spilled) and _metadata(again.text, "rows.new") == 0, (
        f"rows already stored were counted as new again: {again.text}")
    assert not spill.exists(), f"the re-imported spill file was not removed\n{third.describe()}"
    rows, later_conflicts = meter_rows(db), conflict_rows(db)
    for t in spilled:
        assert rows[t] == after_import[t], f"minute {t} changed in meter_data by the repeated import"
    new_conflicts = sum(r.outcome == "conflict" for r in third.stored_rows())
    assert len(later_conflicts) == len(conflicts) + new_conflicts, (
        f"meter_data_conflicts grew by {len(later_conflicts) - len(conflicts)}, run 3 reported {new_conflicts}: "
        "a re-imported row was stored as a conflict")
    assert not any(c[0] in spilled and not _same(c, spilled[c[0]]) for c in later_conflicts), "a spilled row stored twice"
    assert sorted(rows) == sorted(set(after_import) | {r.time for r in third.stored_rows() if r.outcome == "inserted"})
    assert_totals_match_rows(db, "after the repeated import: ")
    assert count_lines(third, r" (error|critical) ") == 0, f"unexpected errors\n{third.describe()}"
    assert not state_spill.exists()


def test_a_stop_that_cannot_save_its_rows_exits_non_zero(start_service, workdir: Path, monkeypatch):
    plain = workdir / "file"
    plain.write_bytes(b"")
    monkeypatch.setenv("TMPDIR", str(plain / "tmp"))  # the state-directory fallback is under a plain file too
    db = plain / "meter.db"

    service = start_service(db, duration=120, name="nowhere")
    code = service.wait(timeout=30)
    assert code == 1, f"rows neither stored nor spilled: exit code {code}, expected 1\n{service.describe()}"
    _, critical = service.wait_for(NOT_SAVED, timeout=1, what="the critical log")
    assert " critical " in critical.text, f"not logged as critical: {critical.text}"
    lost = _metadata(critical.text, "rows")
    assert lost == 2, f"two simulated minutes were sampled, the log says {lost} rows: {critical.text}"
    text = service.stderr_text
    assert f"{lost} rows could be written neither to the database nor to a spill file" in text, (
        f"the exit message does not name the {lost} lost rows\n{service.describe()}")
    assert "Fix: make the database's folder (or the state directory) writable" in text, service.describe()
    assert plain.read_bytes() == b"", "the plain file was written to"
    leftovers = sorted(p.name for p in workdir.rglob("*.spill"))
    assert not leftovers, f"a spill file appeared although none could be written: {leftovers}"
