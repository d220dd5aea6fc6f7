# SPDX-License-Identifier: Apache-2.0
"""The service with its HTTP API on a free loopback port, and plain urllib requests against it.

    api = start_http(start_service, workdir, config_ini, token=TOKEN)
    status, headers, body = api.get("/api/v1/live")

Used by the HTTP API tests (test_http_*.py) and the dashboard test.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import ServiceProcess

#: A token of the length `openssl rand -hex 16` prints (the contract asks for at least 16 characters).
TOKEN = "3f2b8c1d9e7a4056b1c2d3e4f5a6b7c8"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def __iter__(self):  # status, headers, body = api.get(...)
        return iter((self.status, self.headers, self.body))

    def describe(self) -> str:
        return f"{self.status} {self.content_type!r} {self.body[:400]!r}"


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (closed again: the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(base: Path, dest: Path, port: int, *, token: str | None = None, bind: str | None = None,
                 enabled: bool | None = None, settings: dict[str, dict[str, str]] | None = None) -> Path:
    """A copy of `base` with [HTTP] port (and token, bind, enabled when given) set, and any other `settings`
    ({section: {key: value}}, e.g. {"FORECAST": {"enabled": "false"}})."""
    http = {"port": str(port)}
    if token is not None:
        http["token"] = token
    if bind is not None:
        http["bind"] = bind
    if enabled is not None:
        http["enabled"] = "true" if enabled else "false"
    text = base.read_text()
    for section, values in {**(settings or {}), "HTTP": {**(settings or {}).get("HTTP", {}), **http}}.items():
        text = set_keys(text, section, values)
    dest.write_text(text)
    return dest


def set_keys(text: str, section: str, values: dict[str, str]) -> str:
    """`text` (config.ini) with `key = value` set in [section]: a key's line replaced where it is, else added at the
    section's end; the section appended if missing (a second [HTTP] header would be an error)."""
    lines, current, done, out = text.splitlines(), None, set(), []

    def flush() -> None:
        if current == section:
            while out and not out[-1].strip():
                out.pop()
            out.extend(f"{k} = {v}" for k, v in values.items() if k not in done)
            out.append("")
            done.update(values)

    for line in lines:
        header = re.fullmatch(r"\[(.+)\]\s*", line)
        if header:
            flush()
            current = header.group(1)
        else:
            key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith(("#", ";")) else None
            if current == section and key in values:
                out.append(f"{key} = {values[key]}")
                done.add(key)
                continue
        out.append(line)
    flush()
    if current != section and not done:
        out += ["", f"[{section}]", *(f"{k} = {v}" for k, v in values.items())]
    return "\n".join(out) + "\n"


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10) -> Response:
    """One request to 127.0.0.1:port; 4xx and 5xx come back as a Response, not as an exception."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


@dataclass
class HTTPService:
    """The running service (conftest's ServiceProcess) and where its API listens."""

    service: ServiceProcess
    port: int
    config: Path
    db: Path
    token: str | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, token: str | None = None) -> Response:
        return request(self.port, "GET", path, headers=_auth(token))

    def post(self, path: str, body: Any, token: str | None = None) -> Response:
        """POSTs `body`: bytes as they are, anything else as JSON."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return request(self.port, "POST", path, data, {"Content-Type": "application/json", **_auth(token)})

    def json(self, path: str) -> Any:
        """GET that must answer 200 application/json; the parsed body."""
        r = self.get(path)
        assert r.status == 200 and r.content_type.startswith("application/json"), f"GET {path}: {r.describe()}"
        return r.json()

    def get_refused(self) -> bool:
        """True when nothing listens on the port any more."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return False
        except OSError:
            return True

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if not self.service.alive() or time.monotonic() > deadline:
                pytest.fail(f"waiting for {what}\n{self.service.describe()}", pytrace=False)
            time.sleep(0.05)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def wait_for_port(service: ServiceProcess, port: int, timeout: float = 30) -> None:
    """Until 127.0.0.1:port accepts a connection; fails early when the service exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if not service.alive() or time.monotonic() > deadline:
            state = "the service exited first" if not service.alive() else f"{timeout} s passed"
            pytest.fail(f"the HTTP API never answered on 127.0.0.1:{port}: {state}\n{service.describe()}", pytrace=False)
        time.sleep(0.02)


def start_http(start_service, workdir: Path, config_ini: Path, *, scenario_name: str = "home-day",
               speed: float = 600, token: str | None = TOKEN, db: Path | None = None,
               settings: dict[str, dict[str, str]] | None = None, name: str = "http", log_level: str | None = "debug",
               ) -> HTTPService:
    """Starts `clemap-edge run --simulate` with [HTTP] on a free loopback port and waits until the port answers.

    TMPDIR is the test's folder: a simulated run keeps its output states and spill files under $TMPDIR, and a
    test must not see another's.
    """
    port = free_port()
    config = write_config(config_ini, workdir / f"{name}.ini", port, token=token, settings=settings)
    db = db or workdir / f"{name}.db"
    env = {**os.environ, "TMPDIR": str(workdir)}
    service = start_service(db, scenario_name=scenario_name, speed=speed, config=config, name=name,
                            log_level=log_level, env=env)
    wait_for_port(service, port)
    return HTTPService(service, port, config, db, token)
