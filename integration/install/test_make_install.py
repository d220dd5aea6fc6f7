# SPDX-License-Identifier: Apache-2.0
"""`make install` / `make uninstall` (mk/install.mk) into a temporary DESTDIR: the documented tree with its
modes, an edited config.ini survives a second install, uninstall leaves configuration and data alone.
Run both on its own (`make -f mk/install.mk`) and included by the main Makefile."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

from install_helpers import (DB_PATH, DEFAULT_CONFIG, INSTALL_MK, REPO, RULES, SYSUSERS, UNIT, make_install,
                             mode, run)

# PREFIX=/usr/local (the default): file -> mode.
TREE = {
    "usr/local/bin/clemap-edge": 0o755,
    "usr/local/lib/systemd/system/clemap-edge.service": 0o644,
    "usr/local/lib/sysusers.d/clemap-edge.conf": 0o644,
    "usr/local/lib/udev/rules.d/60-clemap-edge.rules": 0o644,
    "etc/clemap-edge/config.ini": 0o644,
}


def files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): mode(p) for p in sorted(root.rglob("*")) if not p.is_dir()}


def expected_config() -> str:
    text = DEFAULT_CONFIG.read_text()
    new, count = re.subn(r"(?m)^db_path\s*=.*$", f"db_path = {DB_PATH}", text)
    assert count == 1
    return new


def exec_start(unit: Path) -> str:
    return next(l for l in unit.read_text().splitlines() if l.startswith("ExecStart=")).removeprefix("ExecStart=")


def test_install_puts_the_documented_files_with_their_modes(staged, binary):
    assert files(staged) == TREE
    for directory in ("usr/local/bin", "usr/local/lib/systemd/system", "usr/local/lib/sysusers.d",
                      "usr/local/lib/udev/rules.d", "etc/clemap-edge"):
        assert mode(staged / directory) == 0o755, directory
    assert filecmp.cmp(staged / "usr/local/bin/clemap-edge", binary, shallow=False)
    assert filecmp.cmp(staged / "usr/local/lib/sysusers.d/clemap-edge.conf", SYSUSERS, shallow=False)
    assert filecmp.cmp(staged / "usr/local/lib/udev/rules.d/60-clemap-edge.rules", RULES, shallow=False)
    unit = staged / "usr/local/lib/systemd/system/clemap-edge.service"
    assert unit.read_text() == UNIT.read_text()  # PREFIX=/usr/local: the repository's ExecStart already fits
    assert exec_start(unit) == "/usr/local/bin/clemap-edge run --config /etc/clemap-edge/config.ini"


def test_the_installed_config_keeps_everything_but_puts_the_database_in_the_state_directory(staged, binary):
    installed = staged / "etc/clemap-edge/config.ini"
    assert installed.read_text() == expected_config()
    assert "db_path = DB/data_gathering.db" in DEFAULT_CONFIG.read_text(), "the repository copy is unchanged"
    result = run([str(binary), "config", "check", "--config", str(installed)])
    assert f"database: {DB_PATH}" in result.stdout + result.stderr


def test_install_and_uninstall_say_what_they_do(tmp_path, binary):
    out = make_install("install", destdir=tmp_path, binary=binary).stdout
    for path in TREE:
        assert f"{tmp_path}/{path}" in out, out
    for step in ("systemd-sysusers /usr/local/lib/sysusers.d/clemap-edge.conf", "udevadm control --reload",
                 "systemctl daemon-reload", "systemctl enable --now clemap-edge"):
        assert step in out, out
    out = make_install("uninstall", destdir=tmp_path).stdout
    for path in TREE:
        if not path.startswith("etc/"):
            assert f"removed {tmp_path}/{path}" in out, out
    assert "kept" in out and DB_PATH.rsplit("/", 1)[0] in out


def test_a_second_install_keeps_an_edited_config_and_offers_the_new_default(tmp_path, binary):
    make_install("install", destdir=tmp_path, binary=binary)
    config = tmp_path / "etc/clemap-edge/config.ini"
    edited = config.read_text().replace("hw_serial = SIMULATED", "hw_serial = SE05000551")
    config.write_text(edited)

    out = make_install("install", destdir=tmp_path, binary=binary).stdout
    assert config.read_text() == edited
    new = tmp_path / "etc/clemap-edge/config.ini.new"
    assert new.read_text() == expected_config() and mode(new) == 0o644
    assert "not overwritten" in out and "config.ini.new" in out

    # Back to the default: nothing to offer any more, and the stale .new goes.
    config.write_text(expected_config())
    out = make_install("install", destdir=tmp_path, binary=binary).stdout
    assert "same as the default" in out and not new.exists()
    assert files(tmp_path) == TREE


def test_uninstall_removes_what_install_added_but_never_config_or_data(tmp_path, binary):
    make_install("install", destdir=tmp_path, binary=binary)
    config = tmp_path / "etc/clemap-edge/config.ini"
    config.write_text(config.read_text() + "\n# site notes\n")
    make_install("install", destdir=tmp_path, binary=binary)  # leaves config.ini.new beside it
    state = tmp_path / DB_PATH.lstrip("/")
    state.parent.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").write_bytes(b"SQLite format 3\0")
    edited_config = config.read_text()

    make_install("uninstall", destdir=tmp_path)
    assert files(tmp_path) == {
        "etc/clemap-edge/config.ini": 0o644,
        "var/lib/clemap-edge/data_gathering.db": 0o644,
        "var/lib/clemap-edge/data_gathering.db-wal": 0o644,
        "var/lib/clemap-edge/data_gathering.db-shm": 0o644,
    }
    assert config.read_text() == edited_config
    # Uninstalling twice is harmless.
    make_install("uninstall", destdir=tmp_path)
    assert config.read_text() == edited_config and state.exists()


def test_an_edited_config_ini_new_is_kept_too(tmp_path, binary):
    make_install("install", destdir=tmp_path, binary=binary)
    (tmp_path / "etc/clemap-edge/config.ini").write_text("[INFO]\n")
    make_install("install", destdir=tmp_path, binary=binary)
    new = tmp_path / "etc/clemap-edge/config.ini.new"
    new.write_text(new.read_text() + "# merging\n")
    make_install("uninstall", destdir=tmp_path)
    assert new.exists()


@pytest.mark.parametrize("prefix, bindir, libdirs", [
    ("/usr", "/usr/bin", ("usr/lib/systemd/system", "usr/lib/sysusers.d", "usr/lib/udev/rules.d")),
    # systemd does not search other prefixes: the unit and friends go to /etc.
    ("/opt/clemap", "/opt/clemap/bin", ("etc/systemd/system", "etc/sysusers.d", "etc/udev/rules.d")),
])
def test_prefix_decides_where_the_files_go(tmp_path, binary, prefix, bindir, libdirs):
    make_install("install", destdir=tmp_path, binary=binary, PREFIX=prefix)
    unit_dir, sysusers_dir, rules_dir = libdirs
    assert files(tmp_path) == {
        f"{bindir.lstrip('/')}/clemap-edge": 0o755,
        f"{unit_dir}/clemap-edge.service": 0o644,
        f"{sysusers_dir}/clemap-edge.conf": 0o644,
        f"{rules_dir}/60-clemap-edge.rules": 0o644,
        "etc/clemap-edge/config.ini": 0o644,
    }
    assert exec_start(tmp_path / unit_dir / "clemap-edge.service") == \
        f"{bindir}/clemap-edge run --config /etc/clemap-edge/config.ini"
    make_install("uninstall", destdir=tmp_path, PREFIX=prefix)
    assert set(files(tmp_path)) == {"etc/clemap-edge/config.ini"}


def test_each_directory_can_be_set(tmp_path, binary):
    make_install("install", destdir=tmp_path, binary=binary, BINDIR="/usr/sbin",
                 SYSTEMDUNITDIR="/etc/systemd/system", UDEVRULESDIR="/etc/udev/rules.d")
    assert set(files(tmp_path)) == {"usr/sbin/clemap-edge", "etc/systemd/system/clemap-edge.service",
                                    "usr/local/lib/sysusers.d/clemap-edge.conf",
                                    "etc/udev/rules.d/60-clemap-edge.rules", "etc/clemap-edge/config.ini"}
    assert exec_start(tmp_path / "etc/systemd/system/clemap-edge.service").startswith("/usr/sbin/clemap-edge run ")


def test_existing_directories_keep_their_modes(tmp_path, binary):
    """Debian's /usr/local/bin is 2775 root:staff; install creates missing directories only."""
    bindir = tmp_path / "usr/local/bin"
    bindir.mkdir(parents=True)
    bindir.chmod(0o2775)
    make_install("install", destdir=tmp_path, binary=binary)
    assert mode(bindir) == 0o2775


def test_a_missing_binary_is_a_clear_error(tmp_path):
    with pytest.raises(AssertionError, match="is not an executable file.*BIN="):
        make_install("install", destdir=tmp_path, binary=tmp_path / "nothing")
    assert not any(tmp_path.iterdir())


def test_install_system_refuses_a_staged_install(tmp_path, binary):
    with pytest.raises(AssertionError, match="DESTDIR is set"):
        make_install("install-system", destdir=tmp_path, binary=binary)
    assert not any(tmp_path.iterdir()), "nothing is installed before the checks pass"


def test_without_bin_install_builds_the_release_binary_first(tmp_path):
    # Dry run (-n): what would run, without building.
    out = run(["make", "-n", "-C", str(REPO), "-f", str(INSTALL_MK), "install", f"DESTDIR={tmp_path}"]).stdout
    assert re.search(r"^swift build -c release", out, re.M), out
    assert not any(tmp_path.iterdir())


def test_used_on_its_own_make_prints_the_help():
    out = run(["make", "--no-print-directory", "-C", "/", "-f", str(INSTALL_MK)]).stdout
    assert "make install BIN=path" in out and "/usr/local/lib/systemd/system/clemap-edge.service" in out


# The main Makefile gets `include mk/install.mk`. Until it has it, a wrapper stands in for it.
def main_makefile(tmp_path: Path, *, include_first: bool = False) -> Path:
    if "include mk/install.mk" in (REPO / "Makefile").read_text() and not include_first:
        return REPO / "Makefile"
    wrapper = tmp_path / "Makefile.with-install"
    lines = ["include Makefile", "include mk/install.mk"]
    wrapper.write_text("\n".join(reversed(lines) if include_first else lines) + "\n")
    return wrapper


def test_included_by_the_main_makefile_install_works_the_same(tmp_path, binary, staged):
    destdir = tmp_path / "destdir"
    make_install("install", destdir=destdir, binary=binary, makefile=main_makefile(tmp_path))
    assert files(destdir) == files(staged) == TREE
    for path in TREE:
        assert filecmp.cmp(destdir / path, staged / path, shallow=False), path


@pytest.mark.parametrize("include_first", [False, True])
def test_included_the_main_makefile_keeps_its_default_goal_and_release_target(tmp_path, include_first):
    makefile = main_makefile(tmp_path, include_first=include_first)
    # No goal: the main Makefile's `all` (deps, then swift build), not install's help or install.
    out = run(["make", "-n", "-C", str(REPO), "-f", str(makefile)]).stdout
    assert re.search(r"^swift build$", out, re.M) and "install" not in out, out
    # `install` depends on the main Makefile's `release` (deps, then swift build -c release).
    out = run(["make", "-n", "-C", str(REPO), "-f", str(makefile), "install", f"DESTDIR={tmp_path}/d"]).stdout
    assert "ensure-deps.sh" in out and re.search(r"^swift build -c release$", out, re.M), out
