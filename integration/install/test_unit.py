# SPDX-License-Identifier: Apache-2.0
"""systemd/clemap-edge.service: `systemd-analyze verify` is silent, `security --offline` scores ≤ 2.0,
and the directives the service depends on are there (platform.md §4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from install_helpers import DB_PATH, UNIT, need_tool, run


def directives(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in file order (keys may repeat)."""
    section, result = "", []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        result.append((section, key.strip(), value.strip()))
    return result


def values(path: Path, key: str) -> list[str]:
    return [value for _, k, value in directives(path) if k == key]


def one(path: Path, key: str) -> str:
    found = values(path, key)
    assert len(found) == 1, f"{key}= appears {len(found)} times in {path.name}: {found}"
    return found[0]


def runnable_copy(unit: Path, binary: Path, directory: Path) -> Path:
    """The unit with ExecStart= pointing at an existing binary (verify fails on a missing one)."""
    text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={binary}", unit.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / unit.name
    copy.write_text(text)
    return copy


def verify(path: Path) -> None:
    # platform.md §4.3: bad values only warn (exit 0), so any output at all is a failure.
    result = run(["systemd-analyze", "verify", "--man=no", "--no-pager", str(path)], check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), \
        f"systemd-analyze verify {path.name}: exit {result.returncode}\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module", autouse=True)
def _tools():
    need_tool("systemd-analyze", "systemd")


def test_the_repository_unit_verifies_clean(tmp_path, binary):
    verify(runnable_copy(UNIT, binary, tmp_path))


def test_the_installed_unit_verifies_clean_and_runs_the_installed_binary(tmp_path, staged):
    installed = staged / "usr/local/lib/systemd/system/clemap-edge.service"
    assert one(installed, "ExecStart") == "/usr/local/bin/clemap-edge run --config /etc/clemap-edge/config.ini"
    # The check needs the binary to exist: point it at the staged copy under DESTDIR.
    verify(runnable_copy(installed, staged / "usr/local/bin/clemap-edge", tmp_path))


def test_verify_would_catch_a_bad_value(tmp_path, binary):
    broken = runnable_copy(UNIT, binary, tmp_path)
    broken.write_text(broken.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    with pytest.raises(AssertionError, match="restart specifier.*sometimes"):
        verify(broken)


def exposure(unit: Path) -> tuple[float, str]:
    """`systemd-analyze security --offline=yes` on the unit (and its .d/ drop-ins beside it): score and verdict;
    fails if --threshold=20 (exposure 2.0) is exceeded."""
    result = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", "--no-pager", str(unit)],
                 check=False)
    match = re.search(r"Overall exposure level for clemap-edge\.service: (\d+\.\d) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert result.returncode == 0, f"--threshold=20 (exposure 2.0) was exceeded: {match.group(0)}"
    return float(match.group(1)), match.group(2)


def exposures(unit: Path) -> dict[str, str]:
    """Every check the analysis does not pass: json_field -> description."""
    result = run(["systemd-analyze", "security", "--offline=yes", "--json=short", "--no-pager", str(unit)])
    return {entry["json_field"]: entry["description"] for entry in json.loads(result.stdout)
            if entry.get("exposure") not in (None, "0.0")}


def test_security_exposure_is_at_most_2_0_ok():
    # 1.0 with no network at all; 1.8 with the loopback API (host network, Internet sockets, localhost allow list).
    score, verdict = exposure(UNIT)
    print(f"systemd-analyze security --offline=yes: exposure {score} {verdict}")
    assert score <= 2.0 and verdict == "OK", (score, verdict)


def test_the_network_drop_in_verifies_clean_and_lifts_only_the_loopback_limit(tmp_path, binary):
    """systemd/network.conf, installed as clemap-edge.service.d/network.conf for the exporter ([CLOUD]) or an
    API bound beyond loopback ([HTTP] bind = 0.0.0.0 with a token): netlink for name resolution, and the
    unit's IPAddressDeny=any emptied. Nothing else changes."""
    drop_in = UNIT.parent / "network.conf"
    assert directives(drop_in) == [
        ("Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK"),
        ("Service", "IPAddressDeny", ""),
    ]
    unit = runnable_copy(UNIT, binary, tmp_path)
    (tmp_path / f"{UNIT.name}.d").mkdir()
    (tmp_path / f"{UNIT.name}.d" / "network.conf").write_text(drop_in.read_text())
    verify(unit)
    score, verdict = exposure(unit)
    print(f"with the network drop-in: exposure {score} {verdict}")
    assert score <= 2.0 and verdict == "OK", (score, verdict)
    # The unit's findings plus netlink sockets, and the allow list no longer in force (nothing is denied).
    widened = exposures(unit)
    assert set(widened) == set(ACCEPTED_EXPOSURES) | {"RestrictAddressFamilies_AF_NETLINK"}, json.dumps(widened, indent=1)
    assert widened["IPAddressDeny"] == "Service does not define an IP address allow list"
    # The drop-in is read: a bad value in it is reported.
    (tmp_path / f"{UNIT.name}.d" / "network.conf").write_text(drop_in.read_text().replace("IPAddressDeny=\n", "IPAddressDeny=nowhere\n"))
    with pytest.raises(AssertionError, match="network.conf.*nowhere"):
        verify(unit)


# Every exposure the analysis still reports, and why it stays. Anything new fails the test.
ACCEPTED_EXPOSURES = {
    # adjtimex(3) = clock_adjtime(2) reads the clock's synchronisation state (ServiceClock); @clock, @privileged.
    "SystemCallFilter_clock": "is allowed",
    "SystemCallFilter_privileged": "is allowed",
    # ProtectClock=yes would block that read with EPERM (systemd #26413); no CAP_SYS_TIME anyway.
    "ProtectClock": "",
    # The device nodes are the point of the service: spidev and the GPIO chips, nothing else.
    "PrivateDevices": "",
    "DeviceAllow": "char-gpiochip:rw char-spi:rw",
    "SupplementaryGroups": "",
    # PrivateUsers=yes would map the groups spi and gpio to nobody: no access to the device nodes.
    "PrivateUsers": "",
    # The notify socket.
    "RestrictAddressFamilies_AF_UNIX": "",
    # The HTTP API on 127.0.0.1:4000: a private network namespace would hide it from the host.
    "PrivateNetwork": "",
    # The API's listening socket (AF_INET, AF_INET6 for `bind = ::1`); only loopback packets pass (below).
    "RestrictAddressFamilies_AF_INET_INET6": "",
    # IPAddressAllow=localhost over IPAddressDeny=any: 127.0.0.0/8 and ::1, nothing else, in or out.
    "IPAddressDeny": "only localhost entries",
    "RootDirectoryOrRootImage": "",
    # 0027: operators in group clemap-edge may read the database.
    "UMask": "",
}


def test_only_the_accepted_exposures_remain():
    exposed = exposures(UNIT)
    assert set(exposed) == set(ACCEPTED_EXPOSURES), json.dumps(exposed, indent=1)
    for field, expected in ACCEPTED_EXPOSURES.items():
        assert expected in exposed[field], f"{field}: {exposed[field]}"


def test_the_service_contract():
    unit = UNIT
    assert one(unit, "Type") == "notify"
    assert one(unit, "NotifyAccess") == "main"
    assert one(unit, "WatchdogSec") == "30s"
    assert one(unit, "Restart") == "on-failure"
    assert one(unit, "RestartSec") == "5s"
    # SIGTERM drains within 20 s; systemd waits longer before SIGKILL.
    assert one(unit, "TimeoutStopSec") == "30s"
    assert one(unit, "StartLimitIntervalSec") == "0"
    assert one(unit, "ExecStart").endswith(" run --config /etc/clemap-edge/config.ini")
    assert one(unit, "User") == "clemap-edge"
    assert set(one(unit, "SupplementaryGroups").split()) == {"spi", "gpio"}
    assert one(unit, "StateDirectory") == "clemap-edge"
    assert DB_PATH.startswith("/var/lib/clemap-edge/")
    assert one(unit, "ConfigurationDirectory") == "clemap-edge"
    assert one(unit, "UMask") == "0027"
    assert "modprobe@spidev.service" in values(unit, "Wants") and "modprobe@spidev.service" in values(unit, "After")
    assert one(unit, "WantedBy") == "multi-user.target"


def test_devices_are_closed_but_spidev_and_gpiochip():
    assert one(UNIT, "DevicePolicy") == "closed"
    assert one(UNIT, "PrivateDevices") == "no"
    assert sorted(values(UNIT, "DeviceAllow")) == ["char-gpiochip rw", "char-spi rw"]


def test_sandboxing():
    expected = {
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateMounts": "yes",
        "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "IPAddressDeny": "any", "PrivateNetwork": "no",
        "RestrictNamespaces": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
        "RestrictRealtime": "yes", "RestrictSUIDSGID": "yes", "RemoveIPC": "yes",
        "SystemCallArchitectures": "native", "SystemCallErrorNumber": "EPERM",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes", "ProtectHostname": "yes", "ProtectProc": "invisible",
        "ProcSubset": "pid",
    }
    assert {key: one(UNIT, key) for key in expected} == expected


def test_ip_traffic_is_loopback_only():
    """The host's network, but packets only to and from 127.0.0.0/8 and ::1 ("localhost" in systemd.resource-control):
    exactly one allow entry, and no AF_NETLINK (glibc's getaddrinfo falls back when its netlink socket is refused;
    the live test shows the API binding without it)."""
    assert values(UNIT, "IPAddressAllow") == ["localhost"]
    assert values(UNIT, "IPAddressDeny") == ["any"]
    assert one(UNIT, "RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]


def test_the_clock_sync_read_survives_the_sandbox():
    """adjtimex(3) must keep working: glibc implements it with clock_adjtime(2). The filter's lines add and
    remove in order, so the last one puts both calls back after `~@privileged` (which contains @clock);
    the analysis sees them allowed. ProtectClock=yes would block them in a filter of its own."""
    assert values(UNIT, "SystemCallFilter") == ["@system-service", "~@privileged @resources", "adjtimex clock_adjtime"]
    assert one(UNIT, "ProtectClock") == "no"
    result = run(["systemd-analyze", "security", "--offline=yes", "--json=short", "--no-pager", str(UNIT)])
    clock = next(e for e in json.loads(result.stdout) if e["json_field"] == "SystemCallFilter_clock")
    assert re.search(r"\(e\.g\. (adjtimex|clock_adjtime) is allowed\)", clock["description"]), clock


def test_no_trailing_comments():
    # `Key=value  # note` would make "# note" part of the value (platform.md §4.2).
    for section, key, value in directives(UNIT):
        assert "#" not in value, f"[{section}] {key}={value}"
