# SPDX-License-Identifier: Apache-2.0
"""A real mosquitto broker on a free 127.0.0.1 port, and a paho-mqtt subscriber that records every message.

    broker = Broker(workdir)            # mosquitto -c <generated config>; stopped (and restartable on its port)
    sub = Recorder(broker.port)         # a persistent session (clean_session=False) subscribed to '#' at QoS 1
    sub.wait_for(lambda m: m.topic.endswith("/minute"), "a minute")
    broker.stop(); broker.start()       # a broker restart: same port, same persistence file

The broker keeps its state in a persistence file (retained messages, the recorder's session and the QoS 1 messages
queued for it while it is away), as a broker that Home Assistant or Node-RED uses would. Used by test_mqtt.py and
benchmarks/mqtt.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    """mosquitto on 127.0.0.1:<port> with a generated config; `stop()` and `start()` restart it on the same port."""

    def __init__(self, workdir: Path, port: int | None = None, extra: str = "", listener: str = "", anonymous: bool = True):
        if not os.access(MOSQUITTO, os.X_OK):
            raise RuntimeError(f"mosquitto not found at {MOSQUITTO}: apt-get install mosquitto (make test-process does)")
        self.port = port or free_port()
        self.folder = workdir / f"broker-{self.port}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            + listener
            + f"allow_anonymous {'true' if anonymous else 'false'}\n"
            # Started as root, mosquitto would switch to the user `mosquitto`, who cannot open the test's files.
            + ("user root\n" if os.geteuid() == 0 else "")
            + "persistence true\n"
            f"persistence_location {self.folder}/\n"
            # Queue for a persistent session without a limit (the default 1000 could cut a long backlog short).
            "max_queued_messages 0\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "connection_messages true\n"
            f"log_dest file {self.folder}/mosquitto.log\n"
            + extra
        )
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.start()

    def start(self, timeout: float = 10) -> None:
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        self.starts += 1
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.folder / f"stderr-{self.starts}.txt", "wb"))
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port}: {self.describe()}")
            time.sleep(0.02)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (mosquitto saves its persistence file and closes every connection) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    @property
    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def describe(self) -> str:
        tail = "\n".join("    " + line for line in self.log.splitlines()[-15:])
        return f"broker 127.0.0.1:{self.port} ({self.config}), log tail:\n{tail}"


@dataclass(frozen=True)
class Message:
    at: float  # time.monotonic() when it arrived
    topic: str
    payload: bytes
    retain: bool
    qos: int

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.payload)


class Recorder:
    """A paho-mqtt subscriber to `topic` (QoS 1) that keeps every message with its arrival time.

    A persistent session (clean_session=False, a fixed client id): while it is away (a broker restart) the broker
    queues QoS 1 messages for it, as it would for Home Assistant."""

    def __init__(self, port: int, topic: str = "#", client_id: str | None = None, persistent: bool = True,
                 host: str = "127.0.0.1", ca_file: Path | None = None, username: str | None = None, password: str | None = None):
        self.messages: list[Message] = []
        self.cond = threading.Condition()
        self.connects = 0
        self.topic = topic
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"recorder-{os.getpid()}-{id(self):x}",
                                  clean_session=not persistent)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        if ca_file:
            self.client.tls_set(ca_certs=str(ca_file))
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect(host, port, keepalive=10)
        self.client.loop_start()
        self.wait_connected()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(self.topic, qos=1)
        with self.cond:
            self.connects += 1
            self.cond.notify_all()

    def _on_message(self, client, userdata, message) -> None:
        m = Message(time.monotonic(), message.topic, bytes(message.payload), bool(message.retain), message.qos)
        with self.cond:
            self.messages.append(m)
            self.cond.notify_all()

    def wait_connected(self, count: int = 1, timeout: float = 10) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.connects >= count, timeout):
                raise TimeoutError(f"the recorder did not connect ({self.connects} connects)")

    def snapshot(self) -> list[Message]:
        with self.cond:
            return list(self.messages)

    def on(self, topic: str) -> list[Message]:
        return [m for m in self.snapshot() if m.topic == topic]

    def wait_for(self, predicate: Callable[[list[Message]], Any], what: str, timeout: float = 30,
                 alive: Callable[[], bool] | None = None, describe: Callable[[], str] | None = None) -> Any:
        """Waits until predicate(all messages so far) is truthy and returns its value; raises AssertionError (with
        `describe()`) after `timeout` or when `alive()` turns false."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(list(self.messages))
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (alive is not None and not alive()):
                    break
                self.cond.wait(min(remaining, 0.1))
        state = "the service exited first" if alive is not None and not alive() else f"{timeout} s passed"
        raise AssertionError(f"waiting for {what}: {state}; {len(self.messages)} messages recorded"
                             + ("\n" + describe() if describe else ""))

    def close(self) -> None:
        self.client.loop_stop()
        try:
            self.client.disconnect()
        except Exception:
            pass


def publish(port: int, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
    """One message from a short-lived client (a command, as Home Assistant sends it)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"publisher-{os.getpid()}-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()
