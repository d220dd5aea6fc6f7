# SPDX-License-Identifier: Apache-2.0
"""SIGHUP (`systemctl reload clemap-edge`): the running service re-reads config.ini and writes the new
calibration into the chip between two snapshots, losing none. Scenario balanced-resistive (10 A on L1)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from conftest import REPO_ROOT, ServiceProcess, column, integrity, meter_rows

GAIN_BEFORE = 2069224
GAIN_AFTER = 3411401  # (1 + after/2^27) / (1 + before/2^27) = 1.009849: L1 current reads 0.985 % higher


def test_sighup_applies_a_new_calibration_without_losing_a_sample(clemap_bin: Path, scenario, workdir: Path):
    config = workdir / "config.ini"
    shutil.copy(REPO_ROOT / "calibration" / "config.ini", config)
    db = workdir / "meter.db"
    service = ServiceProcess(
        [str(clemap_bin), "run", "--config", str(config), "--db", str(db), "--simulate",
         "--scenario", str(scenario("balanced-resistive")), "--sim-speed", "60", "--log-level", "debug"],
        workdir / "hup.stdout", workdir / "hup.stderr", cwd=REPO_ROOT)
    try:
        service.wait_for_rows(3, timeout=30)
        text = config.read_text()
        assert f"calib_aigain = {GAIN_BEFORE}\n" in text
        config.write_text(text.replace(f"calib_aigain = {GAIN_BEFORE}\n", f"calib_aigain = {GAIN_AFTER}\n"))
        service.send(signal.SIGHUP)
        service.wait_for(r"calibration reloaded from config\.ini", timeout=15, what="the reload log line")
        reloaded_rows = len(service.stored_rows())
        service.wait_for_rows(reloaded_rows + 3, timeout=30)
        service.terminate()
        assert service.wait(timeout=30) == 0, service.describe()
    finally:
        service.cleanup()

    assert integrity(db) == ["ok"]
    rows = [meter_rows(db)[t] for t in sorted(meter_rows(db))]
    whole = [r for r in rows if column(r, "flags") & 1 == 0]
    assert len(whole) >= 4, service.describe()
    # No sample lost: every whole minute has all its snapshots (at 60x a tick is 17 ms, no skipping).
    assert all(column(r, "samples") >= 59 for r in whole), [column(r, "samples") for r in whole]
    # Before the reload L1 reads 10 A; the last whole minutes read 1.009849 times that; L2 never changes.
    assert abs(column(whole[0], "l1_i") - 10) < 0.001
    ratio = (1 + GAIN_AFTER / 2**27) / (1 + GAIN_BEFORE / 2**27)
    assert abs(column(whole[-1], "l1_i") - 10 * ratio) < 0.001, column(whole[-1], "l1_i")
    assert all(abs(column(r, "l2_i") - 10) < 0.001 for r in whole)
    # The reload was logged once, and the file was not touched by the service.
    assert service.stderr_text.count("calibration reloaded") == 1
    assert f"calib_aigain = {GAIN_AFTER}\n" in config.read_text()
