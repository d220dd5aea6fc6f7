# SPDX-License-Identifier: Apache-2.0
"""The HTTP API (issue 11, contract in openapi.yaml) against `clemap-edge run --simulate`, real HTTP on loopback.

Every route and every error path of the contract; answers are compared with the SQLite file (read-only, as
conftest does) and validated against the schemas of openapi.yaml. The service runs at 600x unless a test says
otherwise: a stored row every 0.1 s. Its clock starts at the current minute and runs 600x, so the service's "now"
is taken from its own answers, never from this process's clock.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import os
import re
import socket
import sqlite3
import subprocess
import time
import urllib.parse
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest
import yaml
import jsonschema_rs  # schemathesis' own validator, installed with it

from conftest import COLUMN_LIST, METER_COLUMNS, PHASE, REPO_ROOT, connect_ro, energy_totals, meter_rows
from httpservice import TOKEN, HTTPService, Response, free_port, request, start_http, wait_for_port, write_config

SPEC_PATH = REPO_ROOT / "Sources" / "MeterHTTP" / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SEVEN_DAYS = 604800
ENERGY_KEYS = [f"{p}_{q}" for q in ("wh_imp", "wh_exp", "varh", "vah") for p in PHASE]
ENERGY_TOTALS = ["total_wh_imp", "total_wh_exp", "total_varh", "total_vah"]
LIVE_OPTIONAL = {f"{p}_{q}" for p in PHASE for q in ("wh", "varh", "vah")} | {"temp_c"}


# MARK: - Helpers


def conforms(body: Any, schema_name: str) -> None:
    """Validates `body` against components/schemas/<schema_name> of openapi.yaml (JSON Schema 2020-12)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    errors = list(jsonschema_rs.Draft202012Validator(schema).iter_errors(body))
    assert not errors, f"not a {schema_name} of openapi.yaml:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message[:300]}" for e in errors[:10])


def assert_error(r: Response, status: int, *words: str, what: str = "") -> str:
    """An error answer: `status`, application/json, exactly {"error": str}, the text naming every one of `words`."""
    assert r.status == status, f"{what}: expected {status}, got {r.describe()}"
    assert r.content_type.split(";")[0].strip() == "application/json", f"{what}: error content type {r.content_type!r}"
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str), f"{what}: {body!r}"
    for word in words:
        assert word.lower() in body["error"].lower(), f"{what}: the error does not name {word!r}: {body['error']!r}"
    return body["error"]


def q(**params: Any) -> str:
    return "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def server_now(api: HTTPService) -> int:
    return api.json("/api/v1/status")["time"]


def committed_range(api: HTTPService, rows: int) -> tuple[int, int]:
    """(first, newest) row times once `rows` rows were reported committed: nothing new can land below newest + 1."""
    stored = api.service.wait_for_rows(rows, timeout=60)
    return stored[0].time, stored[-1].time


def db_rows(db: Path, start: int, end: int) -> list[tuple]:
    with closing(connect_ro(db)) as c:
        return list(c.execute(f"SELECT {COLUMN_LIST} FROM meter_data WHERE time >= ? AND time < ? ORDER BY time",
                              (start, end)))


def stable(read_db: Callable[[], Any], fetch: Callable[[], Any], attempts: int = 100) -> tuple[Any, Any]:
    """(database state, answer) with the database unchanged across the request: at 600x a row lands every 0.1 s,
    and one committed between the two reads would make the comparison ambiguous, so try again."""
    for _ in range(attempts):
        before = read_db()
        answer = fetch()
        if read_db() == before:
            return before, answer
    pytest.fail(f"the database changed during each of {attempts} requests")


def seed(clemap_bin: Path, config: Path, db: Path, rows: list[dict[str, Any]]) -> None:
    """Creates the schema through the CLI (as benchmarks/forecast/service-day.sh does) and inserts `rows` (NULL for
    every column not given): older data for the defaults, NULLs for the null/empty comparisons."""
    done = subprocess.run([str(clemap_bin), "forecast", "status", "--config", str(config), "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"forecast status (to create the schema) failed: {done.stderr[-2000:]}"
    with sqlite3.connect(db) as c:
        for row in rows:
            names = ", ".join(row)
            c.execute(f"INSERT INTO meter_data ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    c.close()


def seed_row(t: int, **values: Any) -> dict[str, Any]:
    return {"time": t, "l1_p": 100.5, "l2_p": None, "l3_p": -3.25, "duration_s": 60.0, "samples": 60, "flags": 0,
            **values}


def rfc3339(t: int, offset_minutes: int) -> str:
    """`t` written with a UTC offset: 2026-12-06T09:00:00+01:00 (Z for offset 0)."""
    text = datetime.fromtimestamp(t, timezone(timedelta(minutes=offset_minutes))).isoformat()
    return text.replace("+00:00", "Z")


def csv_rows(body: bytes) -> tuple[list[str], list[list[str]]]:
    lines = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    return lines[0], lines[1:]


def csv_value(text: str, db_value: Any) -> Any:
    """A CSV field as the database's value type: empty is NULL."""
    if text == "":
        return None
    return int(text) if isinstance(db_value, int) else float(text)


def assert_rows_equal(got: list[tuple], want: list[tuple], what: str) -> None:
    assert [r[0] for r in got] == [r[0] for r in want], f"{what}: row times differ"
    problems = [f"time {w[0]} {name}: got {g[i]!r}, database {w[i]!r}"
                for g, w in zip(got, want) for i, name in enumerate(METER_COLUMNS)
                if g[i] != w[i] or type(g[i]) is not type(w[i]) and not (isinstance(g[i], (int, float)) and isinstance(w[i], float))]
    assert not problems, f"{what}: {len(problems)} values differ:\n  " + "\n  ".join(problems[:20])


def read_json_line(clemap_bin: Path, config: Path, scenario_path: Path) -> dict[str, Any]:
    """The second reading of `clemap-edge read --json --simulate` (the first has its energy counters at zero)."""
    done = subprocess.run([str(clemap_bin), "read", "--json", "--simulate", "--config", str(config), "--scenario",
                           str(scenario_path), "--count", "2", "--interval", "0.2"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# MARK: - The document itself


def test_openapi_document_is_well_formed():
    # Every schema is valid JSON Schema 2020-12, every $ref resolves, every answer names its content type, and the
    # security is as the contract says: POST needs the bearer token; / and the document never; other GETs only on a
    # non-loopback bind (written as "none or bearer").
    assert SPEC["openapi"] == "3.1.0" and SPEC["components"]["securitySchemes"]["bearerAuth"] == {
        **SPEC["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    problems = []
    for name, schema in SPEC["components"]["schemas"].items():
        if not jsonschema_rs.meta.is_valid(schema):
            problems.append(f"components/schemas/{name} is not valid JSON Schema")

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        return [r for v in node for r in refs(v)] if isinstance(node, list) else []

    for ref in refs(SPEC):
        target: Any = SPEC
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not ref.startswith("#/") or target is None:
            problems.append(f"$ref {ref} does not resolve")
    components = SPEC["components"]["responses"]
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                answer = components[answer["$ref"].split("/")[-1]] if "$ref" in answer else answer
                if not answer.get("content"):
                    problems.append(f"{method.upper()} {path} {status}: no content type")
                if status >= "400" and any(c.get("schema", {}).get("$ref") != "#/components/schemas/Error"
                                           for c in answer["content"].values()):
                    problems.append(f"{method.upper()} {path} {status}: not the Error schema")
            expected = ([{"bearerAuth": []}] if method == "post" else [] if path in ("/", "/api/v1/openapi.yaml")
                        else [{}, {"bearerAuth": []}])
            if operation.get("security") != expected:
                problems.append(f"{method.upper()} {path}: security {operation.get('security')}, not {expected}")
            if method == "post" and "WWW-Authenticate" not in components["Unauthorized"]["headers"]:
                problems.append("401 does not document WWW-Authenticate")
    assert not problems, "\n".join(problems)


# MARK: - GET /api/v1/live


def test_live_has_the_keys_of_read_json_and_plausible_values(start_service, workdir, config_ini, clemap_bin, scenario):
    # balanced-resistive: 230 V, 10 A, PF 1 on every phase, so every value is known.
    api = start_http(start_service, workdir, config_ini, scenario_name="balanced-resistive")
    api.service.wait_for_rows(3, timeout=60)
    before = server_now(api)
    r = api.get("/api/v1/live")
    after = server_now(api)
    assert r.status == 200 and r.content_type.split(";")[0] == "application/json", r.describe()
    live = r.json()
    conforms(live, "Live")

    reference = read_json_line(clemap_bin, config_ini, scenario("balanced-resistive"))
    # The energy keys and temp_c only when the snapshot had them (the chip's temperature is read every few).
    assert set(reference) - LIVE_OPTIONAL <= set(live) <= set(reference), (
        f"keys differ from `clemap-edge read --json`: only in live {sorted(set(live) - set(reference))}, "
        f"only in read {sorted(set(reference) - set(live))}")

    problems = []
    assert "n_i" in live and "n_i" in reference, "the neutral current (n_i) is missing from live or read --json"
    for key in ("freq", "n_i", *(f"{p}_{x}" for p in PHASE for x in ("v", "i", "p", "q", "s", "pf"))):
        got, want = live[key], reference[key]
        if not (isinstance(got, (int, float)) and abs(got - want) <= 0.01 * max(abs(want), 1)):
            problems.append(f"{key}: live {got!r}, read --json {want!r}")
    for p in PHASE:
        if not abs(live[f"{p}_p"] - 2300) < 23:
            problems.append(f"{p}_p {live[f'{p}_p']} is not 2300 W ± 1 %")
    assert not problems, "\n".join(problems)
    assert round(live["time"], 3) == live["time"], f"time {live['time']!r} has more than 3 decimals"
    # The newest snapshot is at most a second old; at 600x the requests themselves take simulated seconds.
    assert before - 60 <= live["time"] <= after + 1, f"live time {live['time']} outside [{before - 60}, {after + 1}]"

    # A token sent with a GET on a loopback bind is ignored, even a wrong one.
    assert api.get("/api/v1/live", token="wrong-token-wrong-token").status == 200


def test_live_answers_200_or_the_starting_503_from_the_first_request(start_service, workdir, config_ini):
    # At real-time speed the API may answer before the first one-second reading: then only the contract's 503.
    api = start_http(start_service, workdir, config_ini, speed=1, token=None)
    answers: list[Response] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answers.append(api.get("/api/v1/live"))
        if answers[-1].status == 200:
            break
    for r in answers:
        if r.status == 503:
            assert r.json() == {"error": "no reading yet: the meter is starting"}, r.describe()
            assert r.content_type.split(";")[0] == "application/json", r.describe()
        else:
            assert r.status == 200, r.describe()
    assert answers[-1].status == 200, f"no reading within 20 s: {answers[-1].describe()}"
    conforms(answers[-1].json(), "Live")
    print(f"{sum(r.status == 503 for r in answers)} answers 503 before the first reading, then 200")


# MARK: - GET /api/v1/minutes


@pytest.fixture
def seeded(start_service, workdir, config_ini, clemap_bin) -> tuple[HTTPService, int]:
    """A service on a database that already holds rows with NULLs: one just over a day before the service's start
    (outside the default range), one just inside it, and two an hour before the start. Returns the service and
    its start (the minute boundary its clock began at)."""
    start = int(time.time()) // 60 * 60
    db = workdir / "seeded.db"
    rows = [seed_row(start - 86400 - 3600), seed_row(start - 86400 + 7200, temp_c=None, input_b=1),
            seed_row(start - 3600, l1_v=230.25, freq=49.99, l1_wh_imp=0.5), seed_row(start - 3540, samples=59, flags=4)]
    seed(clemap_bin, config_ini, db, rows)
    api = start_http(start_service, workdir, config_ini, db=db)
    return api, start


def test_minutes_json_and_csv_equal_the_database(seeded):
    api, start = seeded
    _, newest = committed_range(api, 20)
    want = db_rows(api.db, 0, newest + 1)
    assert sum(r[0] < start for r in want) == 4 and len(want) >= 24, "the seeded rows and the service's are there"

    lo = start - 86400 - 3600
    r = api.get("/api/v1/minutes" + q(**{"from": lo, "to": newest + 1, "format": "json"}))
    assert r.status == 200 and r.content_type.split(";")[0] == "application/json", r.describe()
    assert r.headers.get("Transfer-Encoding", "").lower() == "chunked", f"not streamed: {dict(r.headers)}"
    body = r.json()
    for item in body:
        conforms(item, "MinuteRow")
        assert set(item) == set(METER_COLUMNS), f"keys {sorted(item)}"
    assert_rows_equal([tuple(item[c] for c in METER_COLUMNS) for item in body], want, "json")

    r = api.get("/api/v1/minutes" + q(**{"from": lo, "to": newest + 1, "format": "csv"}))
    assert r.status == 200, r.describe()
    assert r.content_type.replace(" ", "").lower() == "text/csv;charset=utf-8", r.content_type
    assert r.body.endswith(b"\n") and b"\r" not in r.body, "lines end with \\n (the lake CSV format)"
    assert r.headers.get("Transfer-Encoding", "").lower() == "chunked", f"not streamed: {dict(r.headers)}"
    header, lines = csv_rows(r.body)
    assert header == METER_COLUMNS, f"csv header {header}"
    assert all(len(line) == len(METER_COLUMNS) for line in lines)
    parsed = [tuple(csv_value(text, w[i]) for i, text in enumerate(line)) for line, w in zip(lines, want)]
    assert len(lines) == len(want), f"csv has {len(lines)} rows, the database {len(want)}"
    assert_rows_equal(parsed, want, "csv")

    # from is inclusive, to exclusive.
    times = [row[0] for row in want]
    sub = api.json("/api/v1/minutes" + q(**{"from": times[6], "to": times[10]}))
    assert [item["time"] for item in sub] == times[6:10]
    assert api.json("/api/v1/minutes" + q(**{"from": times[6], "to": times[6]})) == []
    header, lines = csv_rows(api.get("/api/v1/minutes" + q(**{"from": times[6], "to": times[6], "format": "csv"})).body)
    assert header == METER_COLUMNS and lines == [], "an empty range in csv is the header alone"


def test_minutes_defaults(seeded):
    # Defaults: to = now + 1, from = to - 86400, format json.
    api, start = seeded
    _, newest = committed_range(api, 5)
    r = api.get("/api/v1/minutes")
    assert r.status == 200 and r.content_type.split(";")[0] == "application/json", r.describe()
    got = [item["time"] for item in r.json()]
    now = server_now(api)
    assert start - 86400 - 3600 not in got, "a row more than a day old is outside the default range"
    assert got[:3] == [start - 86400 + 7200, start - 3600, start - 3540], f"first rows {got[:3]}"
    assert got[-1] >= newest, f"the default range ends at now: newest row {got[-1]}, committed before it {newest}"
    assert got == sorted(got) and got[-1] <= now
    assert got == [row[0] for row in db_rows(api.db, got[0], got[-1] + 1)]
    # to alone: from = to - 86400.
    to = start - 3540
    got = [item["time"] for item in api.json("/api/v1/minutes" + q(to=to))]
    assert got == [start - 86400 + 7200, start - 3600], f"from defaults to to - 86400: {got}"


def test_minutes_take_unix_seconds_and_rfc3339_with_offsets(seeded):
    api, start = seeded
    first, newest = committed_range(api, 12)
    lo, hi = start - 3600, first + 600
    want = api.json("/api/v1/minutes" + q(**{"from": lo, "to": hi}))
    assert len(want) >= 10
    for offset in (0, 60, -330, 825):
        for name, params in (("from", {"from": rfc3339(lo, offset), "to": hi}),
                             ("to", {"from": lo, "to": rfc3339(hi, offset)})):
            got = api.get("/api/v1/minutes" + q(**params))
            assert got.status == 200 and got.json() == want, f"{name} {params[name]}: {got.describe()}"
    assert rfc3339(lo, 60).endswith("+01:00") and rfc3339(lo, 0).endswith("Z")


BAD_PARAMETERS = [
    # (query, words the error must name)
    ({"from": "yesterday"}, ["from"]),
    ({"to": "tomorrow"}, ["to"]),
    ({"from": "2026-13-40T00:00:00Z"}, ["from"]),
    ({"to": "2026-12-06T25:00:00+01:00"}, ["to"]),
    ({"from": "2026-12-06T08:00:00"}, ["from"]),  # no offset: not RFC 3339
    ({"from": "2026-12-06"}, ["from"]),
    ({"from": "1.5"}, ["from"]),  # Unix seconds are an integer
    ({"from": "-5"}, ["from"]),  # and not negative
    ({"to": "12abc"}, ["to"]),
    ({"from": "99999999999999999999999"}, ["from"]),
    ({"format": "xml"}, ["format"]),
    ({"format": ""}, ["format"]),
]


def test_minutes_bad_parameters_are_400_naming_them(seeded):
    api, start = seeded
    problems = []

    def expect(params: dict[str, Any], words: list[str]) -> str | None:
        r = api.get("/api/v1/minutes" + q(**params))
        try:
            return assert_error(r, 400, *words, what=f"GET /api/v1/minutes{q(**params)}")
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])
            return None

    for params, words in BAD_PARAMETERS:
        expect(params, words)
    expect({"from": start, "to": start - 60}, ["from", "to"])  # from after to
    expect({"from": rfc3339(start, 60), "to": rfc3339(start - 60, -300)}, ["from", "to"])
    # More than 7 days between from and to: ask in pieces.
    expect({"from": start - SEVEN_DAYS - 1, "to": start}, ["from", "to", "7 days"])
    expect({"from": start - 8 * 86400}, ["from", "to", "7 days"])  # to defaults to now
    assert not problems, "\n".join(problems)
    # Exactly 7 days is allowed.
    r = api.get("/api/v1/minutes" + q(**{"from": start - SEVEN_DAYS, "to": start}))
    assert r.status == 200 and len(r.json()) == 4, r.describe()


# MARK: - GET /api/v1/energy


def test_energy_lifetime_and_today(start_service, workdir, config_ini, clemap_bin):
    # Pacific/Chatham (UTC+13:45 or +12:45): local midnight is far from UTC midnight, so a server that took UTC
    # would be seen. One seeded row before local midnight (not today), one after it if the start allows.
    config = write_config(config_ini, workdir / "chatham.ini", 4000, settings={"INFO": {"timezone": "Pacific/Chatham"}})
    start = int(time.time()) // 60 * 60
    zone = ZoneInfo("Pacific/Chatham")
    midnight = int(datetime.fromtimestamp(start, zone).replace(hour=0, minute=0, second=0).timestamp())
    rows = [seed_row(midnight - 600, l1_wh_imp=1000.0, l2_wh_exp=7.0)]
    if start - 300 > midnight:
        rows.append(seed_row(start - 300, l1_wh_imp=500.0, l3_varh=-2.5, l2_vah=3.0))
    db = workdir / "energy.db"
    seed(clemap_bin, config, db, rows)
    # A steady export on L2 at any hour: home-day's PV exports only from 07:30 to 16:00 UTC, so a run outside it saw none.
    api = start_http(start_service, workdir, config, db=db, scenario_name="pv-export-l2")
    api.service.wait_for_rows(10, timeout=60)

    def db_state() -> tuple:
        with closing(connect_ro(api.db)) as c:
            rows = list(c.execute(f"SELECT {COLUMN_LIST} FROM meter_data ORDER BY time"))
        return tuple(rows), tuple(sorted(energy_totals(api.db).items()))

    (rows, totals), energy = stable(db_state, lambda: api.json("/api/v1/energy"))
    conforms(energy, "Energy")
    today = energy["today"]
    day = datetime.fromtimestamp(energy["time"], zone).replace(hour=0, minute=0, second=0)
    assert today["from"] == int(day.timestamp()), (
        f"today.from {today['from']} is not local midnight in Pacific/Chatham ({day.isoformat()})")
    assert today["from"] <= energy["time"] <= today["from"] + 86400 + 3600

    problems = []
    lifetime = dict(totals)
    for n, p in enumerate(PHASE, start=1):
        for k, quantity in enumerate(("wh_imp", "wh_exp", "varh", "vah")):
            key = f"{p}_{quantity}"
            if not math.isclose(energy["lifetime"][key], lifetime[n][k], rel_tol=1e-9, abs_tol=1e-9):
                problems.append(f"lifetime.{key} {energy['lifetime'][key]!r}, energy_totals {lifetime[n][k]!r}")
            index = METER_COLUMNS.index(key)
            want = math.fsum(r[index] or 0.0 for r in rows if r[0] >= today["from"])
            if not math.isclose(today[key], want, rel_tol=1e-9, abs_tol=1e-6):
                problems.append(f"today.{key} {today[key]!r}, the rows since {today['from']} sum to {want!r}")
    for part in ("lifetime", "today"):
        for total in ENERGY_TOTALS:
            want = math.fsum(energy[part][f"{p}_{total[6:]}"] for p in PHASE)
            if not math.isclose(energy[part][total], want, rel_tol=1e-9, abs_tol=1e-6):
                problems.append(f"{part}.{total} {energy[part][total]!r} is not the sum of the phases {want!r}")
    assert not problems, "\n".join(problems)
    assert energy["today"]["l2_wh_exp"] > 0, "pv-export-l2 exports on l2"

    # Lifetime never decreases.
    later = api.json("/api/v1/energy")
    for key in ("l1_wh_imp", "l2_wh_exp", "l1_vah", "total_wh_imp"):
        assert later["lifetime"][key] >= energy["lifetime"][key], f"lifetime.{key} decreased"


# MARK: - GET /api/v1/forecast


def test_forecast_shape(start_service, workdir, config_ini):
    api = start_http(start_service, workdir, config_ini)
    api.service.wait_for_rows(5, timeout=60)
    report: dict[str, Any] = {}

    def issued() -> bool:
        report.update(api.json("/api/v1/forecast"))
        return bool(report["forecasts"])

    api.wait_until("a forecast issue (persistence before any training)", issued, timeout=60)
    conforms(report, "ForecastReport")
    assert report["enabled"] is True and report["score_window_hours"] == 168
    now = server_now(api)
    assert report["issued"] is not None and report["issued"] <= now
    for f in report["forecasts"]:
        # The 1-minute horizon targets the minute starting at the issue (the one being measured).
        assert f["issued"] == report["issued"] and f["target_time"] >= f["issued"], f
        assert f["horizon_min"] in (1, 15, 60), f
    targets = [f["target_time"] for f in report["recent"]]
    assert targets == sorted(targets), "recent is oldest first"
    assert all(now - 86400 - 60 <= t <= now + 60 for t in targets), "recent: target times in the last 24 h"


def test_forecast_off(start_service, workdir, config_ini):
    api = start_http(start_service, workdir, config_ini, settings={"FORECAST": {"enabled": "false"}})
    api.service.wait_for_rows(3, timeout=60)
    report = api.json("/api/v1/forecast")
    conforms(report, "ForecastReport")
    assert {k: report[k] for k in ("enabled", "issued", "model_in_use", "forecasts", "recent", "scores")} == {
        "enabled": False, "issued": None, "model_in_use": None, "forecasts": [], "recent": [], "scores": []}, report
    status = api.json("/api/v1/status")
    assert status["forecast"] == {"enabled": False, "model_in_use": None}, status["forecast"]


# MARK: - GET /api/v1/status


def test_status(start_service, workdir, config_ini, clemap_bin):
    api = start_http(start_service, workdir, config_ini)
    api.service.wait_for_rows(5, timeout=60)

    def count() -> tuple[int, int | None, int]:
        with closing(connect_ro(api.db)) as c:
            return c.execute("SELECT count(*), max(time), sum(samples) FROM meter_data").fetchone()

    (rows, newest, samples), status = stable(count, lambda: api.json("/api/v1/status"))
    version = subprocess.run([str(clemap_bin), "--version"], capture_output=True, text=True).stdout.strip()
    assert status["version"] == version
    storage = status["storage"]
    assert storage["rows"] == rows and storage["newest"] == newest, f"storage {storage}, database {rows} rows, newest {newest}"
    assert storage["open"] is True and Path(storage["db_path"]).resolve() == api.db.resolve()
    assert storage["rows_written"] == rows, "a fresh database holds exactly the rows this run wrote"
    assert storage["faults"] == 0
    assert status["started"] <= status["time"] and status["uptime_s"] >= 0
    # The service clock runs 600x: uptime is in the service's seconds.
    assert abs(status["time"] - status["started"] - status["uptime_s"]) <= 2, status
    assert status["clock"] == {"synchronized": True}, "the simulator's clock is synchronised"
    assert status["health"] == "healthy" and status["conditions"] == [], (status["health"], status["conditions"])
    chip = status["chip"]
    assert chip["snapshots"] >= samples and chip["crc_errors"] == 0 and chip["reinitialisations"] == 0, chip
    assert chip["last_reading"] is not None and abs(chip["last_reading"] - status["time"]) <= 60, chip
    assert chip["temp_c"] is not None and 0 < chip["temp_c"] < 100
    assert status["exporter"]["enabled"] is False, "[CLOUD] is off in calibration/config.ini"
    assert status["forecast"]["enabled"] is True
    assert status["outputs"] == {"a": False, "b": False}, "both outputs fitted (simulated GPIO), off at start"
    conforms(status, "Status")  # last: the values above say more than a key too many


def test_database_not_open_is_503(start_service, workdir, config_ini):
    # The database's folder is a regular file: the service meters on, keeping rows in memory.
    (workdir / "not-a-folder").write_text("")
    api = start_http(start_service, workdir, config_ini, db=workdir / "not-a-folder" / "x.db")
    api.wait_until("a reading", lambda: api.get("/api/v1/live").status == 200)
    # storage-fault once a row waits for the database (the first row, 0.1 s later at 600x).
    api.wait_until("storage-fault in /api/v1/status",
                   lambda: "storage-fault" in api.json("/api/v1/status")["conditions"], timeout=20)
    for path in ("/api/v1/minutes", "/api/v1/minutes?format=csv", "/api/v1/pq/events", "/api/v1/energy"):
        assert_error(api.get(path), 503, what=f"GET {path}")
    status = api.json("/api/v1/status")
    assert status["storage"]["open"] is False and status["storage"]["rows"] is None, status["storage"]
    assert "storage-fault" in status["conditions"] and status["health"] != "healthy", status
    conforms(status, "Status")


# MARK: - The document, the dashboard, 404 and 405


def test_openapi_yaml_is_served_byte_equal_and_the_root_symlink_points_at_it(start_service, workdir, config_ini):
    root = REPO_ROOT / "openapi.yaml"
    assert root.is_symlink() and root.resolve() == SPEC_PATH.resolve(), "openapi.yaml at the root links to the spec"
    assert SPEC["openapi"] == "3.1.0"
    api = start_http(start_service, workdir, config_ini)
    r = api.get("/api/v1/openapi.yaml")
    assert r.status == 200 and r.content_type.split(";")[0].strip() == "application/yaml", r.describe()
    assert r.body == SPEC_PATH.read_bytes(), "the served document differs from Sources/MeterHTTP/openapi.yaml"
    page = api.get("/")
    assert page.status == 200 and page.content_type.replace(" ", "").lower() == "text/html;charset=utf-8", page.describe()
    assert b"<html" in page.body.lower()


def test_unknown_paths_are_404_and_wrong_methods_405(start_service, workdir, config_ini):
    # Routing alone: a method that could change something is sent with the token (the server asks it of every
    # method but GET and HEAD; test_wrong_method_without_token_is_404_or_405 holds it to the contract's letter).
    api = start_http(start_service, workdir, config_ini)
    problems = []

    def expect(method: str, path: str, status: int) -> None:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {TOKEN}"} if method != "GET" else {})}
        r = request(api.port, method, path, b"{}" if method != "GET" else None, headers)
        try:
            text = assert_error(r, status, what=f"{method} {path}")
            if status == 404:
                assert method in text and path in text and "/api/v1/openapi.yaml" in text, f"{method} {path}: {text!r}"
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])

    for method, path in (("GET", "/nope"), ("GET", "/api/v1/"), ("GET", "/api/v2/live"), ("GET", "/api/v1/outputs/a/b"),
                         ("GET", "/api/v1/outputs"), ("DELETE", "/api/v1/nothing"), ("PUT", "/x"), ("POST", "/metrics/x"),
                         ("POST", "/api/v1/outputs/a/on")):
        expect(method, path, 404)
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method.lower() not in item:
                expect(method, path.replace("{output}", "a"), 405)
    assert not problems, "\n".join(problems)


def test_wrong_method_without_token_is_404_or_405(start_service, workdir, config_ini):
    # The contract: only a POST needs the token on loopback; anything else unknown is 404, a wrong method 405.
    api = start_http(start_service, workdir, config_ini)
    problems = []
    for method, path, status in (("DELETE", "/api/v1/live", 405), ("PUT", "/api/v1/status", 405),
                                 ("PATCH", "/metrics", 405), ("DELETE", "/api/v1/nothing", 404)):
        try:
            assert_error(request(api.port, method, path), status, what=f"{method} {path} without a token")
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])
    assert not problems, "\n".join(problems)


def route_probe(api: HTTPService, method: str, path: str) -> Response:
    """The documented route called as the contract allows (token, body)."""
    if method == "post":
        return api.post(path.replace("{output}", "a"), {"on": False}, token=TOKEN)
    return api.get(path)


def test_the_spec_lists_exactly_the_routes_the_server_answers(start_service, workdir, config_ini):
    # Every documented operation is routed (not 404/405); every route the server or its dashboard uses is documented.
    api = start_http(start_service, workdir, config_ini)
    api.service.wait_for_rows(2, timeout=60)
    documented = {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if m.lower() in
                  ("get", "post", "put", "patch", "delete", "head", "options", "trace")}
    for method, path in sorted(documented):
        r = route_probe(api, method.lower(), path)
        assert r.status not in (404, 405) and r.status < 500, f"{method} {path} is documented but answers {r.describe()}"

    registered = {(m, normalise(p)) for m, p in server_routes()}
    answered = registered | {(m, normalise(p)) for m, p in dashboard_routes(api.get("/").body.decode("utf-8", "replace"))}
    undocumented = sorted(f"{m} {p}" for m, p in answered - documented)
    assert not undocumented, f"routes the server answers but openapi.yaml does not list: {undocumented}"
    unregistered = sorted(f"{m} {p}" for m, p in documented - registered)
    assert not unregistered, f"documented routes not registered in Sources/MeterHTTP: {unregistered}"


def normalise(path: str) -> str:
    """A route as the server writes it (`:output`, `{output}`, a concrete `a`) in the spec's spelling."""
    path = "/" + path.strip("/") if path != "/" else "/"
    path = re.sub(r"/[:{]output\}?$", "/{output}", path)
    return re.sub(r"^/api/v1/outputs/[ab]$", "/api/v1/outputs/{output}", path)


def server_routes() -> set[tuple[str, str]]:
    """Routes in Sources/MeterHTTP: `router.get("/api/v1/live")`-style calls on a Router or a group of one
    (`let v1 = router.group("api/v1")`), the group's prefix joined, and `(.get, "/path")` table entries."""
    routes: set[tuple[str, str]] = set()
    for source in sorted((REPO_ROOT / "Sources" / "MeterHTTP").rglob("*.swift")):
        text = source.read_text()
        routers = set(re.findall(r"(?:let|var)\s+(\w+)\s*=\s*Router\b", text))
        groups = dict(re.findall(r"(?:let|var)\s+(\w+)\s*=\s*\w+\s*\.\s*group\(\s*\"([^\"]*)\"", text))
        for receiver, method, path in re.findall(r"(\w+)\s*\.\s*(get|post|put|patch|delete|head|on)\(\s*\"([^\"]*)\"", text):
            if receiver not in routers and receiver not in groups:
                continue
            prefix = groups.get(receiver, "")
            routes.add((method.upper(), "/" + "/".join(part.strip("/") for part in (prefix, path) if part.strip("/"))))
        # A route table as data (`(.get, "/api/v1/live")`), as APIRoutes keeps for its 405s.
        routes |= {(m.upper(), p) for m, p in re.findall(r"\(\s*\.(get|post|put|patch|delete)\s*,\s*\"(/[^\"]*)\"\s*\)", text)}
    assert routes, "found no route registrations in Sources/MeterHTTP (router.get(\"...\") calls)"
    return routes


def dashboard_routes(page: str) -> set[tuple[str, str]]:
    """Every /api/... or /metrics path the dashboard page names (fetch, EventSource): GETs, unless it POSTs."""
    paths = set(re.findall(r"[\"'`]/?(api/[A-Za-z0-9_./{}-]*|metrics)(?=[?\"'`])", page))
    return {("GET", "/" + p) for p in paths if not p.startswith("api/v1/outputs")}


# MARK: - POST /api/v1/outputs/{output}


def test_outputs_need_the_token_and_switch(start_service, workdir, config_ini):
    api = start_http(start_service, workdir, config_ini, token=TOKEN)
    r = api.post("/api/v1/outputs/a", {"on": True})
    assert_error(r, 401, what="POST without Authorization")
    assert r.headers.get("WWW-Authenticate", "").split(" ")[0].lower() == "bearer", f"WWW-Authenticate {r.headers}"
    assert_error(api.post("/api/v1/outputs/a", {"on": True}, token="not-the-token-0123456789abcdef"), 403,
                 what="POST with a wrong token")
    assert_error(api.post("/api/v1/outputs/a", {"on": True}, token=TOKEN[:-1]), 403, what="POST with a token's prefix")
    assert api.json("/api/v1/status")["outputs"] == {"a": False, "b": False}, "a refused POST changes nothing"

    r = api.post("/api/v1/outputs/a", {"on": True}, token=TOKEN)
    assert r.status == 200 and r.json() == {"output": "a", "on": True}, r.describe()
    assert api.json("/api/v1/status")["outputs"] == {"a": True, "b": False}
    r = api.post("/api/v1/outputs/b", {"on": True}, token=TOKEN)
    assert r.status == 200 and r.json() == {"output": "b", "on": True}, r.describe()
    r = api.post("/api/v1/outputs/a", {"on": False}, token=TOKEN)
    assert r.status == 200 and r.json() == {"output": "a", "on": False}, r.describe()
    assert api.json("/api/v1/status")["outputs"] == {"a": False, "b": True}

    problems = []
    for output, body in (("c", {"on": True}), ("A", {"on": True}), ("ab", {"on": True}),
                         ("a", {}), ("a", {"on": "true"}), ("a", {"on": 1}), ("a", {"on": None}), ("a", []),
                         ("a", [{"on": True}]), ("a", b"on=true"), ("a", b""), ("a", b"{\"on\": tru"),
                         ("a", {"off": True}), ("a", {"on": True, "of": False})):
        r = api.post(f"/api/v1/outputs/{output}", body, token=TOKEN)
        try:
            words = ["output"] if output != "a" else []
            shown = f"{len(body)} bytes" if len(repr(body)) > 80 else repr(body)
            assert_error(r, 400, *words, what=f"POST /api/v1/outputs/{output} {shown}")
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])
    assert not problems, "\n".join(problems)
    # A body over 1024 bytes is not read: 413.
    assert_error(api.post("/api/v1/outputs/a", b'{"on": true, "pad": "' + b"x" * 2000 + b'"}', token=TOKEN), 413,
                 what="POST with a 2 kB body")
    assert api.json("/api/v1/status")["outputs"] == {"a": False, "b": True}, "a rejected POST changes nothing"
    # The debug log (ServiceLifecycle names every service, the settings print) never shows the token.
    assert TOKEN not in api.service.stderr_text, "the token appears in the service's log"


def test_outputs_without_a_configured_token_are_403(start_service, workdir, config_ini):
    api = start_http(start_service, workdir, config_ini, token=None)
    for token in (None, TOKEN):
        assert_error(api.post("/api/v1/outputs/a", {"on": True}, token=token), 403, "[HTTP] token", "config.ini",
                     what=f"POST with {'a' if token else 'no'} token, none configured")
    assert api.json("/api/v1/status")["outputs"]["a"] is False


def test_an_output_not_fitted_is_409(start_service, workdir, config_ini):
    api = start_http(start_service, workdir, config_ini, settings={"GPIO_SERVICE": {"output_pin_setup": "a"}})
    assert_error(api.post("/api/v1/outputs/b", {"on": True}, token=TOKEN), 409, what="POST to output b, not fitted")
    assert api.json("/api/v1/status")["outputs"] == {"a": False, "b": None}
    assert api.post("/api/v1/outputs/a", {"on": True}, token=TOKEN).status == 200


# MARK: - [HTTP] in config.ini


def test_non_loopback_bind_without_token_refuses_to_start(start_service, workdir, config_ini, clemap_bin):
    # The only test that names a non-loopback address; a correct service exits before binding anything.
    for token in (None, "short-token-15ch"[:15]):
        port = free_port()
        config = write_config(config_ini, workdir / "open.ini", port, bind="0.0.0.0", token=token)
        lineno = next(n for n, line in enumerate(config.read_text().splitlines(), start=1) if line.startswith("bind ="))
        service = start_service(workdir / "open.db", config=config, speed=600)
        listened = False
        deadline = time.monotonic() + 30
        while service.alive() and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                listened = True
            except OSError:
                time.sleep(0.01)
        code = service.wait(timeout=30)
        text = service.stderr_text
        assert code == 2, f"token {token!r}: exit code {code}\n{service.describe()}"
        assert not listened, f"token {token!r}: it listened on port {port} before exiting"
        for words in ("[HTTP]", "bind", "token", "openssl rand -hex 16", str(config)):
            assert words in text, f"token {token!r}: the message does not name {words!r}:\n{text[-1500:]}"
        # Without a token the bind line is named; a short token's own line is a fair place to point at.
        lines = [lineno] + ([n for n, line in enumerate(config.read_text().splitlines(), 1) if line.startswith("token =")]
                            if token else [])
        assert any(re.search(rf"{re.escape(str(config))}:{n}\b|line {n}\b", text) for n in lines), (
            f"no line {lines}:\n{text[-1500:]}")
        assert not meter_rows_if_any(workdir / "open.db"), "no row stored"

        check = subprocess.run([str(clemap_bin), "config", "check", "--config", str(config)],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 2, f"config check: exit {check.returncode}\n{check.stdout[-1500:]}{check.stderr[-1500:]}"
        assert "[HTTP]" in check.stdout + check.stderr and "bind" in check.stdout + check.stderr


def meter_rows_if_any(db: Path) -> dict[int, tuple]:
    return meter_rows(db) if db.exists() and db.stat().st_size else {}


def test_port_in_use_keeps_metering_and_retries(start_service, workdir, config_ini):
    port = free_port()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", port))
    blocker.listen(1)
    config = write_config(config_ini, workdir / "busy.ini", port)
    service = start_service(workdir / "busy.db", config=config, speed=600, env={**os.environ, "TMPDIR": str(workdir)})
    try:
        service.wait_for(r"\[HTTP\] port", timeout=30, what="an error naming [HTTP] port")
        before = len(service.stored_rows())
        service.wait_for_rows(before + 20, timeout=60)  # metering goes on
    finally:
        blocker.close()
    # Retried every 30 s: the API comes up once the port is free.
    wait_for_port(service, port, timeout=45)
    assert request(port, "GET", "/api/v1/openapi.yaml").status == 200


def test_http_disabled_does_not_listen(start_service, workdir, config_ini):
    port = free_port()
    config = write_config(config_ini, workdir / "off.ini", port, enabled=False)
    service = start_service(workdir / "off.db", config=config, speed=600)
    service.wait_for_rows(10, timeout=60)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
