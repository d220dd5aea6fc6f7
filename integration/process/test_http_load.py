# SPDX-License-Identifier: Apache-2.0
"""wrk on /api/v1/live and /metrics (2 threads, 16 connections each, 5 s, both at once) while the service samples
in real time (--sim-speed 1): no socket error, no non-2xx answer, and sampling never missed a second. Then SIGTERM
under load: a clean stop (exit 0, the last partial minute stored, the port closed).

"Never missed a second": the sampler skips a tick it woke up too late for and counts only the snapshots it took,
so every stored minute that overlaps the load must hold one sample per second of its duration_s (60, or fewer in
the first, partial minute: sampling starts a second or two after the process) and not carry flag 4. The
chip's snapshot counter (/api/v1/status) must also grow by one a second across the load. Figures are printed
(pytest -s); `make bench-http` measures the release build.
"""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import pytest

import wrk
from conftest import FLAG_MISSED_SAMPLES, connect_ro
from httpservice import start_http

SECONDS = 5
ROUTES = ("/api/v1/live", "/metrics")


def test_wrk_load_while_sampling_in_real_time(start_service, workdir: Path, config_ini: Path):
    if wrk.executable() is None:
        pytest.fail("wrk not found: apt-get install wrk (make test-process installs it)", pytrace=False)
    # info, as in production: a debug line per request would load the service with our own log reading.
    api = start_http(start_service, workdir, config_ini, speed=1, log_level="info")
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    time.sleep(1.5)  # a few undisturbed snapshots first

    before, t0 = api.json("/api/v1/status"), time.monotonic()
    runs = {route: wrk.start(api.base_url + route, SECONDS) for route in ROUTES}
    results = {route: wrk.finish(process, api.base_url + route) for route, process in runs.items()}
    after, t1 = api.json("/api/v1/status"), time.monotonic()
    rss = wrk.peak_rss_kib(api.service.pid)

    print()
    for route, result in results.items():
        print(result.line(route))
    print(f"peak RSS (VmHWM) of the service: {rss / 1024:.1f} MiB")
    for route, result in results.items():
        assert result.clean, f"{route}: errors under load\n{result.output}"
        assert result.requests >= 100 * SECONDS, f"{route}: only {result.requests} requests in {SECONDS} s"

    # One snapshot a second across the load (±1 for where the two status reads fall between ticks).
    snapshots = after["chip"]["snapshots"] - before["chip"]["snapshots"]
    assert abs(snapshots - (t1 - t0)) <= 1.5, f"{snapshots} snapshots in {t1 - t0:.2f} s of load"

    # The minutes that overlap the load [before.time, after.time] (service seconds), once stored.
    start, end = before["time"], after["time"]

    def stored() -> list[tuple[int, int, int, float]]:
        with closing(connect_ro(api.db)) as c:
            return list(c.execute("SELECT time, samples, flags, duration_s FROM meter_data WHERE time > ? AND time <= ? "
                                  "ORDER BY time", (start - 60, end)))

    api.wait_until("the minute rows covering the load", lambda: bool(stored()) and stored()[-1][0] + 60 >= end,
                   timeout=SECONDS + 90)
    rows = stored()
    print(f"rows covering the load: {rows}")
    bad = [r for r in rows if abs(r[1] - r[3]) >= 1 or r[2] & FLAG_MISSED_SAMPLES]
    assert not bad, f"rows overlapping the load missed samples (time, samples, flags, duration_s): {bad}"

    # SIGTERM under load: the group drains the server with the rest, the last (partial) minute is stored, exit 0.
    loaded = wrk.start(api.base_url + "/api/v1/live", SECONDS)
    time.sleep(1)
    stopped_at = time.monotonic()
    api.service.terminate()
    assert api.service.wait(timeout=25) == 0, api.service.describe()
    print(f"SIGTERM under load: exited 0 after {time.monotonic() - stopped_at:.2f} s")
    wrk.finish(loaded, api.base_url + "/api/v1/live")
    assert "storage stopped" in api.service.stderr_text, api.service.describe()
    with closing(connect_ro(api.db)) as c:
        last = c.execute("SELECT time, flags FROM meter_data ORDER BY time DESC LIMIT 1").fetchone()
    assert last[1] & 1, f"the last row {last} is not the partial minute the stop closed"
    assert api.get_refused(), "the port still answers after the service exited"
