# SPDX-License-Identifier: Apache-2.0
"""The installed unit under a real systemd 252, booted as PID 1 of private namespaces (opt-in).

    CLEMAP_LIVE_SYSTEMD=1 python3 -m pytest -q integration/install/test_live_systemd.py

Needs root, util-linux (unshare, nsenter, setpriv), systemd and a cgroup2 hierarchy; about 40 s. What the
offline checks cannot show: the Swift binary starts under the whole sandbox (seccomp filter,
MemoryDenyWriteExecute, ProtectProc, …), READY=1/WATCHDOG=1/STATUS= arrive (NotifyAccess=main), the
database lands in /var/lib/clemap-edge as clemap-edge with mode 0640, SIGTERM stops it cleanly, a missing
/dev/spidev0.0 gives restarts with the documented message, and the clock synchronisation state stays
readable (adjtimex) while ProtectClock=yes would break it.

The steps are the documented ones (make install, systemd-sysusers, daemon-reload, enable --now) plus a
drop-in that runs the simulated meter. live_systemd_init.sh explains why nothing reaches the host.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from install_helpers import REPO, run

INIT = Path(__file__).with_name("live_systemd_init.sh")
UNIT_PATH = "/usr/local/lib/systemd/system/clemap-edge.service"
DROPIN = "/etc/systemd/system/clemap-edge.service.d/live-test.conf"
SIMULATE = "/usr/local/bin/clemap-edge run --config /etc/clemap-edge/config.ini --simulate --sim-speed 60"

pytestmark = pytest.mark.skipif(os.environ.get("CLEMAP_LIVE_SYSTEMD") != "1",
                                reason="opt-in: CLEMAP_LIVE_SYSTEMD=1 boots a systemd in private namespaces")


def cgroup2_root() -> Path:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, where, kind, *_ = line.split()
        if kind == "cgroup2":
            return Path(where)
    pytest.skip("no cgroup2 hierarchy mounted")


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.3)


class Machine:
    """A systemd booted in private namespaces; `sh()` runs a command inside them."""

    def __init__(self, work: Path, binary: Path):
        for tool in ("unshare", "nsenter", "setpriv"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} not installed")
        if os.geteuid() != 0 or not Path("/lib/systemd/systemd").exists():
            pytest.skip("needs root and systemd")
        mine = os.environ.get("PYTEST_XDIST_WORKER", "") + str(os.getpid())
        self.cgroup = cgroup2_root() / f"clemap-live-{mine}"
        self.cgroup.mkdir()
        procs = self.cgroup / "cgroup.procs"
        self.log = (work / "boot.log").open("w")
        self.work = work
        self.process = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--cgroup",
             "--propagation", "private", "--mount-proc", "bash", str(INIT), str(work), str(binary), str(REPO)],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=lambda: procs.write_text(str(os.getpid())))
        self.pid1 = 0
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            self.pid1 = int(wait_until(lambda: children.read_text().split()[:1], 10, "unshare's child")[0])
            wait_until(lambda: self.sh("systemctl is-system-running", check=False).stdout.strip()
                       in ("running", "degraded"), 30, "systemd to boot")
        except BaseException:
            self.stop()
            raise AssertionError(f"the namespace did not boot:\n{(work / 'boot.log').read_text()}")

    def sh(self, command: str, *, check: bool = True, timeout: float = 60, input: str | None = None
           ) -> subprocess.CompletedProcess:
        return run(["nsenter", "-t", str(self.pid1), "-a", "sh", "-c", command], check=check, timeout=timeout,
                   input=input)

    def write(self, path: str, text: str) -> None:
        self.sh(f"mkdir -p {Path(path).parent} && cat > {path}", input=text)

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        out = self.sh(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in properties)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str) -> str:
        return self.sh(f"journalctl -u {unit} --no-pager -o cat").stdout

    def stop(self):
        try:
            os.kill(self.pid1 or self.process.pid, signal.SIGKILL)  # PID 1: ends every process of the namespace
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.log.close()
        for directory in sorted(self.cgroup.rglob("*"), key=lambda p: -len(p.parts)):
            if directory.is_dir():
                directory.rmdir()
        self.cgroup.rmdir()


@pytest.fixture(scope="module")
def machine(tmp_path_factory, binary):
    machine = Machine(tmp_path_factory.mktemp("live"), binary)
    try:
        # The documented steps (mk/install.mk post-install), DESTDIR empty: into the overlays.
        # The init copied the install inputs to /run/clemap-src: the repository may be under the covered /tmp.
        machine.sh(f"make --no-print-directory -C /run/clemap-src -f /run/clemap-src/mk/install.mk install "
                   f"BIN=/run/clemap-edge.bin")
        machine.sh("systemd-sysusers /usr/local/lib/sysusers.d/clemap-edge.conf")
        machine.sh("systemctl daemon-reload")
        yield machine
    finally:
        machine.stop()


def configure(machine: Machine, service: str = "", unit: str = "DefaultDependencies=no\n") -> None:
    """A drop-in for the test; DefaultDependencies=no keeps sysinit.target (udev, sysctl, …) out of it."""
    machine.write(DROPIN, f"[Unit]\n{unit}[Service]\n{service}")
    machine.sh("systemctl daemon-reload")


def main_pid_status(machine: Machine) -> str:
    return machine.sh("cat /proc/$(systemctl show -p MainPID --value clemap-edge)/status").stdout


def test_the_simulated_meter_runs_sandboxed_and_stores_rows(machine):
    configure(machine, f"ExecStart=\nExecStart={SIMULATE}\nWatchdogSec=5s\n")
    machine.sh("systemctl enable --now clemap-edge")  # returns once READY=1 arrived (Type=notify)
    state = machine.show("clemap-edge", "ActiveState", "SubState", "FragmentPath")
    assert state == {"ActiveState": "active", "SubState": "running", "FragmentPath": UNIT_PATH}
    wait_until(lambda: re.match(r"([1-9]\d*) rows stored",
                                machine.show("clemap-edge", "StatusText")["StatusText"]), 20, "STATUS= with rows")
    first = int(machine.show("clemap-edge", "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])
    time.sleep(6)  # longer than WatchdogSec=5s: still running only if WATCHDOG=1 keeps arriving
    after = machine.show("clemap-edge", "ActiveState", "NRestarts", "WatchdogTimestampMonotonic")
    assert after["ActiveState"] == "active" and after["NRestarts"] == "0"
    assert int(after["WatchdogTimestampMonotonic"]) > first

    status = main_pid_status(machine)
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M) and re.search(r"^Seccomp:\s+2$", status, re.M)
    assert re.search(r"^CapEff:\s+0+$", status, re.M) and re.search(r"^CapBnd:\s+0+$", status, re.M)
    gids = set(re.search(r"^Groups:\s+(.*)$", status, re.M).group(1).split())
    for group in ("spi", "gpio"):
        assert machine.sh(f"getent group {group} | cut -d: -f3").stdout.strip() in gids, group

    listing = machine.sh("stat -c '%a %U:%G %n' /var/lib/clemap-edge /var/lib/clemap-edge/data_gathering.db").stdout
    assert listing.splitlines() == ["750 clemap-edge:clemap-edge /var/lib/clemap-edge",
                                    "640 clemap-edge:clemap-edge /var/lib/clemap-edge/data_gathering.db"]


def test_sigterm_stops_it_cleanly_with_the_rows_written(machine):
    started = time.monotonic()
    machine.sh("systemctl stop clemap-edge")
    assert time.monotonic() - started < 20
    result = machine.show("clemap-edge", "ActiveState", "Result", "ExecMainStatus")
    assert result == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    assert "storage stopped" in machine.journal("clemap-edge")
    rows = machine.sh("python3 -c \"import sqlite3; print(sqlite3.connect("
                      "'file:/var/lib/clemap-edge/data_gathering.db?mode=ro', uri=True)"
                      ".execute('SELECT count(*) FROM meter_data').fetchone()[0])\"").stdout
    assert int(rows) > 0


def test_without_the_chip_it_restarts_and_says_why(machine):
    configure(machine)
    machine.sh("systemctl start --no-block clemap-edge")
    wait_until(lambda: int(machine.show("clemap-edge", "NRestarts")["NRestarts"]) >= 1, 20, "a restart")
    assert "/dev/spidev0.0: no such device node" in machine.journal("clemap-edge")
    machine.sh("systemctl stop clemap-edge")


PROBE = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
result = libc.adjtimex(ctypes.create_string_buffer(512))
print("adjtimex", "ok" if result >= 0 else os.strerror(ctypes.get_errno()), flush=True)
"""


@pytest.mark.parametrize("protect_clock, expected", [("no", "adjtimex ok"), ("yes", "adjtimex Operation not permitted")])
def test_the_clock_synchronisation_state_stays_readable(machine, protect_clock, expected):
    """What ServiceClock does (adjtimex(3), i.e. clock_adjtime(2) with no change), under the unit's sandbox."""
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no /usr/bin/python3 for the probe")
    name = f"clock-probe-{protect_clock}"
    machine.write("/run/clock-probe.py", PROBE)
    machine.sh(f"sed -e 's/^Description=.*/Description=clock probe/' {UNIT_PATH} > /run/systemd/system/{name}.service")
    machine.write(f"/run/systemd/system/{name}.service.d/probe.conf",
                  "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nWatchdogSec=0\nRestart=no\n"
                  f"ProtectClock={protect_clock}\nExecStart=\nExecStart=/usr/bin/python3 /run/clock-probe.py\n")
    machine.sh(f"systemctl daemon-reload && systemctl start {name}")
    assert expected in machine.journal(name)
