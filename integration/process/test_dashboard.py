# SPDX-License-Identifier: Apache-2.0
"""The dashboard (`GET /`, Sources/MeterHTTP/Dashboard/dashboard.html) in headless Chromium against an accelerated
simulated run (scenario home-day, --sim-speed 600: ten stored minutes a real second).

Setup: a first short run (forecaster and HTTP off) stores 30 minutes; they are moved 6 h into the past and 5 of
them deleted, so the chart has three runs of rows separated by two gaps. Then the service runs with an [HTTP]
section on a free loopback port and the page is opened.

Asserted:
- the chart draws data (data-points), exactly the stored rows up to its newest one, as separate segments where
  rows are missing (one SVG subpath per run of consecutive minutes, no line across a gap), with the forecast
  overlaid (past 1-minute forecasts and the newest issue's value forecasts);
- the live values shown equal /api/v1/live within the page's rounding (data-decimals): the live reading changes
  every simulated second (1.7 ms here), so two fetches bracket the page's own poll (A just before it, B just
  after) and each value must be A's or B's, rounded; the reading time shown lies between them;
- energy today equals /api/v1/energy `today` (kWh, 3 decimals), bracketed the same way; health, clock, version
  and the forecast model shown are /api/v1/status's;
- the page requested nothing but its own origin (Chromium's performance log and the Resource Timing entries);
- on a phone-sized viewport (390 x 844, mobile emulation) nothing scrolls sideways;
- when the service dies the page says the API is unreachable (red indicator), it does not go blank.
Screenshots (desktop, phone, phone in dark mode) go to <repo>/out/dashboard/ (gitignored); the test prints the paths.

Chromium: Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver, or env CHROMIUM /
CHROMEDRIVER) and selenium 4 from PyPI. Missing, they FAIL the test (`make test-process` installs them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from httpservice import start_http, write_config

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
OUT = REPO_ROOT / "out" / "dashboard"
SPEED = 600
PHASES = ("l1", "l2", "l3")
QUANTITIES = ("v", "i", "p", "q", "s", "pf")
#: How far two simulated readings a second or two apart may differ with nothing switched (the scenario's noise of
#: 2 LSB on RMS and power codes is ~3e-5 V, ~3e-6 A, ~0.006 W), beyond the page's rounding half-unit.
NOISE = {"v": 0.002, "i": 0.0005, "p": 0.05, "q": 0.05, "s": 0.05, "pf": 0.0005, "freq": 0.002}


# MARK: - The service with an [HTTP] section (httpservice.py)


def prepare_history_with_gaps(start_service, config_ini: Path, workdir: Path, db: Path) -> int:
    """30 simulated minutes stored by a first run, moved 6 h back, rows 10-14 deleted. Returns the rows kept."""
    config = write_config(config_ini, workdir / "config-first.ini", 4000, enabled=False, settings={"FORECAST": {"enabled": "false"}})
    first = start_service(db, scenario_name="home-day", speed=SPEED, duration=1800, config=config, name="first",
                          log_level="info")
    assert first.wait(timeout=60) == 0, first.describe()
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute("UPDATE meter_data SET time = time - 21600")
            times = [r[0] for r in con.execute("SELECT time FROM meter_data ORDER BY time")]
            con.executemany("DELETE FROM meter_data WHERE time = ?", [(t,) for t in times[10:15]])
        return con.execute("SELECT count(*) FROM meter_data").fetchone()[0]
    finally:
        con.close()


# MARK: - Chromium


@pytest.fixture
def browser():
    problems = [f"{path} not found or not executable" for path in (CHROMIUM, CHROMEDRIVER)
                if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        problems.append(f"selenium is not importable ({error})")
    if problems:
        pytest.fail("the dashboard test needs Debian's chromium and chromium-driver and selenium 4 from PyPI "
                    "(apt-get install chromium chromium-driver; pip install selenium; `make test-process` does both): "
                    + "; ".join(problems), pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


READ_PAGE = """
const q = s => document.querySelector(s), chart = q('#chart');
const values = {};
for (const e of document.querySelectorAll('[data-key][data-decimals]'))
  values[e.dataset.key] = {text: e.textContent, decimals: +e.dataset.decimals, scale: e.dataset.scale ? +e.dataset.scale : 1};
const status = {};
for (const e of document.querySelectorAll('#status [data-key]')) status[e.dataset.key] = e.textContent;
return {time: q('#live').dataset.time, livetime: q('#livetime').textContent, values, status,
  health: q('#health').dataset.state, healthtext: q('#healthtext').textContent,
  errors: [...document.querySelectorAll('#errors li')].map(e => e.textContent),
  chart: Object.assign({}, chart.dataset), meas: [...chart.querySelectorAll('path.meas')].map(p => p.getAttribute('d')),
  futurePoints: chart.querySelectorAll('circle.futp').length, recentPaths: chart.querySelectorAll('path.rec').length};
"""


def wait_page(driver, script: str, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            state = driver.execute_script(READ_PAGE)
            pytest.fail(f"the page did not show {what} within {timeout} s; page state: "
                        f"{json.dumps({k: state[k] for k in ('time', 'chart', 'errors', 'healthtext')})}", pytrace=False)
        time.sleep(interval)


def number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def shown_matches(shown: float | None, candidates: list[float | None], decimals: int, noise: float = 0.0) -> bool:
    """`shown` is one of `candidates` rounded to `decimals` (half a unit, plus `noise`)."""
    tolerance = 0.5 * 10 ** -decimals + noise + 1e-9
    return shown is not None and any(c is not None and abs(shown - c) <= tolerance for c in candidates)


# MARK: - The test


def test_dashboard_in_headless_chromium(start_service, config_ini: Path, workdir: Path, browser, capsys):
    began = time.monotonic()
    db = workdir / "data_gathering.db"
    kept = prepare_history_with_gaps(start_service, config_ini, workdir, db)

    api = start_http(start_service, workdir, config_ini, speed=SPEED, token=None, db=db, name="service", log_level="info")
    service, base = api.service, api.base_url
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)

    # The page itself: one self-contained HTML file, small, nothing loaded from elsewhere.
    with urllib.request.urlopen(base + "/", timeout=5) as answer:
        html, content_type = answer.read(), answer.headers["Content-Type"]
    assert content_type == "text/html; charset=utf-8", content_type
    assert len(html) < 25 * 1024, f"GET / is {len(html)} bytes; the dashboard should stay under 25 KB"
    external = re.findall(rb"""(?:src|href|url)\s*[=(]\s*["']?(?:[a-z]+:)?//[^"' )>]*""", html, re.I)
    assert not external and b"@import" not in html, f"the page refers to other origins: {external}"

    driver = browser
    driver.get(base + "/")
    assert driver.title == "clemap-edge", driver.title

    # The chart fills: the 25 moved rows plus three simulated hours of this run.
    wanted = kept + 180
    wait_page(driver, f"return +document.getElementById('chart').dataset.points >= {wanted}", 45,
              f"at least {wanted} minutes in the chart")

    # -- Live values, energy today and the chart, bracketed around one of the page's polls.
    def poll_started_at() -> float:
        """Waits for the page's next live update; returns when it was seen (time.monotonic())."""
        before = driver.execute_script("return document.getElementById('live').dataset.time")
        wait_page(driver, f"return document.getElementById('live').dataset.time !== {json.dumps(before)}", 5,
                  "a new live reading", interval=0.01)
        return time.monotonic()

    attempts: list[str] = []
    for attempt in range(8):
        seen = poll_started_at()
        time.sleep(max(0.0, seen + 1.85 - time.monotonic()))  # the page polls every 2 s: just before its next poll
        energy_a, live_a = api.json("/api/v1/energy"), api.json("/api/v1/live")
        time_a = driver.execute_script("return document.getElementById('live').dataset.time")
        drawn_a = driver.execute_script("return document.getElementById('chart').dataset.fetched")
        wait_page(driver, f"const l = document.getElementById('live').dataset.time, c = document.getElementById('chart')"
                          f".dataset.fetched; return l !== {json.dumps(time_a)} && c !== {json.dumps(drawn_a)}", 5,
                  "a new reading and a redrawn chart", interval=0.005)
        page = driver.execute_script(READ_PAGE)
        live_b, energy_b = api.json("/api/v1/live"), api.json("/api/v1/energy")

        problems = []
        shown_time = float(page["time"])
        if not live_a["time"] <= shown_time <= live_b["time"]:
            problems.append(f"page time {shown_time} not within the bracket {live_a['time']} … {live_b['time']}")
        expected_clock = time.strftime("%H:%M:%S", time.localtime(int(shown_time)))
        if page["livetime"] != expected_clock:
            problems.append(f"reading time shown {page['livetime']!r}, expected {expected_clock!r}")
        values = page["values"]
        for phase in PHASES:
            for quantity in QUANTITIES:
                key = f"{phase}_{quantity}"
                v = values[key]
                if not shown_matches(number(v["text"]), [live_a[key], live_b[key]], v["decimals"], NOISE[quantity]):
                    problems.append(f"{key} shows {v['text']!r} ({v['decimals']} decimals), live had {live_a[key]} / "
                                    f"{live_b[key]}")
        v = values["freq"]
        if not shown_matches(number(v["text"]), [live_a["freq"], live_b["freq"]], v["decimals"], NOISE["freq"]):
            problems.append(f"freq shows {v['text']!r}, live had {live_a['freq']} / {live_b['freq']}")
        v = values["total_p"]
        totals = [sum(live[f"{p}_p"] for p in PHASES) for live in (live_a, live_b)]
        if not shown_matches(number(v["text"]), totals, v["decimals"], 3 * NOISE["p"]):
            problems.append(f"total_p shows {v['text']!r}, live l1_p+l2_p+l3_p was {totals[0]} / {totals[1]}")
        # Energy today: the page fetched it between the two energy fetches (rows only add to it, unless midnight).
        if energy_a["today"]["from"] != energy_b["today"]["from"]:
            problems.append("local midnight passed between the two energy fetches")
        else:
            for phase in (*PHASES, "total"):
                for kind in ("wh_imp", "wh_exp"):
                    key = f"{phase}_{kind}"
                    v = values[f"today.{key}"]
                    lo, hi = sorted((energy_a["today"][key], energy_b["today"][key]))
                    shown, half = number(v["text"]), 0.5 * 10 ** -v["decimals"] + 1e-9
                    if v["scale"] != 0.001 or shown is None or not lo * 0.001 - half <= shown <= hi * 0.001 + half:
                        problems.append(f"today.{key} shows {v['text']!r} kWh, /api/v1/energy today had "
                                        f"{lo} … {hi} Wh")
        if not problems:
            break
        attempts.append(f"attempt {attempt + 1}: " + "; ".join(problems))
    else:
        pytest.fail("the page's live values / energy today never matched /api/v1/live and /api/v1/energy fetched "
                    "around its poll:\n  " + "\n  ".join(attempts), pytrace=False)

    # -- The chart against /api/v1/minutes: every stored row up to the newest drawn, gaps as gaps.
    chart = page["chart"]
    rows = api.json("/api/v1/minutes?format=json")
    updated = int(chart["updated"])
    drawn = [r for r in rows if r["time"] <= updated
             and all(isinstance(r[f"{p}_p"], (int, float)) for p in PHASES)]
    assert int(chart["points"]) == len(drawn), (
        f"chart data-points {chart['points']}, but /api/v1/minutes has {len(drawn)} rows up to {updated}")
    steps = [b["time"] - a["time"] for a, b in zip(drawn, drawn[1:])]
    step = min(s for s in steps if s > 0)
    runs = 1 + sum(1 for s in steps if s > 1.5 * step)
    assert runs >= 3, f"the prepared history should have two gaps, the API rows have {runs} runs"
    assert int(chart["segments"]) == runs, f"chart data-segments {chart['segments']}, the rows have {runs} runs"
    subpaths = sum(d.count("M") for d in page["meas"])
    assert subpaths == runs, f"the measured path has {subpaths} subpaths (M), the rows have {runs} runs: {page['meas']}"

    forecast = api.json("/api/v1/forecast")
    assert forecast["enabled"], "the forecaster is on in calibration/config.ini"
    if any(f["kind"] == "value" and f["value"] is not None for f in forecast["forecasts"]):
        assert int(chart["forecastFuture"]) >= 1 and page["futurePoints"] >= 1, f"no future forecast drawn: {chart}"
    if any(f["kind"] == "value" for f in forecast["recent"]):
        assert int(chart["forecastRecent"]) >= 1 and page["recentPaths"] == 1, f"no past forecast drawn: {chart}"

    # -- Health against /api/v1/status (the page polls it every 10 s: it may take that long to agree).
    def status_agrees() -> tuple[bool, str]:
        status, shown = api.json("/api/v1/status"), driver.execute_script(READ_PAGE)
        s = shown["status"]
        expected_state = "ok" if status["health"] == "healthy" else None
        model = (status["forecast"] or {}).get("model_in_use")
        checks = {
            "health": s["health"] == status["health"] and shown["healthtext"] == status["health"],
            "indicator": expected_state is None or shown["health"] == expected_state,
            "conditions": s["conditions"] == (", ".join(status["conditions"]) or "none"),
            "clock": s["clock"] == ("synchronised" if status["clock"]["synchronized"] else "NOT synchronised"),
            "version": s["version"] == status["version"],
            # model_in_use is null unless a model file was loaded: the built-in model (or persistence) serves.
            "model": (model is None and s["model"].startswith("built-in")) or (model is not None and model["source"] in s["model"]),
            "storage": (m := re.match(r"(\d+) rows", s["storage"])) is not None and 0 < int(m.group(1)) <= status["storage"]["rows"],
            "uptime": s["uptime"] not in ("", "—"),
        }
        failed = [k for k, ok in checks.items() if not ok]
        return not failed, f"{failed}: page {json.dumps(s)} (indicator {shown['health']}), status {json.dumps(status)}"

    deadline = time.monotonic() + 12
    while not (agreed := status_agrees())[0] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert agreed[0], f"the page's health does not match /api/v1/status: {agreed[1]}"
    assert page["errors"] == [], f"the page shows errors: {page['errors']}"

    # -- Nothing but the page's own origin.
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert requested, "Chromium's performance log recorded no request at all"
    foreign = [u for u in requested + resources if not (u == base or u.startswith(base + "/") or u.startswith("data:"))]
    assert not foreign, f"the page requested other origins: {sorted(set(foreign))}"
    paths = sorted({re.sub(r"\?.*", "", u[len(base):]) for u in requested + resources if u.startswith(base)})
    assert set(paths) <= {"/", "/api/v1/live", "/api/v1/status", "/api/v1/minutes", "/api/v1/energy", "/api/v1/forecast"}, paths
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, f"the browser console has errors: {severe}"

    # -- Screenshots: desktop, then a phone (390 x 844 CSS px, mobile) light and dark.
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []

    def shot(name: str) -> None:
        data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path = OUT / f"{name}.png"
        import base64
        path.write_bytes(base64.b64decode(data["data"]))
        shutil.copy(path, workdir / path.name)
        shots.append(path)

    shot("desktop")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    wait_page(driver, "return document.documentElement.clientWidth === 390", 5, "the phone viewport")
    time.sleep(0.4)  # the chart redraws 150 ms after a resize
    layout = driver.execute_script("""
      const d = document.documentElement, w = d.clientWidth;
      const wide = [...document.querySelectorAll('header, main, section, table, svg, form, footer')]
        .filter(e => e.getBoundingClientRect().right > w + 0.5).map(e => e.id || e.tagName);
      return {scrollWidth: d.scrollWidth, clientWidth: w, wide, chartWidth: document.getElementById('chart').getBoundingClientRect().width,
              fontSize: parseFloat(getComputedStyle(document.body).fontSize)};""")
    assert layout["scrollWidth"] <= layout["clientWidth"] and not layout["wide"], f"horizontal scroll on a phone: {layout}"
    assert layout["chartWidth"] >= 300 and layout["fontSize"] >= 14, layout
    shot("phone")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    time.sleep(0.2)
    dark = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    shot("phone-dark")
    assert dark != "rgb(246, 247, 249)", "prefers-color-scheme: dark did not change the page"

    # -- The service gone: the page says so, plainly, and keeps the last values.
    service.terminate()
    service.wait(timeout=30)
    wait_page(driver, "const e = document.querySelector('#errors li'); return !!e && /unreachable/.test(e.textContent) "
                      "&& document.getElementById('health').dataset.state === 'bad'", 6, "'API unreachable'")
    state = driver.execute_script(READ_PAGE)
    assert number(state["values"]["l1_v"]["text"]) is not None, "the last values stay on the page"
    shot("phone-unreachable")

    with capsys.disabled():
        print(f"\ndashboard: {chart['points']} minutes in {chart['segments']} runs, forecast {chart['forecastRecent']} "
              f"past + {chart['forecastFuture']} future points; live L1 {values['l1_v']['text']} V "
              f"{values['l1_p']['text']} W, total {values['total_p']['text']} W (matched /api/v1/live at poll "
              f"{len(attempts) + 1}); page {len(html)} bytes; screenshots: "
              + ", ".join(str(p) for p in shots) + f"; {time.monotonic() - began:.1f} s")
