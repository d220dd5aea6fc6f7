# SPDX-License-Identifier: Apache-2.0
"""GET /metrics: Prometheus' own linter accepts it (`promtool check metrics`, Debian's prometheus package), the
contract's names are there with their labels, counters never go down, and the gauges say what /api/v1/live says.

The scenario (written here) has three different, steady phases, so a phase label on the wrong value shows, and
every phase draws positive reactive power, so the signed varh counters only grow.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from httpservice import HTTPService, Response, start_http

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCENARIO = {
    "frequency_hz": 50,
    "phases": [
        {"voltage_v": 230, "current_a": 5, "angle_deg": 10},
        {"voltage_v": 236, "current_a": 12, "angle_deg": 170},  # exporting, Q > 0
        {"voltage_v": 226, "current_a": 2, "angle_deg": 60},
    ],
    "temperature_c": 41,
}
PHASE_GAUGES = {"clemap_voltage_volts": "v", "clemap_current_amperes": "i", "clemap_active_power_watts": "p", "clemap_reactive_power_vars": "q",
                "clemap_apparent_power_voltamperes": "s", "clemap_power_factor": "pf"}
PHASE_COUNTERS = {"clemap_energy_imported_watthours_total": "wh_imp", "clemap_energy_exported_watthours_total": "wh_exp", "clemap_reactive_energy_varhours_total": "varh",
                  "clemap_apparent_energy_voltamperehours_total": "vah"}
COUNTERS = ("clemap_snapshots_total", "clemap_spi_crc_errors_total", "clemap_rows_written_total",
            "clemap_storage_faults_total")
GAUGES = ("clemap_frequency_hertz", "clemap_temperature_celsius", "clemap_export_backlog_uploads",
          "clemap_export_backlog_oldest_seconds", "clemap_forecast_skill_mae", "clemap_build_info", "clemap_up_seconds")

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass
class Scrape:
    types: dict[str, str] = field(default_factory=dict)  # name -> counter | gauge | ...
    samples: dict[tuple[str, frozenset], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        assert key in self.samples, f"no sample {name}{labels or ''} in /metrics"
        return self.samples[key]

    def series(self, name: str) -> dict[frozenset, float]:
        return {labels: v for (n, labels), v in self.samples.items() if n == name}


def parse(text: str) -> Scrape:
    """The text format 0.0.4, as far as these tests need it (promtool has checked the syntax)."""
    scrape = Scrape()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            scrape.types[name] = kind
        elif line and not line.startswith("#"):
            m = _SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            labels = frozenset(_LABEL.findall(m.group(2) or ""))
            scrape.samples[(m.group(1), labels)] = float(m.group(3))
    return scrape


def scrape(api: HTTPService) -> tuple[Response, Scrape]:
    r = api.get("/metrics")
    assert r.status == 200, r.describe()
    return r, parse(r.body.decode("utf-8"))


@pytest.fixture
def api(start_service, workdir: Path, config_ini: Path) -> HTTPService:
    scenario = workdir / "three-phases.json"
    scenario.write_text(json.dumps(SCENARIO))
    service = start_http(start_service, workdir, config_ini, scenario_name=str(scenario))
    service.service.wait_for_rows(5, timeout=60)
    return service


def test_promtool_accepts_metrics(api: HTTPService):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: apt-get install prometheus (make test-process installs it)", pytrace=False)
    r, _ = scrape(api)
    assert r.content_type.replace(" ", "").lower() == CONTENT_TYPE.replace(" ", ""), r.content_type
    done = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True, timeout=60)
    problems = (done.stdout + done.stderr).decode().strip()
    # Every lint finding counts (missing HELP, a counter without _total, a bad unit suffix): the issue asks that
    # promtool accept the page, and its exit code is not 0 for any of them.
    assert done.returncode == 0 and not problems, f"promtool check metrics: exit {done.returncode}\n{problems}"


def test_contract_names_and_labels(api: HTTPService):
    _, m = scrape(api)
    problems = []
    for name in [*PHASE_GAUGES, *GAUGES]:
        if m.types.get(name) != "gauge":
            problems.append(f"{name}: TYPE {m.types.get(name)}, not gauge")
    for name in [*PHASE_COUNTERS, *COUNTERS]:
        # The text format names a counter's family without _total in newer clients; 0.0.4 keeps the full name.
        if m.types.get(name) != "counter" and m.types.get(name.removesuffix("_total")) != "counter":
            problems.append(f"{name}: TYPE {m.types.get(name) or m.types.get(name.removesuffix('_total'))}, not counter")
    for name in [*PHASE_GAUGES, *PHASE_COUNTERS]:
        phases = sorted(dict(labels).get("phase", "?") for labels in m.series(name))
        if phases != ["l1", "l2", "l3"]:
            problems.append(f"{name}: phase labels {phases}, not l1 l2 l3")
    for name in ("clemap_frequency_hertz", "clemap_temperature_celsius", *COUNTERS, "clemap_export_backlog_uploads",
                 "clemap_up_seconds"):
        if list(m.series(name)) != [frozenset()]:
            problems.append(f"{name}: series {list(m.series(name))}, not one without labels")
    status = api.json("/api/v1/status")
    info = m.series("clemap_build_info")
    if info != {frozenset({("version", status["version"])}): 1.0}:
        problems.append(f"clemap_build_info {info}, not {{version={status['version']!r}}} 1")
    for labels in m.series("clemap_forecast_skill_mae"):
        # `target` too: value and mean forecasts share horizons, and would otherwise be one series.
        if {k for k, _ in labels} != {"model", "horizon_min", "target"}:
            problems.append(f"clemap_forecast_skill_mae labels {sorted(labels)}, not model, horizon_min and target")
    assert not problems, "\n".join(problems)


def test_counters_never_decrease(api: HTTPService):
    _, first = scrape(api)
    rows = len(api.service.stored_rows())
    api.service.wait_for_rows(rows + 5, timeout=60)
    _, second = scrape(api)
    counters = [n for n, kind in first.types.items() if kind == "counter"]
    assert counters, "no counter in /metrics"
    problems = []
    for (name, labels), before in first.samples.items():
        family = name.removesuffix("_total")
        if first.types.get(name) == "counter" or first.types.get(family) == "counter":
            after = second.samples.get((name, labels))
            if after is None or after < before:
                problems.append(f"{name}{dict(labels)}: {before} then {after}")
    assert not problems, "counters went down or vanished:\n" + "\n".join(problems)
    for name in ("clemap_snapshots_total", "clemap_rows_written_total"):
        assert second.value(name) > first.value(name), f"{name} did not grow while the service sampled and stored"
    for phase in ("l1", "l3"):
        assert second.value("clemap_energy_imported_watthours_total", phase=phase) > first.value("clemap_energy_imported_watthours_total", phase=phase)
    assert second.value("clemap_energy_exported_watthours_total", phase="l2") > first.value("clemap_energy_exported_watthours_total", phase="l2")


def test_gauges_match_live_and_counters_match_the_api(api: HTTPService):
    # Bracketed: live, status and energy before and after the scrape; the steady scenario keeps the noise small.
    live1, status1, energy1 = api.json("/api/v1/live"), api.json("/api/v1/status"), api.json("/api/v1/energy")
    _, m = scrape(api)
    live2, status2, energy2 = api.json("/api/v1/live"), api.json("/api/v1/status"), api.json("/api/v1/energy")

    def near(got: float, *refs: float | None, rel: float = 0.01, absolute: float = 0.02) -> bool:
        known = [r for r in refs if r is not None]
        return bool(known) and min(known) - rel * max(map(abs, known)) - absolute <= got <= (
            max(known) + rel * max(map(abs, known)) + absolute)

    problems = []
    for name, quantity in PHASE_GAUGES.items():
        for phase in ("l1", "l2", "l3"):
            key = f"{phase}_{quantity}"
            got = m.value(name, phase=phase)
            if not near(got, live1[key], live2[key]):
                problems.append(f"{name}{{phase={phase}}} {got}, /api/v1/live {key} {live1[key]} .. {live2[key]}")
    if not near(m.value("clemap_frequency_hertz"), live1["freq"], live2["freq"]):
        problems.append(f"clemap_frequency_hertz {m.value('clemap_frequency_hertz')}, /api/v1/live freq {live1['freq']} .. {live2['freq']}")
    # The chip's temperature is read every few snapshots: the last one read, as /api/v1/status shows it.
    temperature = [t for t in (live1.get("temp_c"), live2.get("temp_c"), status1["chip"]["temp_c"], status2["chip"]["temp_c"])
                   if t is not None]
    if not near(m.value("clemap_temperature_celsius"), *temperature) or not near(m.value("clemap_temperature_celsius"), 41, rel=0.02):
        problems.append(f"clemap_temperature_celsius {m.value('clemap_temperature_celsius')}, live/status temp_c {temperature}, scenario 41")
    for name, path in (("clemap_snapshots_total", ("chip", "snapshots")), ("clemap_rows_written_total", ("storage", "rows_written")),
                       ("clemap_spi_crc_errors_total", ("chip", "crc_errors")), ("clemap_storage_faults_total", ("storage", "faults"))):
        a, b = status1[path[0]][path[1]], status2[path[0]][path[1]]
        if not a <= m.value(name) <= b:
            problems.append(f"{name} {m.value(name)}, /api/v1/status {'.'.join(path)} {a} .. {b}")
    # Lifetime energy: at least the stored totals, at most those plus the minute being integrated.
    for name, quantity in PHASE_COUNTERS.items():
        for phase in ("l1", "l2", "l3"):
            key = f"{phase}_{quantity}"
            low, high = energy1["lifetime"][key], energy2["lifetime"][key]
            minute = abs(live2[f"{phase}_s"]) * 60 / 3600 * 1.05 + 0.01
            if not low - 1e-6 <= m.value(name, phase=phase) <= high + minute:
                problems.append(f"{name}{{phase={phase}}} {m.value(name, phase=phase)}, lifetime {key} {low} .. {high} (+{minute:.3f})")
    if not status1["uptime_s"] - 1 <= m.value("clemap_up_seconds") <= status2["uptime_s"] + 1:
        problems.append(f"clemap_up_seconds {m.value('clemap_up_seconds')}, status uptime_s {status1['uptime_s']} .. {status2['uptime_s']}")
    if m.value("clemap_export_backlog_uploads") != 0:
        problems.append("clemap_export_backlog_uploads is not 0 with [CLOUD] off")
    assert not problems, "\n".join(problems)
    assert math.isclose(m.value("clemap_active_power_watts", phase="l2"), live2["l2_p"], rel_tol=0.02) and live2["l2_p"] < -2000
