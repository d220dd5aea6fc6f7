# SPDX-License-Identifier: Apache-2.0
"""The database becomes unwritable and writable again: no row lost; a damaged file is moved aside intact.

Real mechanisms on a tmpfs mounted per test (needs root with CAP_SYS_ADMIN; a refused mount FAILS the test):

* read-only: `mount -o remount,ro DIR`, later `mount -o remount,rw DIR`. Linux refuses to remount a filesystem
  read-only while a process holds a file on it open for writing (EBUSY, "mount point is busy"), and the service
  keeps its database open, so the read-only phase starts before the service opens the file: rows are stored
  (first run), the filesystem goes read-only, the service starts again and cannot open the database, keeps its
  rows in memory for a few simulated minutes, then the filesystem is writable again.
* full: a tmpfs with size=4m filled up by a filler file while the service runs (SQLITE_FULL), then the filler
  is deleted: the same backlog path, in the middle of a run.

Each failure must be logged once (not once a minute) and the recovery once.
"""

from __future__ import annotations

import calendar
import contextlib
import errno
import os
import random
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (
    FLAG_PARTIAL,
    assert_totals_match_rows,
    column,
    conflict_rows,
    count_lines,
    integrity,
    meter_rows,
)

FAILURE = r"keeping rows in memory"  # both "database cannot be opened; …" and "database write failed; …"
RECOVERY = r"database writable again; backlog written"


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def tmpfs(path: Path, size: str | None = None):
    """Mounts a tmpfs at `path` for the block; always unmounts it (lazily if a process still holds it)."""
    path.mkdir(parents=True, exist_ok=True)
    options = ["-o", f"size={size}"] if size else []
    result = _mount("-t", "tmpfs", *options, "tmpfs", str(path))
    if result.returncode != 0:
        pytest.fail(
            f"`mount -t tmpfs tmpfs {path}` is not permitted here (exit {result.returncode}: {result.stderr.strip()}). "
            "These tests need root with CAP_SYS_ADMIN (a privileged container or VM).",
            pytrace=False,
        )
    try:
        yield path
    finally:
        done = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True, timeout=30)


def remount(path: Path, mode: str) -> None:
    result = _mount("-o", f"remount,{mode}", str(path))
    assert result.returncode == 0, f"mount -o remount,{mode} {path} failed: {result.stderr.strip()}"


def _assert_read_only(path: Path) -> None:
    try:
        (path / "probe").write_bytes(b"x")
    except OSError as error:
        assert error.errno == errno.EROFS, f"writing to {path} failed with {error}, not EROFS"
    else:
        pytest.fail(f"{path} is still writable after remount,ro")


def _assert_contiguous_once(times: list[int], what: str) -> None:
    assert times, f"{what}: no rows"
    assert len(times) == len(set(times)), f"{what}: a time was reported twice: {sorted(times)}"
    expected = list(range(min(times), max(times) + 60, 60))
    missing = sorted(set(expected) - set(times))
    assert not missing, f"{what}: minutes missing between {min(times)} and {max(times)}: {missing}"


def _fill(path: Path) -> None:
    """Writes zeros to `path` until the filesystem has no block left (ENOSPC)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    break
        os.fsync(fd)
    finally:
        os.close(fd)


def _logged_rows(line: str) -> int:
    match = re.search(r"\brows=(\d+)\b", line)
    assert match, f"no rows= in {line}"
    return int(match.group(1))


def test_read_only_filesystem_then_writable_loses_no_row(start_service, workdir: Path):
    mount_point = workdir / "mnt"
    with tmpfs(mount_point):
        db = mount_point / "data_gathering.db"

        # 1. Some rows stored normally (3 minutes, the run ends by itself).
        first = start_service(db, duration=180, name="before")
        assert first.wait(timeout=30) == 0, first.describe()
        before = meter_rows(db)
        assert len(before) == 3, f"first run stored {sorted(before)}\n{first.describe()}"

        # 2. The filesystem goes read-only; the service starts on it and cannot open the database.
        remount(mount_point, "ro")
        _assert_read_only(mount_point)
        service = start_service(db, name="readonly")
        try:
            _, failure = service.wait_for(FAILURE, timeout=20, what="the storage failure on a read-only filesystem")
            assert re.search(r"read-only|not writable", failure.text), f"the failure does not say why: {failure.text}"
            time.sleep(0.6)  # ~6 simulated minutes at x600, read-only
            assert not service.stored_rows(), "rows reported stored while the filesystem was read-only"
            assert count_lines(service, FAILURE) == 1, "the failure is logged once, not once a minute"

            # 3. Writable again: the backlog is written at the next interval, then rows flow as before.
            remount(mount_point, "rw")
            _, recovery = service.wait_for(RECOVERY, timeout=10, what="the recovery log")
            held = _logged_rows(recovery.text)
            assert held >= 4, f"only {held} rows were held over ~6 read-only minutes: {recovery.text}"
            stored_at_recovery = len(service.stored_rows())
            service.wait_for_rows(stored_at_recovery + 3, timeout=10)
            service.terminate()
            code = service.wait(timeout=25)
        finally:
            service.cleanup()

        assert code == 0, service.describe()
        assert count_lines(service, FAILURE) == 1, f"failure logged more than once\n{service.describe()}"
        assert count_lines(service, RECOVERY) == 1, f"recovery logged more than once\n{service.describe()}"
        assert count_lines(service, r" (error|critical) ") == 1, f"unexpected errors\n{service.describe()}"
        assert integrity(db) == ["ok"]

        reported = service.stored_rows()
        times = [r.time for r in reported]
        _assert_contiguous_once(times, "second run")
        assert re.search(rf"rows\.stored={len(reported)}\b", service.stderr_text), "storage stopped count differs"
        assert reported[-1].flags & FLAG_PARTIAL, "the row written at SIGTERM is flagged partial"

        # The first run's rows are untouched; the second run's rows are each stored exactly once: in meter_data,
        # or in meter_data_conflicts when the first run already had that minute (both runs start at the same
        # real minute on the scaled clock).
        rows, conflicts = meter_rows(db), conflict_rows(db)
        for t, row in before.items():
            assert rows[t] == row, f"first run's row at {t} changed"
        for r in reported:
            in_meter = 1 if (r.time in rows and r.time not in before) else 0
            in_conflicts = sum(1 for c in conflicts if c[0] == r.time)
            assert in_meter + in_conflicts == 1, (
                f"second run's minute {r.time} ({r.outcome}) is stored {in_meter} times in meter_data and "
                f"{in_conflicts} times in meter_data_conflicts")
            expected = "conflict" if r.time in before else "inserted"
            assert r.outcome == expected, f"minute {r.time}: outcome {r.outcome}, expected {expected}"
        assert len(conflicts) == len(set(before) & set(times))
        assert_totals_match_rows(db)


def test_disk_full_mid_run_then_space_again_loses_no_row(start_service, workdir: Path):
    mount_point = workdir / "small"
    with tmpfs(mount_point, size="4m"):
        db = mount_point / "data_gathering.db"
        filler = mount_point / "filler"
        service = start_service(db, name="full")
        try:
            service.wait_for_rows(3, timeout=20)
            _fill(filler)
            _, failure = service.wait_for(FAILURE, timeout=10, what="the write failure on a full filesystem")
            assert re.search(r"full", failure.text), f"the failure does not say the disk is full: {failure.text}"
            time.sleep(0.6)  # ~6 simulated minutes with a full disk
            assert count_lines(service, FAILURE) == 1, "the failure is logged once, not once a minute"
            freed_at = time.monotonic()
            filler.unlink()
            _, recovery = service.wait_for(RECOVERY, timeout=10, what="the recovery log")
            assert recovery.at > freed_at, "recovery logged before the space came back"
            assert _logged_rows(recovery.text) >= 4, recovery.text
            service.wait_for_rows(len(service.stored_rows()) + 3, timeout=10)
            service.terminate()
            code = service.wait(timeout=25)
        finally:
            service.cleanup()

        assert code == 0, service.describe()
        assert count_lines(service, FAILURE) == 1, f"failure logged more than once\n{service.describe()}"
        assert count_lines(service, RECOVERY) == 1, f"recovery logged more than once\n{service.describe()}"
        assert integrity(db) == ["ok"]
        reported = service.stored_rows()
        times = [r.time for r in reported]
        _assert_contiguous_once(times, "run")
        rows = meter_rows(db)
        assert sorted(rows) == sorted(times), "meter_data holds exactly the reported minutes, each once"
        assert all(r.outcome == "inserted" for r in reported)
        assert conflict_rows(db) == []
        assert column(rows[max(rows)], "flags") & FLAG_PARTIAL
        assert_totals_match_rows(db)


@pytest.fixture
def damaged_file(request, start_service, workdir: Path) -> tuple[Path, bytes]:
    """A database path holding bytes SQLite must refuse: plain garbage, or a real database with damaged pages."""
    folder = workdir / "corrupt"
    folder.mkdir()
    db = folder / "data_gathering.db"
    rng = random.Random(20240105)
    if request.param == "garbage":
        db.write_bytes(rng.randbytes(12_000))
    else:
        maker = start_service(db, duration=300, name="maker")
        assert maker.wait(timeout=30) == 0, maker.describe()
        assert sorted(p.name for p in folder.iterdir()) == [db.name], "the clean stop left -wal/-shm behind"
        data = bytearray(db.read_bytes())
        assert len(data) >= 3 * 4096, len(data)
        data[4096:] = rng.randbytes(len(data) - 4096)  # keep the header page, damage every b-tree page
        db.write_bytes(bytes(data))
    return db, db.read_bytes()


@pytest.mark.parametrize("damaged_file", ["garbage", "damaged-pages"], indirect=True)
def test_damaged_database_is_moved_aside_intact(start_service, damaged_file):
    db, original = damaged_file
    folder = db.parent
    started_wall = time.time()
    service = start_service(db, name="after-damage")
    service.wait_for_rows(2, timeout=20)
    service.terminate()
    assert service.wait(timeout=25) == 0, service.describe()

    # The damaged file, plus the -wal/-shm SQLite made while checking it (moved with it, so they stay a pair).
    aside = sorted(p for p in folder.iterdir() if p.name.startswith(db.name + ".corrupt-"))
    mains = [p for p in aside if not p.name.endswith(("-wal", "-shm", "-journal"))]
    assert len(mains) == 1, f"expected one moved-aside database, found {[p.name for p in aside]}"
    moved = mains[0]
    strays = [p.name for p in aside if p != moved and not re.fullmatch(re.escape(moved.name) + r"-(wal|shm|journal)", p.name)]
    assert not strays, f"moved-aside companions not named after the moved file: {strays}"
    stamp = re.fullmatch(re.escape(db.name) + r"\.corrupt-(\d{8}T\d{6}Z)(-\d+)?", moved.name)
    assert stamp, f"moved-aside name {moved.name} is not <name>.corrupt-<yyyyMMddTHHmmssZ>"
    moved_wall = calendar.timegm(time.strptime(stamp.group(1), "%Y%m%dT%H%M%SZ"))
    assert abs(moved_wall - started_wall) < 300, f"{moved.name}: the stamp is not the real UTC time of the move"
    assert moved.read_bytes() == original, "the damaged bytes were not kept intact"

    # One clear line names both paths.
    naming = [line.text for line in service.lines if str(db) + " " in line.text + " " and str(moved) in line.text]
    assert len(naming) == 1, f"expected one log line naming {db} and {moved}, got:\n" + "\n".join(naming)
    assert count_lines(service, r"moved aside") == 1

    # A fresh database with the new rows.
    assert integrity(db) == ["ok"]
    rows = meter_rows(db)
    reported = service.stored_rows()
    assert len(reported) >= 2 and sorted(rows) == sorted(r.time for r in reported)
    assert conflict_rows(db) == []
    assert_totals_match_rows(db)
    assert os.path.getsize(moved) == len(original)
