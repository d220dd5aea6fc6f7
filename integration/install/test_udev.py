# SPDX-License-Identifier: Apache-2.0
"""udev/60-clemap-edge.rules, applied by `udevadm test` to spidev and gpiochip devices faked with umockdev
(platform.md §5): group spi / gpio and mode 0660, from our file, at the place `make install` puts it.

`udevadm test` reads the real rules directories and writes /run/udev and /dev/char, so each run happens in
a private mount namespace (root needed): a tmpfs over /run and /dev, the staged /usr/local/lib bound over
the real one, a scratch /etc/udev/rules.d, and an /etc/group that has spi and gpio.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from install_helpers import RULES, need_tool, run

SPI_GID, GPIO_GID = 60153, 60254  # unused numbers, so a match cannot come from a real group by chance

# Pi OS's raspberrypi-sys-mods 99-com.rules has the same two assignments (platform.md §5).
PI_OS_99_COM = 'SUBSYSTEM=="spidev", GROUP="spi", MODE="0660"\nSUBSYSTEM=="gpio", GROUP="gpio", MODE="0660"\n'

DEVICES = {
    # name: (sysfs path, subsystem, major:minor or None for a device without a node)
    "spidev0.0": ("/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.0/spidev/spidev0.0", "spidev", "153:0"),
    "spidev0.1": ("/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1/spidev/spidev0.1", "spidev", "153:1"),
    "gpiochip0": ("/devices/platform/soc/fe200000.gpio/gpiochip0", "gpio", "254:0"),
    # Pi 5 before kernel 6.6.45: the header is gpiochip4 on the RP1.
    "gpiochip4": ("/devices/platform/axi/1000120000.pcie/1f000d0000.gpio/gpiochip4", "gpio", "254:4"),
    # The legacy sysfs GPIO class (no /dev node): not ours to touch.
    "gpio529": ("/devices/platform/soc/fe200000.gpio/gpiochip0/gpio/gpio529", "gpio", None),
}


def umockdev_description(name: str) -> str:
    """umockdev-record's text format: P: path, N: node, E: property, A: attribute; one a line."""
    path, subsystem, devnum = DEVICES[name]
    lines = [f"P: {path}"]
    if devnum:
        major, minor = devnum.split(":")
        lines += [f"N: {name}", f"E: DEVNAME=/dev/{name}", f"E: MAJOR={major}", f"E: MINOR={minor}"]
    lines += [f"E: SUBSYSTEM={subsystem}"]
    if devnum:
        lines += [f"A: dev={devnum}\\n"]
    return "\n".join(lines) + "\n\n"


@pytest.fixture(scope="module")
def sandbox_ready():
    need_tool("udevadm", "udev")
    need_tool("umockdev-run", "umockdev")
    need_tool("unshare", "util-linux")
    if os.geteuid() != 0:
        pytest.skip("needs root: udevadm test runs in a private mount namespace")


def udevadm_test(tmp_path: Path, staged: Path, name: str, *, pi_os_rules: bool = False) -> str:
    """The output of `udevadm test --action=add` for a faked device, with our rules installed as staged."""
    description = tmp_path / f"{name}.umockdev"
    description.write_text(umockdev_description(name))
    group = tmp_path / "group"
    group.write_text(Path("/etc/group").read_text() + f"spi:x:{SPI_GID}:\ngpio:x:{GPIO_GID}:\n")
    etc_rules = tmp_path / "etc-rules.d"
    etc_rules.mkdir(exist_ok=True)
    if pi_os_rules:
        (etc_rules / "99-com.rules").write_text(PI_OS_99_COM)
    q = shlex.quote
    script = f"""set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /dev
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9
mkdir /dev/pts; mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts; ln -s pts/ptmx /dev/ptmx
mount --bind {q(str(staged / 'usr/local/lib'))} /usr/local/lib
mount --bind {q(str(etc_rules))} /etc/udev/rules.d
mount --bind {q(str(group))} /etc/group
exec umockdev-run -d {q(str(description))} -- udevadm test --action=add {q('/sys' + DEVICES[name][0])}
"""
    result = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def our_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "60-clemap-edge.rules" in line]


@pytest.mark.parametrize("name, line, gid", [
    ("spidev0.0", 5, SPI_GID), ("spidev0.1", 5, SPI_GID), ("gpiochip0", 6, GPIO_GID), ("gpiochip4", 6, GPIO_GID)])
def test_our_rule_gives_the_group_and_mode_0660(sandbox_ready, tmp_path, staged, name, line, gid):
    output = udevadm_test(tmp_path, staged, name)
    where = f"/usr/local/lib/udev/rules.d/60-clemap-edge.rules:{line}"
    assert f"Reading rules file: /usr/local/lib/udev/rules.d/60-clemap-edge.rules" in output
    assert f"{name}: {where} GROUP {gid}" in output, output
    assert f"{name}: {where} MODE 0660" in output, output
    # Broken rules only warn and udevadm still exits 0 (platform.md §5).
    assert not [l for l in our_lines(output) if re.search(r"Invalid|Unknown|error|ignor", l, re.I)], output


def test_the_rule_lines_are_the_ones_the_test_expects():
    rules = [l for l in RULES.read_text().splitlines() if l and not l.startswith("#")]
    assert RULES.read_text().splitlines()[4:6] == rules == [
        'SUBSYSTEM=="spidev", GROUP="spi", MODE="0660"',
        'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"']


def test_sysfs_gpio_lines_are_left_alone(sandbox_ready, tmp_path, staged):
    output = udevadm_test(tmp_path, staged, "gpio529")
    assert "gpio529" in output
    assert not [l for l in our_lines(output) if "GROUP" in l or "MODE" in l], output


@pytest.mark.parametrize("name, gid", [("spidev0.0", SPI_GID), ("gpiochip0", GPIO_GID)])
def test_with_pi_os_rules_the_result_is_the_same(sandbox_ready, tmp_path, staged, name, gid):
    """Pi OS's 99-com.rules runs after ours and assigns the same: a harmless duplicate."""
    output = udevadm_test(tmp_path, staged, name, pi_os_rules=True)
    groups = re.findall(rf"^{re.escape(name)}: (\S+):\d+ GROUP (\d+)$", output, re.M)
    modes = re.findall(rf"^{re.escape(name)}: (\S+):\d+ MODE (\d+)$", output, re.M)
    assert [Path(f).name for f, _ in groups] == ["60-clemap-edge.rules", "99-com.rules"], output
    assert {g for _, g in groups} == {str(gid)} and {m for _, m in modes} == {"0660"}, output
