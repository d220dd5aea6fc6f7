# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the process tests: the built `clemap-edge` binary run as a real process.

The binary comes from env CLEMAP_EDGE_BIN (default: <repo>/.build/debug/clemap-edge). A missing binary FAILS the
tests (build it with `swift build`); it never skips them.

`start_service(...)` starts `clemap-edge run --simulate ...` with stdout going to a file and stderr read line by
line by a thread, which writes every line to a file as well and remembers when it arrived (time.monotonic()).
The service logs one debug line per row AFTER its transaction committed
(Sources/MeterServices/Storage/BacklogWriter.swift):

    2026-11-24T21:26:03+0000 debug clemap-edge: row.flags=0 row.outcome=inserted row.time=1795555620 [MeterServices] row stored

so a row is "reported committed" exactly when such a line reached stderr.
"""

from __future__ import annotations

import math
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "clemap-edge"

#: The original CLEMAP readers' query, printed by the service at start.
ORIGINAL_QUERY = "SELECT time, l1_p, l2_p, l3_p FROM meter_data ORDER BY time DESC LIMIT 10"

#: Columns of meter_data, in table order (Sources/MeterStore/Schema.swift, migrations 1 and 2).
PHASE = ("l1", "l2", "l3")
METER_COLUMNS = (
    ["time"]
    + [f"{p}_{q}" for q in ("v", "i", "p", "q", "s", "pf") for p in PHASE]
    + ["freq"]
    + [f"{p}_{q}" for q in ("wh_imp", "wh_exp", "varh", "vah") for p in PHASE]
    + ["duration_s", "samples", "flags", "temp_c", "input_b"]
    + [f"{p}_{q}" for q in ("vthd", "vthd_max", "ithd", "ithd_max") for p in PHASE]  # migration "2 power quality"
    + ["n_i"]
)
COLUMN_LIST = ", ".join(METER_COLUMNS)

FLAG_PARTIAL = 1
FLAG_CHIP_RESET = 2
FLAG_MISSED_SAMPLES = 4
FLAG_RESTAMPED = 8
FLAG_CLOCK_JUMP = 16
FLAG_UNSYNCHRONISED = 32

_ROW_STORED = re.compile(r"\brow stored\s*$")
_ROW_TIME = re.compile(r"\brow\.time=(-?\d+)\b")
_ROW_OUTCOME = re.compile(r"\brow\.outcome=(\w+)\b")
_ROW_FLAGS = re.compile(r"\brow\.flags=(\d+)\b")


# MARK: - Fixtures


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def clemap_bin() -> Path:
    """The binary under test; FAILS (never skips) when it is missing."""
    path = Path(os.environ.get("CLEMAP_EDGE_BIN", str(DEFAULT_BIN)))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"clemap-edge binary not found or not executable at {path}. Build it with `swift build` in {REPO_ROOT}, "
            "or point CLEMAP_EDGE_BIN at it.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def config_ini() -> Path:
    path = REPO_ROOT / "calibration" / "config.ini"
    assert path.is_file(), f"missing {path}"
    return path


@pytest.fixture(scope="session")
def scenario():
    """scenario("home-day") -> <repo>/scenarios/home-day.json"""

    def find(name: str) -> Path:
        path = REPO_ROOT / "scenarios" / (name if name.endswith(".json") else name + ".json")
        assert path.is_file(), f"missing scenario {path}"
        return path

    return find


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A per-test temporary folder for databases and captured output."""
    return tmp_path


@pytest.fixture
def start_service(clemap_bin: Path, config_ini: Path, scenario, workdir: Path):
    """Factory: start_service(db, scenario="balanced-resistive", speed=600, duration=None, ...) -> ServiceProcess.

    Every process still running at teardown is SIGKILLed (by its pid) and reaped.
    """
    started: list[ServiceProcess] = []
    counter = [0]

    def start(
        db: Path | str,
        *,
        scenario_name: str | None = "balanced-resistive",
        speed: float = 600,
        duration: float | None = None,
        log_level: str | None = "debug",
        extra_args: tuple[str, ...] = (),
        name: str | None = None,
        output_dir: Path | None = None,
        config: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> ServiceProcess:
        counter[0] += 1
        name = name or f"run{counter[0]:03d}"
        argv = [str(clemap_bin), "run", "--config", str(config or config_ini), "--db", str(db), "--simulate"]
        if scenario_name:
            argv += ["--scenario", str(scenario(scenario_name))]
        argv += ["--sim-speed", _number(speed)]
        if duration is not None:
            argv += ["--sim-duration", _number(duration)]
        if log_level:
            argv += ["--log-level", log_level]
        argv += list(extra_args)
        out = output_dir or workdir
        service = ServiceProcess(argv, out / f"{name}.stdout", out / f"{name}.stderr", cwd=REPO_ROOT, env=env)
        started.append(service)
        return service

    yield start

    for service in started:
        service.cleanup()


# MARK: - The service process


@dataclass(frozen=True)
class StoredRow:
    """One "row stored" log line: the service committed this row."""

    time: int
    outcome: str  # inserted | conflict | duplicate
    flags: int
    seen_at: float  # time.monotonic() when the line reached us
    line: str


@dataclass(frozen=True)
class LogLine:
    at: float
    text: str


class ServiceProcess:
    """A running `clemap-edge run`, its stderr read line by line (timestamped) and copied to a file."""

    def __init__(self, argv: list[str], stdout_path: Path, stderr_path: Path, cwd: Path, env: dict[str, str] | None = None):
        self.argv = argv
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self._lines: list[LogLine] = []
        self._cond = threading.Condition()
        self._eof = False
        self._stdout = open(stdout_path, "wb")
        self._stderr_copy = open(stderr_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=subprocess.PIPE, env=env
        )
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, name=f"stderr-{self.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                at = time.monotonic()
                self._stderr_copy.write(raw)
                self._stderr_copy.flush()
                with self._cond:
                    self._lines.append(LogLine(at, raw.decode("utf-8", "replace").rstrip("\r\n")))
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    # -- reading the log

    @property
    def lines(self) -> list[LogLine]:
        with self._cond:
            return list(self._lines)

    @property
    def stderr_text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def stored_rows(self) -> list[StoredRow]:
        """Every row the service reported committed so far, in log order."""
        return [row for row in map(parse_row_stored, self.lines) if row is not None]

    def wait_for(self, predicate, timeout: float, what: str, start: int = 0) -> tuple[int, LogLine]:
        """Waits for the first line (at index >= start) matching `predicate` (a regex string or a callable).

        Fails with the log tail when the timeout passes or the process ended first.
        """
        test = (lambda text: re.search(predicate, text) is not None) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout
        with self._cond:
            index = start
            while True:
                while index < len(self._lines):
                    if test(self._lines[index].text):
                        return index, self._lines[index]
                    index += 1
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.05))
        state = "the process ended first" if self._eof else f"{timeout} s passed"
        pytest.fail(f"waiting for {what}: {state}\n{self.describe()}", pytrace=False)

    def wait_for_rows(self, count: int, timeout: float) -> list[StoredRow]:
        """Waits until at least `count` rows were reported committed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                rows = [r for r in map(parse_row_stored, self._lines) if r is not None]
                if len(rows) >= count:
                    return rows
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.05))
        pytest.fail(f"waiting for {count} stored rows, got {len(rows)}\n{self.describe()}", pytrace=False)

    # -- controlling the process

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, sig: int) -> None:
        """Sends `sig` to this process (by its pid) if it still runs."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill9(self) -> float:
        """SIGKILL now; returns the monotonic time of the kill."""
        at = time.monotonic()
        self.send(signal.SIGKILL)
        return at

    def terminate(self) -> None:
        self.send(signal.SIGTERM)

    def wait(self, timeout: float = 30) -> int:
        """Waits for the exit (failing the test after `timeout`) and for the whole stderr; returns the exit code."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.proc.wait(10)
            self._finish_reader()
            pytest.fail(f"clemap-edge did not exit within {timeout} s (killed)\n{self.describe()}", pytrace=False)
        self._finish_reader()
        return code

    def _finish_reader(self) -> None:
        self._reader.join(10)
        for f in (self._stdout, self._stderr_copy):
            if not f.closed:
                f.close()

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.send(signal.SIGKILL)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._finish_reader()

    def describe(self, tail: int = 40) -> str:
        lines = self.lines
        shown = "\n".join("    " + line.text[:600] for line in lines[-tail:])
        return (
            f"  command: {' '.join(self.argv)}\n  pid {self.pid}, exit code {self.proc.poll()}\n"
            f"  stderr ({self.stderr_path}, last {min(tail, len(lines))} of {len(lines)} lines):\n{shown}"
        )


def parse_row_stored(line: LogLine) -> StoredRow | None:
    if not _ROW_STORED.search(line.text):
        return None
    t, o, f = _ROW_TIME.search(line.text), _ROW_OUTCOME.search(line.text), _ROW_FLAGS.search(line.text)
    assert t and o and f, f"'row stored' line without row.time/row.outcome/row.flags metadata: {line.text}"
    return StoredRow(int(t.group(1)), o.group(1), int(f.group(1)), line.at, line.text)


def count_lines(service: ServiceProcess, pattern: str) -> int:
    return sum(1 for line in service.lines if re.search(pattern, line.text))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# MARK: - Reading the database (from this process, read-only)


def connect_ro(db: Path) -> sqlite3.Connection:
    """A read-only connection: it never checkpoints or deletes the service's -wal."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def integrity(db: Path) -> list[str]:
    with _closing(connect_ro(db)) as c:
        return [r[0] for r in c.execute("PRAGMA integrity_check")]


SCHEMA_TABLES = frozenset({"meter_data", "meter_data_conflicts", "energy_totals"})


def schema_state(db: Path) -> tuple[frozenset[str], int]:
    """The service's tables present in the file, and PRAGMA user_version (the schema version)."""
    with _closing(connect_ro(db)) as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = c.execute("PRAGMA user_version").fetchone()[0]
    return frozenset(names & SCHEMA_TABLES), version


def _present(c: sqlite3.Connection, table: str) -> str:
    """The METER_COLUMNS the table has, NULL for the others: a file killed between the store's migrations (each its
    own transaction) has migration 1's columns only, until the next start adds the rest."""
    have = {row[1] for row in c.execute(f"PRAGMA table_info({table})")}
    return ", ".join(name if name in have else "NULL" for name in METER_COLUMNS)


def meter_rows(db: Path) -> dict[int, tuple]:
    """meter_data, time -> all columns in table order."""
    with _closing(connect_ro(db)) as c:
        return {row[0]: row for row in c.execute(f"SELECT {_present(c, 'meter_data')} FROM meter_data ORDER BY time")}


def conflict_rows(db: Path) -> list[tuple]:
    """meter_data_conflicts in insertion order, the meter_data columns only (without stored_at)."""
    with _closing(connect_ro(db)) as c:
        return list(c.execute(f"SELECT {_present(c, 'meter_data_conflicts')} FROM meter_data_conflicts ORDER BY rowid"))


def energy_totals(db: Path) -> dict[int, tuple[float, float, float, float]]:
    with _closing(connect_ro(db)) as c:
        return {r[0]: tuple(r[1:]) for r in c.execute("SELECT phase, wh_imp, wh_exp, varh, vah FROM energy_totals")}


def original_query(db: Path) -> list[tuple]:
    with _closing(connect_ro(db)) as c:
        return list(c.execute(ORIGINAL_QUERY))


def column(row: tuple, name: str):
    return row[METER_COLUMNS.index(name)]


def assert_totals_match_rows(db: Path, context: str = "") -> None:
    """energy_totals is updated in the same transaction as every stored row: it must equal the sum of the energy
    columns over meter_data and meter_data_conflicts (nothing is ever deleted by retention in these short tests)."""
    rows = list(meter_rows(db).values()) + conflict_rows(db)
    totals = energy_totals(db)
    for n, phase in enumerate(PHASE, start=1):
        for k, quantity in enumerate(("wh_imp", "wh_exp", "varh", "vah")):
            expected = math.fsum(v for v in (column(r, f"{phase}_{quantity}") for r in rows) if v is not None)
            got = totals[n][k]
            assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6), (
                f"{context}energy_totals phase {n} {quantity} = {got!r}, but the stored rows sum to {expected!r}: "
                "a row and its energy were not committed together"
            )


class _closing:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()
