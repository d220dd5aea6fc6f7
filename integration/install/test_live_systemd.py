# SPDX-License-Identifier: Apache-2.0
"""The installed unit under a real systemd 252, booted as PID 1 of private namespaces (opt-in).

    CLEMAP_LIVE_SYSTEMD=1 python3 -m pytest -q integration/install/test_live_systemd.py

Needs root, util-linux (unshare, nsenter, setpriv), systemd and a cgroup2 hierarchy; about 40 s. What the
offline checks cannot show: the Swift binary starts under the whole sandbox (seccomp filter,
MemoryDenyWriteExecute, ProtectProc, …), READY=1/WATCHDOG=1/STATUS= arrive (NotifyAccess=main), the
database lands in /var/lib/clemap-edge as clemap-edge with mode 0640, the HTTP API answers on
127.0.0.1:4000 through the unit's IP filter, SIGTERM stops it cleanly, a missing /dev/spidev0.0 gives restarts
with the documented message, the clock synchronisation state stays readable (adjtimex) while ProtectClock=yes
would break it, and only loopback packets pass (IPAddressAllow=localhost, IPAddressDeny=any) unless
systemd/network.conf is installed: an address on lo outside 127.0.0.0/8 (192.0.2.1, TEST-NET-1) stands in
for the network, since the namespace has no other interface.

The steps are the documented ones (make install, systemd-sysusers, daemon-reload, enable --now) plus a
drop-in that runs the simulated meter. live_systemd_init.sh explains why nothing reaches the host.
"""

from __future__ import annotations

import json
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
# Not loopback, but on lo inside the namespace (TEST-NET-1, RFC 5737): "the network" for the IP filter.
OUTSIDE = "192.0.2.1"
NETWORK_DROPIN = "/etc/systemd/system/clemap-edge.service.d/network.conf"

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


HTTP_GET = """import sys, urllib.error, urllib.request
url, token = sys.argv[1], (sys.argv[2:] or [None])[0]
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
try:
    with urllib.request.urlopen(request, timeout=3) as answer:
        print(answer.status, answer.headers.get_content_type()); print(answer.read().decode())
except urllib.error.HTTPError as error:
    print(error.code, error.headers.get_content_type()); print(error.read().decode())
except OSError as error:
    print("failed", getattr(error, "reason", error))
"""


def http_get(machine: Machine, url: str, token: str | None = None) -> tuple[str, str, str]:
    """(status or "failed", content type or the reason, body), fetched inside the namespace by root, outside the unit."""
    machine.write("/run/http-get.py", HTTP_GET)
    out = machine.sh(f"/usr/bin/python3 /run/http-get.py {url} {token or ''}", timeout=15).stdout
    head, _, body = out.partition("\n")
    status, _, kind = head.partition(" ")
    return status, kind, body


def test_the_http_api_answers_on_loopback(machine):
    """[HTTP] as shipped (127.0.0.1:4000, no token): reachable from the host's side although the service's
    cgroup passes only loopback packets; reads need no token."""
    if machine.show("clemap-edge", "ActiveState")["ActiveState"] != "active":  # when run on its own
        configure(machine, f"ExecStart=\nExecStart={SIMULATE}\n")
        machine.sh("systemctl start clemap-edge")
    assert "127.0.0.1:4000" in machine.sh("ss -Hltn 'sport = :4000'").stdout.split()
    live = wait_until(lambda: (answer := http_get(machine, "http://127.0.0.1:4000/api/v1/live"))[0] == "200" and answer,
                      20, "200 from /api/v1/live")
    assert live[1] == "application/json"
    reading = json.loads(live[2])
    assert isinstance(reading["l1_v"], (int, float)) and reading["l1_v"] > 100, reading
    status, kind, metrics = http_get(machine, "http://127.0.0.1:4000/metrics")
    assert (status, kind) == ("200", "text/plain"), (status, kind, metrics[:300])
    assert re.search(r"^clemap_voltage_volts\{[^}]*\} \d", metrics, re.M), metrics[:1000]
    assert "HTTP API listening" in machine.journal("clemap-edge")


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
    assert expected in probe_unit(machine, f"clock-probe-{protect_clock}", PROBE, service=f"ProtectClock={protect_clock}\n")


def probe_unit(machine: Machine, name: str, script: str, *, args: str = "", service: str = "", drop_in: str = "") -> str:
    """Runs `script` with python3 as a oneshot copy of the installed unit (its whole sandbox, as clemap-edge), with
    `service` lines added and `drop_in` (a file of systemd/) installed beside it. Returns its journal."""
    machine.write(f"/run/{name}.py", script)
    machine.sh(f"sed -e 's/^Description=.*/Description={name}/' {UNIT_PATH} > /run/systemd/system/{name}.service")
    machine.write(f"/run/systemd/system/{name}.service.d/probe.conf",
                  "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nWatchdogSec=0\nRestart=no\n"
                  f"{service}ExecStart=\nExecStart=/usr/bin/python3 /run/{name}.py {args}\n")
    if drop_in:
        machine.sh(f"cp /run/clemap-src/systemd/{drop_in} /run/systemd/system/{name}.service.d/")
    machine.sh(f"systemctl daemon-reload && systemctl start {name}", timeout=30)
    return machine.journal(name)


@pytest.fixture(scope="module")
def outside(machine) -> str:
    """OUTSIDE on lo, and a TCP listener on every address (port 4999), as root outside any sandbox."""
    machine.sh(f"ip address replace {OUTSIDE}/32 dev lo")
    machine.sh("mkdir -p /run/empty && systemd-run --unit=listener -p DefaultDependencies=no "
               "/usr/bin/python3 -m http.server 4999 --bind 0.0.0.0 --directory /run/empty")
    wait_until(lambda: machine.sh("ss -Hltn 'sport = :4999'").stdout.strip(), 10, "the listener")
    return OUTSIDE


CONNECT = """import socket, sys
for address in sys.argv[1:]:
    try:
        socket.create_connection((address, 4999), timeout=3).close()
        print(address, "tcp connected", flush=True)
    except OSError as error:
        print(address, "tcp", error.strerror or error, flush=True)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"probe", (address, 4999))
        print(address, "udp sent", flush=True)
    except OSError as error:
        print(address, "udp", error.strerror or error, flush=True)
"""


@pytest.mark.parametrize("drop_in, expected", [
    # The SYN is dropped on the way out (TCP retransmits it until the timeout); a datagram's sendto() is
    # refused outright: the cgroup's egress filter, not a lost packet.
    ("", ["192.0.2.1 tcp timed out", "192.0.2.1 udp Operation not permitted"]),
    ("network.conf", ["192.0.2.1 tcp connected", "192.0.2.1 udp sent"]),
], ids=["loopback-only", "network.conf"])
def test_outbound_connections_pass_only_to_loopback_unless_the_network_drop_in_is_installed(machine, outside, drop_in,
                                                                                                expected):
    """A probe under the unit's own sandbox (the unit file, Type=oneshot, Python's connect() and sendto() as
    clemap-edge) rather than the service: its only outbound traffic is the exporter's, which needs an object store."""
    name = f"connect-probe{'-' + drop_in.split('.')[0] if drop_in else ''}"
    journal = probe_unit(machine, name, CONNECT, args=f"127.0.0.1 {outside}", drop_in=drop_in)
    lines = journal.splitlines()
    assert all(line in lines for line in ["127.0.0.1 tcp connected", "127.0.0.1 udp sent", *expected]), journal


@pytest.mark.parametrize("drop_in", [False, True], ids=["loopback-only", "network.conf"])
def test_an_api_bound_to_the_network_answers_other_hosts_only_with_the_network_drop_in(machine, outside, drop_in):
    """[HTTP] bind = 0.0.0.0 with a token (the documented way to open the API): the service listens on every
    address, but until network.conf is installed a client that is not on loopback gets no answer at all."""
    token = "live-test-token-0123456789"
    machine.sh("sed -e 's/^bind = 127.0.0.1$/bind = 0.0.0.0/' -e 's/^token =$/token = %s/' "
               "/etc/clemap-edge/config.ini > /run/clemap-open.ini" % token)
    assert f"token = {token}" in machine.sh("grep -E '^(bind|token) =' /run/clemap-open.ini").stdout
    try:
        if drop_in:
            machine.sh(f"install -D -m 0644 /run/clemap-src/systemd/network.conf {NETWORK_DROPIN}")
        configure(machine, "ExecStart=\nExecStart=" + SIMULATE.replace("/etc/clemap-edge/config.ini", "/run/clemap-open.ini") + "\n")
        machine.sh("systemctl restart clemap-edge")
        assert "0.0.0.0:4000" in machine.sh("ss -Hltn 'sport = :4000'").stdout.split()
        wait_until(lambda: http_get(machine, "http://127.0.0.1:4000/api/v1/live", token)[0] == "200", 20,
                   "200 from /api/v1/live on loopback")
        status, kind, body = http_get(machine, f"http://{outside}:4000/api/v1/live", token)
        if drop_in:
            assert (status, kind) == ("200", "application/json") and "l1_v" in json.loads(body), (status, kind, body)
            assert http_get(machine, f"http://{outside}:4000/api/v1/live")[0] == "401"  # no token
        else:
            assert (status, kind) == ("failed", "timed out"), (status, kind, body)
    finally:
        machine.sh(f"rm -f {NETWORK_DROPIN} && systemctl daemon-reload && systemctl stop clemap-edge")


MODBUS_READ = """import socket, struct, sys
# Function 3, 19000 x 2 (V L1-N as float32), unit 1, by hand: the system python has no Modbus library.
with socket.create_connection(("127.0.0.1", 5020), timeout=3) as s:
    s.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 19000, 2))
    answer = s.recv(64)
print(answer.hex(), struct.unpack(">f", answer[9:13])[0] if len(answer) == 13 else "")
"""


def test_modbus_answers_on_loopback_inside_the_sandbox(machine):
    """[MODBUS] enabled (127.0.0.1:5020): libmodbus binds and a thread per connection serves under the unit's seccomp
    filter and IP filter, and V L1-N comes back as float32."""
    machine.sh("sed -e '/^\\[MODBUS\\]/,/^\\[/ s/^enabled = false$/enabled = true/' "
               "/etc/clemap-edge/config.ini > /run/clemap-modbus.ini")
    assert "enabled = true" in machine.sh("sed -n '/^\\[MODBUS\\]/,/^\\[/p' /run/clemap-modbus.ini").stdout
    machine.write("/run/modbus-read.py", MODBUS_READ)
    try:
        configure(machine, "ExecStart=\nExecStart=" + SIMULATE.replace("/etc/clemap-edge/config.ini", "/run/clemap-modbus.ini") + "\n")
        machine.sh("systemctl restart clemap-edge")
        assert "127.0.0.1:5020" in machine.sh("ss -Hltn 'sport = :5020'").stdout.split()

        def read() -> list[str] | None:
            words = machine.sh("/usr/bin/python3 /run/modbus-read.py", check=False, timeout=15).stdout.split()
            return words if len(words) == 2 and words[0].startswith("00010000000701030") else None
        answer = wait_until(read, 20, "a Modbus answer with V L1-N")
        assert 200 < float(answer[1]) < 260, answer
        assert "Modbus TCP listening" in machine.journal("clemap-edge")
    finally:
        machine.sh("systemctl stop clemap-edge")
