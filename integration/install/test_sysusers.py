# SPDX-License-Identifier: Apache-2.0
"""systemd/clemap-edge.sysusers, applied with `systemd-sysusers --root=<scratch>` (platform.md §4.2):
on plain Debian it creates the groups; on Raspberry Pi OS, where spi and gpio exist, it keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from install_helpers import SYSUSERS, need_tool, run


@pytest.fixture(scope="module", autouse=True)
def _tools():
    need_tool("systemd-sysusers", "systemd")


def table(path: Path) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in path.read_text().splitlines() if line}


def sysusers(root: Path, *files: str) -> None:
    # The file must be given by absolute path: a relative one is looked up under --root.
    run(["systemd-sysusers", f"--root={root}", *files])


def test_a_fresh_system_gets_the_user_and_both_groups(tmp_path):
    (tmp_path / "etc").mkdir()
    sysusers(tmp_path, str(SYSUSERS))
    users, groups = table(tmp_path / "etc/passwd"), table(tmp_path / "etc/group")
    name, _, uid, gid, gecos, home, shell = users["clemap-edge"]
    assert int(uid) < 1000 and groups["clemap-edge"][2] == gid
    assert (home, shell) == ("/var/lib/clemap-edge", "/usr/sbin/nologin")
    for group in ("spi", "gpio"):
        assert int(groups[group][2]) < 1000
        assert groups[group][3].split(",") == ["clemap-edge"]


def test_on_raspberry_pi_os_the_existing_groups_are_kept(tmp_path):
    """pi-gen creates spi and gpio (groupadd -r) and puts the first user in them."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\npi:x:1000:\nspi:x:999:pi\ngpio:x:997:pi\n")
    # Installed under /usr/local/lib/sysusers.d: a plain `systemd-sysusers` finds it there.
    conf = tmp_path / "usr/local/lib/sysusers.d/clemap-edge.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(SYSUSERS.read_bytes())
    sysusers(tmp_path)
    groups = table(etc / "group")
    assert groups["spi"][2] == "999" and set(groups["spi"][3].split(",")) == {"pi", "clemap-edge"}
    assert groups["gpio"][2] == "997" and set(groups["gpio"][3].split(",")) == {"pi", "clemap-edge"}
    assert "clemap-edge" in table(etc / "passwd")
    # Applying it again changes nothing.
    before = (etc / "passwd").read_text(), (etc / "group").read_text()
    sysusers(tmp_path)
    assert ((etc / "passwd").read_text(), (etc / "group").read_text()) == before
