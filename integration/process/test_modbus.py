# SPDX-License-Identifier: Apache-2.0
"""Modbus TCP against the running service on the simulator, with a real client (pymodbus) on loopback.

- Every register of the map decodes to what `clemap-edge read --json --simulate` shows for the same scenario (within
  the simulator's noise), in both word orders, through function 3 and 4, as whole blocks and value by value; the
  lifetime energy to the database's energy_totals (never less, also across a kill -9).
- The neutral current (19018) is the vector sum of the phase currents of an unbalanced load, computed here from the
  scenario file's currents and angles (scenarios/unbalanced-neutral.json).
- Exception codes for addresses outside the map, ranges that split a value, bad quantities, writes, other functions
  and another unit; writes to the outputs when `outputs_writable = true`.
- 50 concurrent clients for a few seconds while the service samples in real time, with half-frame clients stalling
  beside them: every request answered, the stalled ones dropped, one snapshot a second throughout. And a client that
  holds every connection the server allows cannot keep the others out for longer than the idle timeout.

The expected map is written out here, independently of Sources/MeterModbus; README.md's table is checked against it.
Figures (requests/s, latency, peak RSS) are printed (pytest -s); `make bench-modbus` measures the release build.
"""

from __future__ import annotations

import json
import math
import re
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import ModbusTcpClient

from conftest import REPO_ROOT, energy_totals
from httpservice import HTTPService, free_port, start_http, wait_for_port

PHASES = ("l1", "l2", "l3")
#: CLEMAP's documented holding registers (field-notes.md §1), float32 pairs.
CLEMAP = {19000: "l1_v", 19002: "l2_v", 19004: "l3_v", 19012: "l1_i", 19014: "l2_i", 19016: "l3_i", 19018: "n_i",
          19020: "l1_p", 19022: "l2_p", 19024: "l3_p", 19026: "total_p", 19028: "l1_s", 19030: "l2_s", 19032: "l3_s",
          19034: "total_s", 19036: "l1_q", 19038: "l2_q", 19040: "l3_q", 19042: "total_q"}
#: In the Janitza layout CLEMAP follows: V L1-L2, L2-L3, L3-L1. Not measured here: NaN.
NOT_MEASURED = {19006: "l12_v", 19008: "l23_v", 19010: "l31_v"}
#: clemap-edge's extras.
EXTRA_FLOAT32 = {20000: "freq", 20002: "l1_pf", 20004: "l2_pf", 20006: "l3_pf"}
TIME_REGISTER = 20008  # uint32
ENERGY_QUANTITIES = ("wh_imp", "wh_exp", "varh", "vah")  # energy_totals' columns, in this order
ENERGY = {20010 + 16 * q + 4 * n: (quantity, line)
          for q, quantity in enumerate(ENERGY_QUANTITIES) for n, line in enumerate((*PHASES, "total"))}  # float64
OUTPUTS = {20100: "a", 20101: "b"}  # uint16

ILLEGAL_FUNCTION, ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, BUSY, GATEWAY_TARGET = 1, 2, 3, 6, 0x0B


# MARK: - Helpers


def start_modbus(start_service, workdir: Path, config_ini: Path, *, scenario_name: str = "unbalanced-neutral",
                 speed: float = 600, modbus: dict[str, str] | None = None, log_level: str = "debug",
                 name: str = "modbus", db: Path | None = None) -> tuple[HTTPService, int]:
    """The service with [MODBUS] on a free loopback port (and [HTTP], for /api/v1/status); waits for both ports."""
    port = free_port()
    api = start_http(start_service, workdir, config_ini, scenario_name=scenario_name, speed=speed, log_level=log_level,
                     name=name, db=db, settings={"MODBUS": {"enabled": "true", "port": str(port), **(modbus or {})}})
    wait_for_port(api.service, port)
    return api, port


def client(port: int, timeout: float = 5) -> ModbusTcpClient:
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=timeout, retries=0)
    assert c.connect(), f"cannot connect to 127.0.0.1:{port}"
    return c


def registers(c: ModbusTcpClient, address: int, count: int, function: int = 3, unit: int = 1) -> list[int]:
    read = c.read_holding_registers if function == 3 else c.read_input_registers
    r = read(address, count=count, device_id=unit)
    assert not r.isError(), f"function {function} {address} x {count}: {r}"
    return r.registers


def exception_code(response: Any) -> int | None:
    return response.exception_code if response.isError() and hasattr(response, "exception_code") else None


def decode(c: ModbusTcpClient, words: list[int], kind: str, order: str) -> float | int:
    types = {"float32": c.DATATYPE.FLOAT32, "float64": c.DATATYPE.FLOAT64, "uint32": c.DATATYPE.UINT32}
    return c.convert_from_registers(words, data_type=types[kind], word_order=order)


def read_json(clemap_bin: Path, config: Path, scenario_path: Path) -> dict[str, Any]:
    """The second reading of `clemap-edge read --json --simulate` (the first has its energy counters at zero)."""
    done = subprocess.run([str(clemap_bin), "read", "--json", "--simulate", "--config", str(config), "--scenario",
                           str(scenario_path), "--count", "2", "--interval", "0.2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def vector_sum(scenario_path: Path) -> tuple[float, float]:
    """|Σ I∠θ| from the scenario file: phase N's voltage lags L1's by voltage_angle_deg (default 120·N), its current
    lags its voltage by angle_deg. Also the arithmetic sum, which it must not be."""
    phases = json.loads(scenario_path.read_text())["phases"]
    re_, im = 0.0, 0.0
    for n, p in enumerate(phases):
        angle = math.radians(p.get("voltage_angle_deg", 120 * n) + p.get("angle_deg", 0))
        re_ += p["current_a"] * math.cos(angle)
        im -= p["current_a"] * math.sin(angle)
    return math.hypot(re_, im), sum(p["current_a"] for p in phases)


def raw_request(port: int, frame: bytes, timeout: float = 3) -> bytes:
    """One hand-built frame (for what pymodbus refuses to send, e.g. a quantity of 0), the answer's bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(frame)
        head = _receive(s, 7)
        return head + _receive(s, struct.unpack(">H", head[4:6])[0] - 1)


def _receive(s: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = s.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def expected_value(key: str, reference: dict[str, Any]) -> float:
    if key.startswith("total_"):
        return sum(reference[f"{p}_{key[6:]}"] for p in PHASES)
    return reference[key]


def close_enough(key: str, got: float, want: float) -> bool:
    """Within the simulator's noise (±2 LSB on RMS and power codes) and float32's 24 bits."""
    if key.endswith("_pf"):
        return abs(got - want) <= 2e-3
    return abs(got - want) <= max(2e-3 * abs(want), 0.05)


# MARK: - Values


@pytest.mark.parametrize("order", ["big", "little"])
def test_every_register_decodes_to_what_read_json_shows(start_service, workdir, config_ini, clemap_bin, scenario, order):
    word_order = {"big": "big-endian", "little": "little-endian"}[order]
    api, port = start_modbus(start_service, workdir, config_ini, modbus={"word_order": word_order})
    api.service.wait_for_rows(2, timeout=60)
    reference = read_json(clemap_bin, api.config, scenario("unbalanced-neutral"))
    c = client(port)
    try:
        before = api.json("/api/v1/status")["time"]
        blocks = {function: {19000: registers(c, 19000, 44, function), 20000: registers(c, 20000, 74, function)}
                  for function in (3, 4)}
        after = api.json("/api/v1/status")["time"]
        problems = []

        def check(key: str, got: float, where: str) -> None:
            want = expected_value(key, reference)
            if not close_enough(key, got, want):
                problems.append(f"{where} {key}: modbus {got!r}, read --json {want!r}")

        for function, block in blocks.items():
            for address, key in CLEMAP.items():
                check(key, decode(c, block[19000][address - 19000:address - 19000 + 2], "float32", order), f"fc{function} {address}")
            for address in NOT_MEASURED:
                value = decode(c, block[19000][address - 19000:address - 19000 + 2], "float32", order)
                if not math.isnan(value):
                    problems.append(f"fc{function} {address}: {value!r}, not NaN (not measured)")
            for address, key in EXTRA_FLOAT32.items():
                check(key, decode(c, block[20000][address - 20000:address - 20000 + 2], "float32", order), f"fc{function} {address}")
            t = decode(c, block[20000][8:10], "uint32", order)
            if not before - 60 <= t <= after + 1:  # at 600x a request takes simulated seconds
                problems.append(f"fc{function} 20008 time {t} outside [{before - 60}, {after + 1}]")
        # Value by value: every register of the map read on its own (function 3).
        for address, key in {**CLEMAP, **EXTRA_FLOAT32}.items():
            check(key, decode(c, registers(c, address, 2), "float32", order), f"single {address}")
        assert not problems, "\n".join(problems)
    finally:
        c.close()


def test_the_neutral_current_is_the_vector_sum_for_an_unbalanced_load(start_service, workdir, config_ini, scenario):
    expected, arithmetic = vector_sum(scenario("unbalanced-neutral"))
    assert abs(expected - arithmetic) > 10, "the scenario must tell a vector sum from an arithmetic one"
    api, port = start_modbus(start_service, workdir, config_ini, speed=1)
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    c = client(port)
    try:
        for _ in range(3):  # three snapshots, a second apart
            neutral = decode(c, registers(c, 19018, 2), "float32", "big")
            # 0.5 %: the calibration residuals of three channels, the RMS noise and float32.
            assert abs(neutral - expected) <= 0.005 * expected, f"19018 = {neutral} A, vector sum {expected:.4f} A"
            live = api.json("/api/v1/live")
            assert abs(live["n_i"] - expected) <= 0.005 * expected, f"/api/v1/live n_i = {live['n_i']} A, vector sum {expected:.4f} A"
            time.sleep(1)
        print(f"\nneutral current {neutral:.4f} A, vector sum from the scenario {expected:.4f} A, arithmetic sum {arithmetic} A")
    finally:
        c.close()


def test_lifetime_energy_is_the_stores_and_never_goes_down_across_kill_9(start_service, workdir, config_ini):
    api, port = start_modbus(start_service, workdir, config_ini)
    api.service.wait_for_rows(5, timeout=60)

    def energies(c: ModbusTcpClient) -> dict[int, float] | None:
        r = c.read_holding_registers(20010, count=64, device_id=1)
        if exception_code(r) == BUSY:
            return None
        assert not r.isError(), r
        return {a: decode(c, r.registers[a - 20010:a - 20006], "float64", "big") for a in ENERGY}

    def db_value(totals: dict[int, tuple], address: int) -> float:
        quantity, line = ENERGY[address]
        k = ENERGY_QUANTITIES.index(quantity)
        return sum(totals[n][k] for n in (1, 2, 3)) if line == "total" else totals[PHASES.index(line) + 1][k]

    c = client(port)
    try:
        # The cache is read again within a second of every stored row: between the store 2.2 s earlier and now.
        early = energy_totals(api.db)
        time.sleep(2.2)
        got = energies(c)
        late = energy_totals(api.db)
        assert got is not None
        # Net reactive energy falls on a capacitive phase (L3 here): the bounds are the two reads, in either order.
        bounds = {a: sorted((db_value(early, a), db_value(late, a))) for a in ENERGY}
        problems = [f"{a} {ENERGY[a]}: modbus {got[a]!r} outside the store's {bounds[a]!r}"
                    for a in ENERGY if not bounds[a][0] - 1e-9 <= got[a] <= bounds[a][1] + 1e-9]
        assert not problems, "\n".join(problems)
        assert got[20022] > 0 and got[20070] > 0, f"no energy counted: {got}"
        # kill -9 and a start on the same database: an answer is BUSY until the store is read, never less than before.
        highest = energies(c)
        assert highest is not None
    finally:
        c.close()
    api.service.kill9()
    api.service.wait()
    restarted, port2 = start_modbus(start_service, workdir, config_ini, db=api.db, name="restarted")
    c = client(port2)
    try:
        answers, deadline = [], time.monotonic() + 5
        while time.monotonic() < deadline:
            got = energies(c)
            answers.append("busy" if got is None else "values")
            if got is not None:
                # Import, export and apparent energy only ever grow (net varh may fall: a capacitive phase).
                lower = {a: got[a] for a in ENERGY if ENERGY[a][0] != "varh" and got[a] < highest[a] - 1e-9}
                assert not lower, f"energy went down after kill -9: {lower} (before: { {a: highest[a] for a in lower} })"
                if len([x for x in answers if x == "values"]) >= 3:
                    break
            time.sleep(0.2)
        assert "values" in answers, f"no energy answered after the restart: {answers}"
        print(f"\nafter kill -9: {answers.count('busy')} busy answers, then {answers.count('values')} with values >= before "
              f"(total import {highest[20022]:.3f} Wh before the kill)")
    finally:
        c.close()


# MARK: - Exceptions and writes


def test_exception_codes_for_bad_addresses_quantities_writes_functions_and_units(start_service, workdir, config_ini):
    api, port = start_modbus(start_service, workdir, config_ini)
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    c = client(port)
    try:
        problems = []

        def expect(what: str, response: Any, code: int) -> None:
            if exception_code(response) != code:
                problems.append(f"{what}: {response}, expected exception {code:02X}")

        # Outside the map, past its end, CLEMAP's load-management write registers (no load management here), gaps.
        for address, count in [(0, 1), (18999, 2), (19044, 2), (19050, 2), (19056, 2), (19042, 4), (20074, 2),
                                (20098, 2), (20102, 1), (65534, 2), (30000, 10)]:
            expect(f"read {address} x {count}", c.read_holding_registers(address, count=count, device_id=1), ILLEGAL_DATA_ADDRESS)
            expect(f"read input {address} x {count}", c.read_input_registers(address, count=count, device_id=1), ILLEGAL_DATA_ADDRESS)
        # Splitting a value (a pair read one register late, or half of it).
        for address, count in [(19001, 2), (19000, 1), (19000, 3), (20009, 2), (20010, 2), (20012, 4)]:
            expect(f"read {address} x {count}", c.read_holding_registers(address, count=count, device_id=1), ILLEGAL_DATA_ADDRESS)
        # Writes: nothing is writable by default (02), whatever the address.
        expect("write 19000", c.write_register(19000, 1, device_id=1), ILLEGAL_DATA_ADDRESS)
        expect("write multiple 19000", c.write_registers(19000, [1, 2], device_id=1), ILLEGAL_DATA_ADDRESS)
        expect("write 20100 (outputs not writable)", c.write_register(20100, 1, device_id=1), ILLEGAL_DATA_ADDRESS)
        expect("write 19050 (CLEMAP's load management)", c.write_register(19050, 1, device_id=1), ILLEGAL_DATA_ADDRESS)
        # Functions this server does not implement: 01.
        expect("read coils", c.read_coils(0, count=1, device_id=1), ILLEGAL_FUNCTION)
        expect("read discrete inputs", c.read_discrete_inputs(0, count=1, device_id=1), ILLEGAL_FUNCTION)
        expect("write coil", c.write_coil(0, True, device_id=1), ILLEGAL_FUNCTION)
        expect("read/write registers (23)", c.readwrite_registers(read_address=19000, read_count=2, write_address=20100,
                                                                  values=[1], device_id=1), ILLEGAL_FUNCTION)
        # Another unit: 0B; units 0 and 255 are this one.
        expect("unit 9", c.read_holding_registers(19000, count=2, device_id=9), GATEWAY_TARGET)
        for unit in (0, 1, 255):
            if c.read_holding_registers(19000, count=2, device_id=unit).isError():
                problems.append(f"unit {unit} refused")
        # Quantities pymodbus will not send: 0 and 126 registers (03), by hand.
        for count in (0, 126):
            answer = raw_request(port, struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 19000, count))
            if answer[7:] != bytes([0x83, ILLEGAL_DATA_VALUE]):
                problems.append(f"read 19000 x {count}: {answer.hex()}, expected exception 03")
        # The connection is still in step after all of that.
        assert len(registers(c, 19000, 44)) == 44
        assert not problems, "\n".join(problems)
    finally:
        c.close()


def test_outputs_are_written_only_when_writable(start_service, workdir, config_ini):
    api, port = start_modbus(start_service, workdir, config_ini, modbus={"outputs_writable": "true"})
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    c = client(port)
    try:
        assert registers(c, 20100, 2) == [0, 0], "both outputs start off"
        assert not c.write_register(20100, 1, device_id=1).isError()
        assert registers(c, 20100, 2) == [1, 0]
        assert api.json("/api/v1/status")["outputs"] == {"a": True, "b": False}
        assert not c.write_registers(20100, [0, 1], device_id=1).isError()
        assert registers(c, 20100, 2) == [0, 1]
        assert api.json("/api/v1/status")["outputs"] == {"a": False, "b": True}
        assert exception_code(c.write_register(20100, 2, device_id=1)) == ILLEGAL_DATA_VALUE
        assert exception_code(c.write_register(19000, 1, device_id=1)) == ILLEGAL_DATA_ADDRESS
        assert exception_code(c.write_registers(20101, [1, 1], device_id=1)) == ILLEGAL_DATA_ADDRESS  # 20102 is not an output
        assert registers(c, 20100, 2) == [0, 1], "a refused write changed an output"
    finally:
        c.close()


# MARK: - Load, slow and hostile clients


CLIENTS = 50
LOAD_SECONDS = 5


def test_50_clients_and_stalled_half_frames_while_sampling_in_real_time(start_service, workdir, config_ini):
    # info, as in production: a debug line per request would load the service with our own log reading.
    api, port = start_modbus(start_service, workdir, config_ini, speed=1, log_level="info")
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    time.sleep(1.5)  # a few undisturbed snapshots first

    stop = threading.Event()
    lock = threading.Lock()
    results: list[tuple[int, int, float]] = []  # (requests, errors, worst latency) per client
    live_times: list[float] = []
    stalled: list[tuple[float, float | None]] = []  # (started, seconds until the server closed it)

    def worker(n: int) -> None:
        count = errors = 0
        worst = 0.0
        c = client(port)
        try:
            while not stop.is_set():
                t0 = time.monotonic()
                address, length = ((19000, 44), (20000, 74), (19018, 2))[(n + count) % 3]
                r = c.read_holding_registers(address, count=length, device_id=1)
                worst = max(worst, time.monotonic() - t0)
                count += 1
                errors += r.isError() or len(r.registers) != length
        except Exception:  # a dropped connection counts as an error
            errors += 1
        finally:
            c.close()
            with lock:
                results.append((count, errors, worst))

    def watch_grid() -> None:
        while not stop.is_set():
            t = api.json("/api/v1/live")["time"]
            if not live_times or t != live_times[-1]:
                live_times.append(t)
            time.sleep(0.2)

    def stall() -> None:
        # Half a request (5 of its 12 bytes), then silence, until the server closes the connection.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            started = time.monotonic()
            s.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 19000, 2)[:5])
            try:
                closed = time.monotonic() - started if s.recv(1) == b"" else None
            except OSError:
                closed = None
            with lock:
                stalled.append((started, closed))

    status_before, t0 = api.json("/api/v1/status"), time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)] + [threading.Thread(target=watch_grid)]
    for t in threads:
        t.start()
    stallers = []
    for _ in range(LOAD_SECONDS):
        time.sleep(1)
        stallers.append(threading.Thread(target=stall))
        stallers[-1].start()
    stop.set()
    for t in threads + stallers:
        t.join(15)
    status_after, t1 = api.json("/api/v1/status"), time.monotonic()
    from wrk import peak_rss_kib

    requests = sum(r[0] for r in results)
    print(f"\n{CLIENTS} pymodbus clients, {t1 - t0:.1f} s: {requests} requests, {requests / (t1 - t0):.0f}/s "
          f"(the Python clients are the limit; make bench-modbus measures the server), worst latency "
          f"{max(r[2] for r in results) * 1000:.1f} ms; stalled half frames closed after "
          f"{', '.join(f'{s[1]:.2f}' if s[1] is not None else 'never' for s in stalled)} s; "
          f"peak RSS {peak_rss_kib(api.service.pid) / 1024:.1f} MiB")
    assert len(results) == CLIENTS and all(r[1] == 0 for r in results), f"errors: {[r for r in results if r[1]]}"
    assert all(r[0] > 0 for r in results), "a client was never served"
    assert max(r[2] for r in results) < 1.0, f"a request waited {max(r[2] for r in results):.2f} s"
    assert len(stalled) == LOAD_SECONDS and all(s[1] is not None and s[1] < 2 for s in stalled), f"stalled: {stalled}"

    # One snapshot a second across the load (±1.5 for where the two status reads fall between ticks), and no tick
    # missing among the live readings seen during it.
    snapshots = status_after["chip"]["snapshots"] - status_before["chip"]["snapshots"]
    assert abs(snapshots - (t1 - t0)) <= 1.5, f"{snapshots} snapshots in {t1 - t0:.2f} s of load"
    gaps = [b - a for a, b in zip(live_times, live_times[1:])]
    assert gaps and all(0.5 < g < 1.5 for g in gaps), f"readings during the load were not a second apart: {gaps}"

    # SIGTERM with 10 clients still reading: a clean stop (exit 0) that closes their connections and the port.
    stop.clear()
    results.clear()
    readers = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in readers:
        t.start()
    time.sleep(1)
    stopped_at = time.monotonic()
    api.service.terminate()
    assert api.service.wait(timeout=25) == 0, api.service.describe()
    stop.set()
    for t in readers:
        t.join(15)
    print(f"SIGTERM with 10 clients reading: exit 0 after {time.monotonic() - stopped_at:.2f} s")
    assert "Modbus TCP stopped" in api.service.stderr_text, api.service.describe()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_client_holding_every_connection_keeps_the_others_out_only_until_the_idle_timeout(start_service, workdir, config_ini):
    api, port = start_modbus(start_service, workdir, config_ini, speed=1, modbus={"max_clients": "8", "idle_timeout_sec": "2"},
                             log_level="info")
    api.wait_until("the first reading", lambda: api.get("/api/v1/live").status == 200)
    before, t0 = api.json("/api/v1/status"), time.monotonic()
    hogs = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
    try:
        time.sleep(0.3)
        # The ninth is closed at once (EOF, or a reset), without waiting for anything.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            started = time.monotonic()
            try:
                closed = extra.recv(1) == b""
            except ConnectionResetError:
                closed = True
            assert closed and time.monotonic() - started < 1, "a connection beyond max_clients was kept open"
        # The hogs send nothing: closed after the idle timeout; then everyone is served again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                c = client(port, timeout=1)
                if not c.read_holding_registers(19000, count=2, device_id=1).isError():
                    c.close()
                    break
                c.close()
            except Exception:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("still refused 5 s after the idle connections should have been closed")
        waited = time.monotonic() - t0
        assert 1.5 < waited < 4, f"served again after {waited:.1f} s (idle timeout 2 s)"
        for hog in hogs:
            hog.settimeout(1)
            assert hog.recv(1) == b"", "an idle connection was not closed"
    finally:
        for hog in hogs:
            hog.close()
    after, t1 = api.json("/api/v1/status"), time.monotonic()
    assert abs(after["chip"]["snapshots"] - before["chip"]["snapshots"] - (t1 - t0)) <= 1.5


# MARK: - The documentation


def test_the_readme_documents_exactly_this_map():
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Modbus TCP", 1)[1].split("\n## ", 1)[0]
    documented = {int(a) for a in re.findall(r"^\| (\d{5}) \|", section, re.M)}
    served = set(CLEMAP) | set(NOT_MEASURED) | set(EXTRA_FLOAT32) | {TIME_REGISTER} | set(ENERGY) | set(OUTPUTS)
    assert documented == served, f"README only: {sorted(documented - served)}, map only: {sorted(served - documented)}"


def test_a_taken_port_is_logged_naming_the_key_and_metering_goes_on(start_service, workdir, config_ini):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        taken = holder.getsockname()[1]
        api = start_http(start_service, workdir, config_ini, scenario_name="unbalanced-neutral",
                         settings={"MODBUS": {"enabled": "true", "port": str(taken)}})
        api.service.wait_for(r"Modbus TCP cannot listen", 20, "the error about the taken port")
        line = next(l.text for l in api.service.lines if "Modbus TCP cannot listen" in l.text)
        assert f"[MODBUS] port {taken}" in line and "another process holds the port" in line, line
        api.service.wait_for_rows(2, timeout=60)  # metering and storage go on
        assert api.service.alive()
