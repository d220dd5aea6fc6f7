# SPDX-License-Identifier: Apache-2.0
"""The exporter against a real S3 API on loopback: moto's server with signatures checked (s3server.py).

What the issue asks to see: uploads byte-exact; a wrong secret fails clearly, without a retry storm and without the
secret in any line of output; the store stopped during a simulated week, then started: every hour arrives exactly
once, oldest first; kill -9 during the drain loses nothing and duplicates nothing; pyarrow reads the lake of two
devices with Hive partitioning and gets every stored row exactly once, with the right types.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import METER_COLUMNS
from s3server import Credentials, MotoServer, Relay, cloud_config

HOUR = 3600


@pytest.fixture
def moto(workdir: Path):
    server = MotoServer(workdir)
    yield server
    server.stop()


def csv_of(rows: list[tuple]) -> bytes:
    """The CSV the exporter writes for `rows` (meter_data columns in order): Python's repr of a float is the same
    shortest round-trip form as Swift's description."""
    out = [",".join(METER_COLUMNS)]
    for row in rows:
        out.append(",".join("" if v is None else (repr(v) if isinstance(v, float) else str(v)) for v in row))
    return ("\n".join(out) + "\n").encode()


def hour_key(device: str, start: int, prefix: str = "data/") -> str:
    t = time.gmtime(start)
    return f"{prefix}minutes/device={device}/date={time.strftime('%Y-%m-%d', t)}/hour={time.strftime('%H', t)}.csv"


def ending_mid_hour(seconds: int) -> int:
    """At least `seconds` of simulated time, ending at minute 30 of an hour.

    The simulator starts at the current minute boundary. A run ending right at an hour's end closes that hour with
    its stop's partial row, and the exporter, stopping, leaves the upload to the next start (the outbox keeps it):
    the tests' "every closed hour arrived" would depend on the minute they started in (seen in CI at minute 55).
    """
    start = int(time.time()) // 60 * 60
    return seconds + (30 * 60 - (start + seconds) % HOUR) % HOUR


def stored_hours(db: Path) -> dict[int, list[tuple]]:
    """The closed hours of meter_data (all but the newest row's hour), each with its rows in time order."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(f"SELECT {', '.join(METER_COLUMNS)} FROM meter_data ORDER BY time").fetchall()
    finally:
        con.close()
    newest_hour = rows[-1][0] // HOUR * HOUR
    hours: dict[int, list[tuple]] = {}
    for row in rows:
        start = row[0] // HOUR * HOUR
        if start < newest_hour:
            hours.setdefault(start, []).append(row)
    return hours


def run_cli(clemap_bin: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(clemap_bin), *args], capture_output=True, text=True, timeout=120, env=env)


def test_every_closed_hour_arrives_byte_exact_and_the_export_status_says_so(moto, start_service, config_ini, workdir, clemap_bin):
    config = cloud_config(config_ini, workdir / "config.ini", endpoint=moto.url, bucket=moto.bucket, serial="SE05000551",
                          credentials=moto.credentials)
    db = workdir / "meter.db"
    service = start_service(db, config=config, speed=3000, duration=ending_mid_hour(4 * HOUR), scenario_name="home-day")
    assert service.wait(timeout=120) == 0, service.describe()

    hours = stored_hours(db)
    assert len(hours) in (4, 5), "4 to 5 h of rows, ending mid-hour, close 4 hours, or 5 when the run starts late in an hour"
    versions = moto.versions("data/")
    assert sorted(versions) == sorted(hour_key("SE05000551", h) for h in hours)
    for start, rows in hours.items():
        body = moto.get(hour_key("SE05000551", start))
        assert body == csv_of(rows), f"hour {start}: the object is not the stored rows"
        assert len(versions[hour_key("SE05000551", start)]) == 1
    status = run_cli(clemap_bin, "export", "status", "--config", str(config), "--db", str(db), "--json")
    assert status.returncode == 0, status.stderr
    assert '"pending":0' in status.stdout and f'"uploaded":{len(hours)}' in status.stdout, status.stdout
    assert "config.ini [CLOUD]" in status.stdout


def test_a_wrong_secret_fails_clearly_once_without_a_storm_and_is_never_printed(moto, start_service, config_ini, workdir, clemap_bin):
    wrong = Credentials(moto.credentials.access_key_id, "WrongSecret" + moto.credentials.secret_access_key[11:])
    config = cloud_config(config_ini, workdir / "config.ini", endpoint=moto.url, bucket=moto.bucket, serial="SE1", credentials=wrong)
    db = workdir / "meter.db"
    moto_log_before = moto.log_path.read_text()
    service = start_service(db, config=config, speed=3000, duration=ending_mid_hour(5 * HOUR), scenario_name="home-day")
    assert service.wait(timeout=120) == 0, service.describe()

    log = service.stderr_text + service.stdout_path.read_text()
    # The first request refused (a model listing at the start, or the first hour's upload): logged once, with the fix.
    errors = [line for line in log.splitlines() if " error " in line and "export:" in line]
    assert len(errors) == 1, "\n".join(errors)
    assert "HTTP 403 SignatureDoesNotMatch" in errors[0] and "secret access key from config.ini [CLOUD]" in errors[0], errors[0]
    assert "the store refused: fix what the error names" in errors[0]
    # Five hours of a refusing store: one request, then a pause of about six hours (not one request a minute).
    requests = [line for line in moto.log_path.read_text()[len(moto_log_before):].splitlines() if '"PUT /' in line or '"GET /' in line]
    assert 1 <= len(requests) <= 2, "\n".join(requests)
    assert moto.versions("data/") == {}
    status = run_cli(clemap_bin, "export", "status", "--config", str(config), "--db", str(db))
    assert status.returncode == 0, status.stderr
    assert "last error: S3" in status.stdout and "SignatureDoesNotMatch" in status.stdout, status.stdout
    assert "the service tries again from" in status.stdout, status.stdout
    # The secret appears nowhere: not in the service's output, the status, nor a failing flush.
    flush = run_cli(clemap_bin, "export", "flush", "--config", str(config), "--db", str(db))
    assert flush.returncode == 1 and "SignatureDoesNotMatch" in flush.stderr, flush.stderr
    for text in (log, status.stdout, status.stderr, flush.stdout, flush.stderr):
        assert wrong.secret_access_key not in text
        assert moto.credentials.secret_access_key not in text


def test_credentials_from_the_environment_and_the_shared_file_never_printed(moto, start_service, config_ini, workdir, clemap_bin):
    config = cloud_config(config_ini, workdir / "config.ini", endpoint=moto.url, bucket=moto.bucket, serial="SE1", credentials=None)
    db = workdir / "meter.db"
    home = workdir / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {moto.credentials.access_key_id}\naws_secret_access_key = {moto.credentials.secret_access_key}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(home)
    service = start_service(db, config=config, speed=3000, duration=ending_mid_hour(HOUR), env=env)
    assert service.wait(timeout=60) == 0, service.describe()
    assert len(moto.versions("data/")) == len(stored_hours(db)) >= 1
    status = run_cli(clemap_bin, "export", "status", "--config", str(config), "--db", str(db), env=env)
    assert str(home / ".aws" / "credentials") in status.stdout, status.stdout
    env_only = dict(env, HOME=str(workdir), AWS_ACCESS_KEY_ID=moto.credentials.access_key_id,
                    AWS_SECRET_ACCESS_KEY=moto.credentials.secret_access_key)
    status = run_cli(clemap_bin, "export", "status", "--config", str(config), "--db", str(db), env=env_only)
    assert "environment" in status.stdout, status.stdout
    for text in (service.stderr_text, status.stdout, status.stderr):
        assert moto.credentials.secret_access_key not in text


@pytest.fixture(scope="module")
def offline_week(tmp_path_factory, clemap_bin, config_ini, scenario):
    """A simulated week of the service (3000x) with the store unreachable until day 6.5, then reachable."""
    workdir = tmp_path_factory.mktemp("week")
    moto = MotoServer(workdir)
    relay = Relay(moto.port)
    relay.stop()
    config = cloud_config(config_ini, workdir / "config.ini", endpoint=relay.url, bucket=moto.bucket, serial="SE-WEEK",
                          credentials=moto.credentials, forecast={"enabled": "false"})
    db = workdir / "meter.db"
    from conftest import ServiceProcess

    argv = [str(clemap_bin), "run", "--config", str(config), "--db", str(db), "--simulate", "--scenario", str(scenario("home-day")),
            "--sim-speed", "3000", "--sim-duration", str(ending_mid_hour(7 * 86400)), "--log-level", "debug"]
    service = ServiceProcess(argv, workdir / "week.stdout", workdir / "week.stderr", cwd=workdir)
    try:
        first = service.wait_for(r"row stored", timeout=30, what="the first row")[1]
        start = int(re.search(r"row\.time=(\d+)", first.text).group(1))
        service.wait_for(lambda t: (m := re.search(r"row\.time=(\d+)", t)) is not None and int(m.group(1)) >= start + int(6.5 * 86400),
                         timeout=600, what="day 6.5")
        relay.start()
        reopened_at = time.monotonic()
        peak_kb = 0
        while service.alive():
            try:
                for line in open(f"/proc/{service.pid}/status"):
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.2)
        assert service.wait(timeout=60) == 0, service.describe()
        yield {"moto": moto, "relay": relay, "db": db, "service": service, "config": config, "workdir": workdir,
               "peak_kb": peak_kb, "reopened_at": reopened_at}
    finally:
        service.cleanup()
        relay.stop()
        moto.stop()


def test_a_week_offline_arrives_exactly_once_oldest_first(offline_week):
    moto, db, service = offline_week["moto"], offline_week["db"], offline_week["service"]
    hours = stored_hours(db)
    assert len(hours) >= 7 * 24
    versions = moto.versions("data/")
    expected = [hour_key("SE-WEEK", h) for h in sorted(hours)]
    assert sorted(versions) == sorted(expected), f"{len(versions)} objects for {len(expected)} hours"
    assert all(len(v) == 1 for v in versions.values()), "an hour arrived twice"
    for start, rows in hours.items():
        assert moto.get(hour_key("SE-WEEK", start)) == csv_of(rows)
    uploaded = [m.group(1) for line in service.lines if (m := re.search(r"key=(\S+) .*export: uploaded$", line.text))]
    assert uploaded == expected, "the outbox drained oldest first"
    # While offline: warnings once per kind of error, not one per attempt.
    failures = [line.text for line in service.lines if "upload failed" in line.text]
    assert 1 <= len(failures) <= 3, "\n".join(failures)
    print(f"\noffline week: {len(expected)} hours uploaded once each after the store came back; service peak RSS "
          f"{offline_week['peak_kb'] / 1024:.1f} MiB")


def test_a_week_of_backlog_drains_fast_and_kill9_during_it_loses_and_duplicates_nothing(offline_week, clemap_bin, scenario, workdir):
    """The week's database as a meter whose rows were never exported (the outbox emptied), drained into a new prefix
    by the service, killed with SIGKILL at random moments of the drain and started again, until all is there."""
    from conftest import ServiceProcess

    moto = offline_week["moto"]
    db = workdir / "meter.db"
    shutil.copy(offline_week["db"], db)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM export_outbox")
    con.execute("DELETE FROM export_state")
    con.commit()
    con.close()
    config = workdir / "config.ini"
    config.write_text(offline_week["config"].read_text().replace("data_prefix = data/", "data_prefix = kill/"))
    assert "data_prefix = kill/" in config.read_text()

    # The throughput first, on a copy: `export flush` drains the whole week in one go.
    flush_db = workdir / "flush.db"
    shutil.copy(db, flush_db)
    flush_config = workdir / "flush.ini"
    flush_config.write_text(config.read_text().replace("data_prefix = kill/", "data_prefix = flush/"))
    flush = run_cli(clemap_bin, "export", "flush", "--config", str(flush_config), "--db", str(flush_db), "--json")
    assert flush.returncode == 0, flush.stderr
    print(f"\nweek backlog through `export flush`: {flush.stdout.strip()}")

    rng = random.Random(20261206)
    kills = 0
    for attempt in range(6):
        argv = [str(clemap_bin), "run", "--config", str(config), "--db", str(db), "--simulate", "--scenario", str(scenario("home-day")),
                "--sim-speed", "600", "--log-level", "debug"]
        service = ServiceProcess(argv, workdir / f"kill{attempt}.stdout", workdir / f"kill{attempt}.stderr", cwd=workdir)
        try:
            service.wait_for(r"export: uploaded$", timeout=60, what="the first upload")
            time.sleep(rng.uniform(0.0, 0.6))
            os.kill(service.pid, signal.SIGKILL)
            service.proc.wait(timeout=10)
            kills += 1
        finally:
            service.cleanup()
        con = sqlite3.connect(db)
        pending = con.execute("SELECT count(*) FROM export_outbox WHERE uploaded IS NULL").fetchone()[0]
        con.close()
        if pending == 0:
            break
    # Then once to the end.
    argv = [str(clemap_bin), "export", "flush", "--config", str(config), "--db", str(db)]
    final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr

    hours = stored_hours(offline_week["db"])
    versions = moto.versions("kill/")
    expected = {hour_key("SE-WEEK", h, prefix="kill/"): rows for h, rows in hours.items()}
    assert set(expected) <= set(versions), "an hour is missing"
    extra = set(versions) - set(expected)
    # The last hour of the copy was open in the week's run; a restarted service may close it with its own rows.
    assert all(k > max(expected) for k in extra), extra
    for key, rows in expected.items():
        assert moto.get(key) == csv_of(rows), f"{key}: not exactly the stored rows"
    repeated = sum(len(v) - 1 for v in versions.values())
    assert repeated <= kills, f"{repeated} repeated uploads for {kills} kills: only the one in flight may go twice"
    print(f"kill -9 x{kills} during the drain: {len(expected)} hours each exactly its rows; {repeated} uploads repeated (same bytes)")


def test_pyarrow_reads_the_lake_of_two_devices_with_hive_partitioning(moto, start_service, config_ini, workdir):
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as fs

    dbs = {}
    for serial, scenario_name in (("SE-A", "home-day"), ("SE-B", "balanced-resistive")):
        config = cloud_config(config_ini, workdir / f"{serial}.ini", endpoint=moto.url, bucket=moto.bucket, serial=serial,
                              credentials=moto.credentials)
        db = workdir / f"{serial}.db"
        service = start_service(db, config=config, speed=3000, duration=ending_mid_hour(3 * HOUR), scenario_name=scenario_name, name=serial)
        assert service.wait(timeout=60) == 0, service.describe()
        dbs[serial] = db

    s3 = fs.S3FileSystem(access_key=moto.credentials.access_key_id, secret_key=moto.credentials.secret_access_key,
                         endpoint_override=f"127.0.0.1:{moto.port}", scheme="http", region=moto.region)
    schema = pa.schema([(name, pa.int64() if name in ("time", "samples", "flags", "input_b") else pa.float64()) for name in METER_COLUMNS])
    partitioning = ds.partitioning(pa.schema([("device", pa.string()), ("date", pa.string()), ("hour", pa.string())]), flavor="hive")
    dataset = ds.dataset(f"{moto.bucket}/data/minutes", filesystem=s3, format="csv", schema=schema.append(pa.field("device", pa.string()))
                         .append(pa.field("date", pa.string())).append(pa.field("hour", pa.string())), partitioning=partitioning)
    table = dataset.to_table()
    assert table.schema.field("time").type == pa.int64() and table.schema.field("l1_p").type == pa.float64()
    got = sorted(zip(table.column("device").to_pylist(), table.column("time").to_pylist()))
    expected = sorted((serial, row[0]) for serial, db in dbs.items() for rows in stored_hours(db).values() for row in rows)
    assert got == expected, "every stored row of both devices exactly once"
    # Values as stored, through the engine's own CSV reader.
    con = sqlite3.connect(dbs["SE-A"])
    row = con.execute("SELECT time, l1_p, l2_v, freq FROM meter_data ORDER BY time LIMIT 1").fetchone()
    con.close()
    a = table.filter((ds.field("device") == "SE-A") & (ds.field("time") == row[0]))
    assert a.column("l1_p").to_pylist() == [row[1]] and a.column("l2_v").to_pylist() == [row[2]] and a.column("freq").to_pylist() == [row[3]]
    # Schema inference alone (no schema given) reads time as integers and powers as doubles too.
    inferred = ds.dataset(f"{moto.bucket}/data/minutes/device=SE-A", filesystem=s3, format="csv", partitioning="hive").to_table()
    assert inferred.schema.field("time").type == pa.int64() and inferred.schema.field("l1_p").type == pa.float64()


FIXTURES = Path(__file__).resolve().parents[2] / "Tests" / "KerasModelTests" / "Fixtures"


def test_models_from_the_bucket_good_served_without_a_gap_bad_refused_with_reasons(moto, start_service, config_ini, workdir, clemap_bin):
    """SageMaker-style keys under output/: a good model is fetched, checked and served; then a NaN model, a truncated
    archive, one with ../ paths, one with a symlink and one with a layer KerasModel does not compute, each newer,
    are refused with their reason while the good one keeps forecasting every minute."""
    config = cloud_config(config_ini, workdir / "config.ini", endpoint=moto.url, bucket=moto.bucket, serial="SE-M",
                          credentials=moto.credentials, extra={"poll_interval_sec": "300"})
    db = workdir / "meter.db"
    s3 = moto.client()
    service = start_service(db, config=config, speed=600, scenario_name="home-day")
    service.wait_for_rows(15, timeout=60)

    def offer(job: str, fixture: str) -> str:
        mark = len(service.lines)
        s3.put_object(Bucket=moto.bucket, Key=f"output/{job}/output/model.tar.gz", Body=(FIXTURES / fixture).read_bytes())
        _, line = service.wait_for(r"export: new model (served|refused)", timeout=60, what=f"the verdict on {fixture}", start=mark)
        return line.text

    served = offer("job-01", "sagemaker.tar.gz")
    assert "new model served" in served, served
    refusals = {
        "job-02": ("nan_model.tar", "NaN"),
        "job-03": ("bad_truncated.tar.gz", "cut short"),
        "job-04": ("bad_dotdot.tar.gz", ".."),
        "job-05": ("bad_symlink.tar.gz", "link"),
        "job-06": ("bad_layer_embedding.tar.gz", "Embedding"),
    }
    for job, (fixture, reason) in refusals.items():
        verdict = offer(job, fixture)
        assert "new model refused" in verdict and reason in verdict, f"{fixture}: {verdict}"
    service.wait_for_rows(len(service.stored_rows()) + 3, timeout=30)
    service.terminate()
    assert service.wait(timeout=30) == 0, service.describe()

    # The good model is the one installed and in use; each refusal is in the forecaster's events with its source.
    assert (workdir / "cloud-model.tar.gz").read_bytes() == (FIXTURES / "sagemaker.tar.gz").read_bytes()
    status = run_cli(clemap_bin, "forecast", "status", "--config", str(config), "--db", str(db), "--json")
    assert status.returncode == 0, status.stderr
    assert "job-01/output/model.tar.gz" in status.stdout and "job-06/output/model.tar.gz" in status.stdout, status.stdout
    con = sqlite3.connect(db)
    rejected = [d for (d,) in con.execute("SELECT detail FROM forecast_event WHERE kind = 'model_rejected' ORDER BY time, rowid")]
    assert len(rejected) == 5 and all(f"output/{job}/" in d for job, d in zip(refusals, rejected)), rejected
    # No gap: from its first forecast to the last row, the Keras model forecast every minute; the others never stopped.
    keras = [t for (t,) in con.execute("SELECT DISTINCT issued FROM forecast WHERE model = 'keras' ORDER BY issued")]
    issued = [t for (t,) in con.execute("SELECT DISTINCT issued FROM forecast WHERE model = 'persistence' ORDER BY issued")]
    con.close()
    assert keras and keras == [t for t in issued if t >= keras[0]], "a minute without a Keras forecast after the swap"
    assert issued == list(range(issued[0], issued[-1] + 60, 60))
