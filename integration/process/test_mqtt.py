# SPDX-License-Identifier: Apache-2.0
"""MQTT (issue 12) against a real mosquitto broker on loopback and a paho-mqtt subscriber.

Each test starts its own broker (mqttbroker.Broker: a free 127.0.0.1 port, a generated config, a persistence file)
and stops it at the end; the service runs `clemap-edge run --simulate` with [MQTT] on and [HTTP] off. At
--sim-speed 600 a simulated minute is 0.1 s, so six seconds without a broker are an hour of the meter's time.

What Home Assistant needs is asserted field by field on the discovery configs, and each value_template is rendered
with Jinja2 (as Home Assistant does) against the messages the meter really sent.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import jinja2
import pytest

from conftest import METER_COLUMNS, REPO_ROOT, ServiceProcess, count_lines, energy_totals, meter_rows
from httpservice import set_keys
from mqttbroker import Broker, Message, Recorder, publish

SERIAL = "SE0500TEST"
BASE = f"clemap/{SERIAL}"
DEVICE = f"clemap_{SERIAL}"
PREFIX = "homeassistant"
PHASES = ("l1", "l2", "l3")
#: The keys Home Assistant's energy sensors read from <base>/energy (Wh in the JSON, kWh after the template).
ENERGY_SENSORS = [f"{p}_{q}" for p in (*PHASES, "total") for q in ("wh_imp", "wh_exp")]
#: (key, device_class, unit, topic) of every sensor the meter announces (THD has no device class in Home Assistant).
SENSORS = (
    [(f"{p}_{q}", cls, unit, "state") for p in PHASES for q, cls, unit in (
        ("p", "power", "W"), ("q", "reactive_power", "var"), ("s", "apparent_power", "VA"),
        ("v", "voltage", "V"), ("i", "current", "A"), ("pf", "power_factor", None),
        ("vthd", None, "%"), ("ithd", None, "%"))]
    + [("freq", "frequency", "Hz", "state"), ("n_i", "current", "A", "state")]
    + [(key, "energy", "kWh", "energy") for key in ENERGY_SENSORS]
)
#: Energies that never go down: what Home Assistant's total_increasing sensors read, and the apparent energy.
MONOTONIC = ENERGY_SENSORS + [f"{p}_vah" for p in (*PHASES, "total")]


# MARK: - Helpers


def mqtt_config(config_ini: Path, dest: Path, port: int, **mqtt: str) -> Path:
    """The shipped config.ini with [MQTT] on (port, and any other key given), [HTTP] and [FORECAST] off and a serial."""
    text = config_ini.read_text()
    text = set_keys(text, "INFO", {"hw_serial": SERIAL})
    text = set_keys(text, "HTTP", {"enabled": "false"})
    text = set_keys(text, "FORECAST", {"enabled": "false"})
    text = set_keys(text, "MQTT", {"enabled": "true", "port": str(port), **mqtt})
    dest.write_text(text)
    return dest


def start(start_service, workdir: Path, config: Path, db: Path, *, scenario: str = "balanced-resistive", speed: float = 600,
          name: str, duration: float | None = None) -> ServiceProcess:
    """The service; TMPDIR is the test's folder (simulated outputs' state file, spill files)."""
    return start_service(db, scenario_name=scenario, speed=speed, config=config, name=name, duration=duration,
                         env={**os.environ, "TMPDIR": str(workdir)})


def minutes(messages: list[Message]) -> dict[int, dict]:
    return {m.json()["time"]: m.json() for m in messages if m.topic == f"{BASE}/minute"}


def render(template: str, payload: bytes) -> str:
    """A value_template rendered as Home Assistant does for an MQTT sensor: value_json is the parsed payload."""
    return jinja2.Environment().from_string(template).render(value_json=json.loads(payload), value=payload.decode())


def db_times(db: Path) -> list[int]:
    return sorted(meter_rows(db))


def describe(service: ServiceProcess, broker: Broker, recorder: Recorder) -> str:
    topics: dict[str, int] = {}
    for m in recorder.snapshot():
        topics[m.topic] = topics.get(m.topic, 0) + 1
    return (f"{service.describe()}\n  {broker.describe()}\n  messages by topic: "
            + ", ".join(f"{t} {n}" for t, n in sorted(topics.items()) if not t.startswith(PREFIX + "/")))


def assert_row_equals(message: dict, row: tuple, where: str) -> None:
    """A <base>/minute payload holds the stored row's every column, at full precision (null for NULL)."""
    assert set(message) == set(METER_COLUMNS), f"{where}: keys {sorted(set(message) ^ set(METER_COLUMNS))} differ from meter_data's"
    for name, value in zip(METER_COLUMNS, row):
        assert message[name] == value, f"{where}: {name} = {message[name]!r} in the message, {value!r} in meter_data"


@pytest.fixture
def broker(workdir: Path):
    b = Broker(workdir)
    yield b
    b.stop()


@pytest.fixture
def recorder(broker: Broker):
    r = Recorder(broker.port)
    yield r
    r.close()


# MARK: - Discovery, state, commands


def test_discovery_state_and_commands(start_service, workdir: Path, config_ini: Path, clemap_bin: Path, broker: Broker,
                                      recorder: Recorder):
    """One device in Home Assistant with every sensor it needs; the state equals `read --json` of the same scenario;
    outputs switch from a command topic and report back."""
    config = mqtt_config(config_ini, workdir / "mqtt.ini", broker.port, publish_interval_sec="1", commands="true")
    service = start(start_service, workdir, config, workdir / "live.db", scenario="pv-export-l2", name="live")
    why = lambda: describe(service, broker, recorder)  # noqa: E731
    recorder.wait_for(lambda ms: len([m for m in ms if m.topic == f"{BASE}/state"]) >= 20 and any(m.topic == f"{BASE}/energy" for m in ms)
                      and minutes(ms), "20 states, an energy message and a minute", alive=service.alive, describe=why)
    version = subprocess.run([str(clemap_bin), "--version"], capture_output=True, text=True, check=True).stdout.strip()

    # Retained: a subscriber that arrives later gets availability, every config and the energy at once.
    late = Recorder(broker.port, persistent=False, client_id="late-subscriber")
    try:
        retained = late.wait_for(lambda ms: [m for m in ms if m.retain] if len([m for m in ms if m.retain and m.topic.startswith(PREFIX + "/")])
                                 >= len(SENSORS) + 2 and any(m.retain and m.topic == f"{BASE}/energy" for m in ms) else None,
                                 "the retained configs", timeout=10, describe=why)
        live = late.snapshot()
    finally:
        late.close()
    by_topic = {m.topic: m for m in retained}
    assert by_topic[f"{BASE}/status"].text == "online"
    assert not [m for m in live if m.retain and m.topic in (f"{BASE}/state", f"{BASE}/minute")], "the state and the minutes are not retained"

    state = recorder.on(f"{BASE}/state")[-1]
    energy = by_topic[f"{BASE}/energy"]
    unique_ids = set()
    for key, device_class, unit, topic in SENSORS:
        where = f"sensor {key}"
        config_topic = f"{PREFIX}/sensor/{DEVICE}/{key}/config"
        assert config_topic in by_topic, f"{where}: no config at {config_topic}"
        c = by_topic[config_topic].json()
        assert isinstance(c["name"], str) and c["name"], where
        assert c["unique_id"] == f"{DEVICE}_{key}", where
        unique_ids.add(c["unique_id"])
        assert c["state_topic"] == f"{BASE}/{topic}", where
        assert c.get("device_class") == device_class, where
        assert c["state_class"] == ("total_increasing" if device_class == "energy" else "measurement"), where
        assert c.get("unit_of_measurement") == unit, where
        assert c["availability_topic"] == f"{BASE}/status", where
        assert (c["payload_available"], c["payload_not_available"]) == ("online", "offline"), where
        assert c["device"]["identifiers"] == [DEVICE], where
        assert c["device"]["manufacturer"] == "CLEMAP" and "ADE9000" in c["device"]["model"], where
        assert c["device"]["sw_version"] == version and c["device"]["serial_number"] == SERIAL, where
        assert c["origin"]["name"] == "clemap-edge", where
        # The template, rendered as Home Assistant renders it, gives the value in the sensor's unit.
        source = state if topic == "state" else energy
        rendered = float(render(c["value_template"], source.payload))
        expected = source.json()[key] / (1000 if unit == "kWh" else 1)
        assert math.isclose(rendered, expected, rel_tol=1e-12, abs_tol=1e-12), f"{where}: template gives {rendered}, payload {expected}"
    assert len(unique_ids) == len(SENSORS)
    for output in ("a", "b"):
        switch = by_topic[f"{PREFIX}/switch/{DEVICE}/output_{output}/config"].json()
        assert switch["unique_id"] == f"{DEVICE}_output_{output}"
        assert switch["command_topic"] == f"{BASE}/output/{output}/set"
        assert switch["state_topic"] == f"{BASE}/output/{output}/state"
        assert (switch["payload_on"], switch["payload_off"], switch["state_on"], switch["state_off"]) == ("ON", "OFF", "ON", "OFF")
        assert switch["availability_topic"] == f"{BASE}/status" and switch["device"]["identifiers"] == [DEVICE]
        # A switch needs a command topic; with commands = false the output is a binary_sensor instead, never both.
        stale = by_topic.get(f"{PREFIX}/binary_sensor/{DEVICE}/output_{output}/config")
        assert stale is None or stale.payload == b"", "the binary_sensor config of a switched output is removed"
        assert by_topic[f"{BASE}/output/{output}/state"].text == "OFF"

    # The state is the reading as `read --json` prints it: the same keys, the same values within the simulator's noise.
    read = subprocess.run([str(clemap_bin), "read", "--json", "--simulate", "--config", str(config), "--scenario",
                           str(REPO_ROOT / "scenarios" / "pv-export-l2.json"), "--count", "3", "--interval", "1"],
                          capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert read.returncode == 0, read.stderr[-2000:]
    reads = [json.loads(line) for line in read.stdout.splitlines() if line.strip()]
    states = [m.json() for m in recorder.on(f"{BASE}/state")[-10:]]
    assert set(states[-1]) - {"temp_c"} == set(reads[-1]) - {"temp_c"}, "state and read --json have the same keys"
    for key in [f"{p}_{q}" for p in PHASES for q in ("v", "i", "p", "q", "s", "pf")] + ["freq"]:
        ours = sum(s[key] for s in states) / len(states)
        theirs = sum(r[key] for r in reads) / len(reads)
        assert math.isclose(ours, theirs, rel_tol=0.002, abs_tol=0.02), f"{key}: state {ours}, read --json {theirs}"
    # L2 feeds in: negative power, export energy grows, import does not.
    assert states[-1]["l2_p"] < -4000 and energy.json()["l2_wh_exp"] > 0 and energy.json()["l2_wh_imp"] == 0

    # Commands: ON and OFF switch output A and come back on its state topic; anything else is refused and logged.
    state_topic = f"{BASE}/output/a/state"
    for payload, expected in (("ON", "ON"), ("off", "OFF")):
        before = len(recorder.on(state_topic))
        publish(broker.port, f"{BASE}/output/a/set", payload)
        got = recorder.wait_for(lambda ms: [m for m in ms if m.topic == state_topic][before:], f"output A after {payload}",
                                timeout=10, alive=service.alive, describe=why)
        assert got[-1].text == expected, got
        status = subprocess.run([str(clemap_bin), "output", "a", "status", "--simulate", "--config", str(config)],
                                capture_output=True, text=True, timeout=30, env={**os.environ, "TMPDIR": str(workdir)})
        assert f": {expected.lower()} (stored" in status.stdout, status.stdout + status.stderr
    publish(broker.port, f"{BASE}/output/a/set", "TOGGLE")
    service.wait_for(r"MQTT command on .*/output/a/set ignored: 'TOGGLE' is not ON or OFF", 10, "the refused command")

    service.terminate()
    assert service.wait(30) == 0, why()
    recorder.wait_for(lambda ms: ms[-1].topic == f"{BASE}/status" and ms[-1].text == "offline", "offline on a clean stop",
                      timeout=10, describe=why)
    assert "password" not in service.stderr_text.lower()


# MARK: - A broker outage of a simulated hour


def test_broker_down_for_a_simulated_hour_loses_no_minute(start_service, workdir: Path, config_ini: Path, broker: Broker,
                                                         recorder: Recorder):
    """The broker stops for 6 s (an hour of the meter's time at 600x) and comes back on the same port: the client
    reconnects by itself, logs the loss and the return once each, delivers every minute stored meanwhile, and the live
    state resumes."""
    config = mqtt_config(config_ini, workdir / "mqtt.ini", broker.port)
    db = workdir / "outage.db"
    service = start(start_service, workdir, config, db, name="outage")
    why = lambda: describe(service, broker, recorder)  # noqa: E731
    recorder.wait_for(lambda ms: len(minutes(ms)) >= 3, "three minutes", alive=service.alive, describe=why)

    broker.stop()
    stopped_at = time.monotonic()
    stored_before = len(db_times(db))
    time.sleep(6)
    stored_during = len(db_times(db)) - stored_before
    assert stored_during >= 50, f"only {stored_during} minutes stored while the broker was away: the outage is not an hour"
    state_before = max(m.json()["time"] for m in recorder.on(f"{BASE}/state"))
    broker.start()
    restarted_at = time.monotonic()

    _, back = service.wait_for(r"MQTT connection back", 20, "the reconnection")
    # Every row stored up to now arrives; the live state comes again, newer than any before the outage.
    target = db_times(db)
    recorder.wait_for(lambda ms: set(target) <= set(minutes(ms)), f"the {len(target)} minutes stored so far", timeout=20,
                      alive=service.alive, describe=why)
    recorder.wait_for(lambda ms: any(m.topic == f"{BASE}/state" and m.at > restarted_at and m.json()["time"] > state_before for m in ms),
                      "the live state after the restart", timeout=10, alive=service.alive, describe=why)

    service.terminate()
    assert service.wait(30) == 0, why()
    recorder.wait_for(lambda ms: ms[-1].topic == f"{BASE}/status" and ms[-1].text == "offline", "offline on a clean stop",
                      timeout=10, describe=why)
    rows = meter_rows(db)
    received = minutes(recorder.snapshot())
    missing = sorted(set(rows) - set(received))
    assert not missing, f"{len(missing)} stored minutes never reached the broker: {missing[:10]}"
    for t, row in rows.items():
        assert_row_equals(received[t], row, f"minute {t}")
    sent = [m.json()["time"] for m in recorder.on(f"{BASE}/minute")]
    duplicates = len(sent) - len(set(sent))
    # At least once: only minutes in flight when the broker went away may come twice.
    assert duplicates <= 32, f"{duplicates} minutes received twice"
    assert count_lines(service, r"MQTT connection lost") == 1, why()
    assert count_lines(service, r"MQTT connection back") == 1, why()
    assert count_lines(service, r"warning .*MQTT") == 1, "the outage is logged once, not at every attempt\n" + why()
    print(f"\nbroker outage: {stored_during} minutes stored while it was away, back {back.at - restarted_at:.2f} s after the "
          f"broker, {len(rows)} minutes stored, all received, {duplicates} twice; down {restarted_at - stopped_at:.1f} s")


def test_a_broker_that_starts_after_the_meter_gets_every_minute(start_service, workdir: Path, config_ini: Path):
    """No broker at the meter's start (the network or the broker boots later, IoTaWatt#291): the meter meters, says
    so once, connects when the broker appears and delivers the minutes stored before."""
    broker = None
    port = __import__("mqttbroker").free_port()
    config = mqtt_config(config_ini, workdir / "mqtt.ini", port)
    db = workdir / "late.db"
    service = start(start_service, workdir, config, db, name="late")
    try:
        service.wait_for(r"MQTT broker not reachable", 10, "the first failed attempt")
        service.wait_for_rows(20, 30)
        broker = Broker(workdir, port=port)
        recorder = Recorder(port)
        service.wait_for(r"MQTT connected after failed attempts", 20, "the connection")
        target = db_times(db)
        recorder.wait_for(lambda ms: set(target) <= set(minutes(ms)), f"the {len(target)} minutes stored before the broker",
                          timeout=20, alive=service.alive, describe=lambda: describe(service, broker, recorder))
        assert count_lines(service, r"MQTT broker not reachable") == 1, service.describe()
        recorder.close()
    finally:
        service.terminate()
        service.wait(30)
        if broker:
            broker.stop()


# MARK: - kill -9


def test_kill9_never_lowers_an_energy_sensor_and_the_will_says_offline(start_service, workdir: Path, config_ini: Path,
                                                                      broker: Broker, recorder: Recorder):
    """Two `kill -9`s at arbitrary moments and a restart after each: the Will publishes `offline` each time; no energy
    value Home Assistant reads ever goes down (the totals come from committed rows), and no stored minute is lost."""
    config = mqtt_config(config_ini, workdir / "mqtt.ini", broker.port)
    db = workdir / "kill.db"
    status = f"{BASE}/status"
    for run, wait_energy in enumerate((4, 3, 3)):
        service = start(start_service, workdir, config, db, scenario="pv-export-l2", name=f"kill{run}")
        why = lambda: describe(service, broker, recorder)  # noqa: E731
        seen = len(recorder.on(f"{BASE}/energy"))
        online_from = len(recorder.snapshot())
        recorder.wait_for(lambda ms: any(m.topic == status and m.text == "online" for m in ms[online_from:]), f"run {run} online",
                          alive=service.alive, describe=why)
        recorder.wait_for(lambda ms: len([m for m in ms if m.topic == f"{BASE}/energy"]) >= seen + wait_energy,
                          f"{wait_energy} energy messages in run {run}", alive=service.alive, describe=why)
        if run < 2:
            time.sleep((run + 1) * 0.137)  # an arbitrary moment within a minute of the meter's time
            mark = len(recorder.snapshot())
            killed_at = service.kill9()
            offline = recorder.wait_for(lambda ms: [m for m in ms[mark:] if m.topic == status and m.text == "offline"],
                                        "the Last Will's offline", timeout=10, describe=why)
            assert offline[0].at - killed_at < 5, f"the Will came {offline[0].at - killed_at:.1f} s after kill -9"
        else:
            service.terminate()
            assert service.wait(30) == 0, why()
            recorder.wait_for(lambda ms: ms[-1].topic == status and ms[-1].text == "offline", "offline on the stop", timeout=10)

    energies = [m.json() for m in recorder.on(f"{BASE}/energy")]
    assert len(energies) >= 10
    for key in MONOTONIC:
        values = [e[key] for e in energies]
        drops = [(i, a, b) for i, (a, b) in enumerate(zip(values, values[1:])) if b < a]
        assert not drops, f"{key} went down: {drops[:5]}"
    assert energies[-1]["l2_wh_exp"] > energies[len(energies) // 2]["l2_wh_exp"] > 0, "export energy grew across the kills"
    # The last energy message is the store's lifetime totals.
    totals = energy_totals(db)
    for n, p in enumerate(PHASES, start=1):
        assert math.isclose(energies[-1][f"{p}_wh_imp"], totals[n][0], rel_tol=0, abs_tol=1e-9)
        assert math.isclose(energies[-1][f"{p}_wh_exp"], totals[n][1], rel_tol=0, abs_tol=1e-9)
    missing = sorted(set(meter_rows(db)) - set(minutes(recorder.snapshot())))
    assert not missing, f"stored minutes never published across the kills: {missing[:10]}"


# MARK: - TLS and a password


def make_certificates(folder: Path) -> dict[str, Path]:
    """A test CA, a server certificate for localhost signed by it, and an unrelated CA (EC P-256: quick to make)."""
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"openssl {' '.join(args)}: {done.stderr}"

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=clemap-edge test CA")
    run("req", "-x509", *ec, "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=another CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
        "-days", "2", "-extfile", "san.cnf")
    return {name: folder / f"{name}.pem" for name in ("ca", "other-ca", "server")} | {"key": folder / "server.key"}


def test_tls_and_a_password(start_service, workdir: Path, config_ini: Path):
    """MQTT over TLS with a username and password: the broker's certificate is checked (a foreign CA is refused, said
    once with the fix), a wrong password is refused (said once, never shown) while metering goes on, and the right
    ones deliver the minutes."""
    certs = make_certificates(workdir / "certs")
    passwords = workdir / "passwords"
    secret = "c0rrect-h0rse-battery"
    done = subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "meter", secret], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    broker = Broker(workdir, anonymous=False, extra=f"password_file {passwords}\n",
                    listener=f"cafile {certs['ca']}\ncertfile {certs['server']}\nkeyfile {certs['key']}\n")
    recorder = None
    try:
        tls = {"host": "localhost", "tls": "true", "ca_file": str(certs["ca"]), "username": "meter"}
        cases = (("wrong-password", {**tls, "password": "wr0ng-s3cret"}, r"MQTT broker refuses the connection", "username and password"),
                 ("foreign-ca", {**tls, "ca_file": str(certs["other-ca"]), "password": secret}, r"MQTT: the TLS connection to the broker failed", "ca_file"))
        for name, settings, headline, fix in cases:
            config = mqtt_config(config_ini, workdir / f"{name}.ini", broker.port, **settings)
            service = start(start_service, workdir, config, workdir / f"{name}.db", name=name)
            _, line = service.wait_for(headline, 15, f"{name}: the refusal")
            assert fix in line.text, line.text
            service.wait_for_rows(10, 20)  # metering goes on
            service.terminate()
            assert service.wait(30) == 0, service.describe()
            assert count_lines(service, r"warning .*MQTT") == 1, service.describe()
            assert "wr0ng-s3cret" not in service.stderr_text and secret not in service.stderr_text

        recorder = Recorder(broker.port, host="localhost", ca_file=certs["ca"], username="meter", password=secret)
        config = mqtt_config(config_ini, workdir / "right.ini", broker.port, **tls, password=secret)
        db = workdir / "right.db"
        service = start(start_service, workdir, config, db, name="right")
        _, line = service.wait_for(r"MQTT connected", 15, "the TLS connection")
        assert "mqtts://localhost:" in line.text, line.text
        recorder.wait_for(lambda ms: len(minutes(ms)) >= 5, "five minutes over TLS", alive=service.alive,
                          describe=lambda: describe(service, broker, recorder))
        service.terminate()
        assert service.wait(30) == 0, service.describe()
        assert secret not in service.stderr_text
        recorder.wait_for(lambda ms: ms[-1].topic == f"{BASE}/status" and ms[-1].text == "offline", "offline", timeout=10)
        assert set(db_times(db)) <= set(minutes(recorder.snapshot()))
    finally:
        if recorder:
            recorder.close()
        broker.stop()


def test_the_readmes_node_red_flow_takes_the_minute_topic():
    """The README's Node-RED example imports (valid JSON) and listens where the meter publishes its minutes."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("### Node-RED"):]
    block = section[section.index("```json\n") + len("```json\n"):]
    flow = json.loads(block[:block.index("\n```")])
    nodes = {node["id"]: node for node in flow}
    listener = next(node for node in flow if node["type"] == "mqtt in")
    assert re.fullmatch(r"clemap/[^/+#]+/minute", listener["topic"]) and listener["datatype"] == "json" and listener["qos"] == "1"
    assert nodes[listener["broker"]]["type"] == "mqtt-broker" and nodes[listener["broker"]]["cleansession"] is False
    function = nodes[listener["wires"][0][0]]
    assert function["type"] == "function" and all(f"m.{p}_p" in function["func"] for p in PHASES)
    assert all(nodes[target]["type"] == "debug" for target in function["wires"][0])
