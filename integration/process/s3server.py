# SPDX-License-Identifier: Apache-2.0
"""A real S3 API on loopback for the exporter's tests: moto's server (through Tests/S3ClientTests/moto_s3.py), with
signatures checked.

moto checks SigV4 signatures once `INITIAL_NO_AUTH_ACTION_COUNT` unauthenticated requests are spent: the harness
spends them creating an IAM user, its access key and the bucket (versioned, so that every PUT of a key is a version
and "exactly once" can be counted). The service talks to the server through a `Relay` (a loopback TCP relay), whose
listener the tests stop and start: moto keeps buckets and users only in memory, so stopping moto itself would lose
them; a stopped listener is what a client of a stopped server sees (connection refused).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Unauthenticated requests moto allows before it checks signatures (the set-up below uses exactly these), and three
#: more for each further user.
SETUP_REQUESTS = 5

#: moto's server, with its signature check over the path and query as sent (as AWS signs them): moto 5.2.1 checks
#: it over the decoded URL, so a correctly signed request for a key with `=` fails there (see the file).
MOTO_S3 = Path(__file__).resolve().parents[2] / "Tests" / "S3ClientTests" / "moto_s3.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str


class MotoServer:
    """moto's S3 server on 127.0.0.1, with an IAM user allowed its bucket and one versioned bucket.

    `users` adds IAM users, each allowed the actions given (on any resource): `self.users[name]` are their
    credentials. moto checks every later request's signature and the signer's policy, for every service it serves.
    """

    def __init__(self, workdir: Path, bucket: str = "clemap-lake", region: str = "us-east-1",
                 users: dict[str, list[str]] | None = None):
        try:
            import boto3  # noqa: F401
            import moto.server  # noqa: F401
        except ImportError as error:
            pytest.fail(f"moto's server or boto3 is missing ({error}); install them: pip install 'moto[server]' boto3", pytrace=False)
        self.bucket = bucket
        self.region = region
        self.port = free_port()
        self.log_path = workdir / f"moto-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self._users = users or {}
        self.users: dict[str, Credentials] = {}
        setup_requests = SETUP_REQUESTS + 3 * len(self._users)
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(setup_requests), AWS_DEFAULT_REGION=region,
                   MOTO_S3_PARENT=str(os.getpid()), MOTO_S3_LIFETIME="3600")
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.pop(key, None)
        self.proc = subprocess.Popen(
            [sys.executable, str(MOTO_S3), "serve", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        try:
            _wait_listening(self.port, 30, self.proc)
            self.credentials = self._set_up()
        except Exception:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _set_up(self) -> Credentials:
        import boto3

        anonymous = dict(endpoint_url=self.url, region_name=self.region, aws_access_key_id="setup", aws_secret_access_key="setup")
        iam = boto3.client("iam", **anonymous)
        iam.create_user(UserName="meter")  # 1
        # What a meter needs, and no more: read and write its bucket.
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetObjectVersion",
                                          "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:HeadObject"],
            "Resource": [f"arn:aws:s3:::{self.bucket}", f"arn:aws:s3:::{self.bucket}/*"]}]}
        iam.put_user_policy(UserName="meter", PolicyName="meter-bucket", PolicyDocument=json.dumps(policy))  # 2
        key = iam.create_access_key(UserName="meter")["AccessKey"]  # 3
        credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        s3 = boto3.client("s3", **anonymous)
        s3.create_bucket(Bucket=self.bucket)  # 4
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})  # 5
        for name, actions in self._users.items():
            iam.create_user(UserName=name)
            document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            iam.put_user_policy(UserName=name, PolicyName=f"{name}-actions", PolicyDocument=json.dumps(document))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            self.users[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        # From here on every request is signed and checked.
        self.client(credentials).list_objects_v2(Bucket=self.bucket, MaxKeys=1)
        return credentials

    def client(self, credentials: Credentials | None = None):
        """A boto3 S3 client signing with `credentials` (default: the user's)."""
        import boto3

        from botocore.config import Config

        c = credentials or self.credentials
        # boto3's default streaming checksums (aws-chunked) are signed in a way moto's check does not follow.
        config = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")
        return boto3.client("s3", endpoint_url=self.url, region_name=self.region, config=config,
                            aws_access_key_id=c.access_key_id, aws_secret_access_key=c.secret_access_key)

    def versions(self, prefix: str = "") -> dict[str, list[dict]]:
        """Every version of every key under `prefix`, oldest first per key."""
        out: dict[str, list[dict]] = {}
        for page in self.client().get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                out.setdefault(version["Key"], []).append(version)
        for versions in out.values():
            versions.sort(key=lambda v: v["LastModified"])
        return out

    def get(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Relay:
    """A loopback TCP relay in front of the server, whose listener can be stopped (connection refused) and started
    again on the same port, while the server behind it keeps its state."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Closes the listener and every open connection: new connections are refused."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for connection in connections:
            try:
                connection.close()
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._connections.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)


def cloud_config(base: Path, out: Path, *, endpoint: str, bucket: str, serial: str, credentials: Credentials | None,
                 extra: dict[str, str] | None = None, forecast: dict[str, str] | None = None) -> Path:
    """calibration/config.ini with `[INFO] hw_serial` and a `[CLOUD]` section pointing at `endpoint`."""
    text = base.read_text()
    lines = text.splitlines()
    result: list[str] = []
    section = ""
    values = {
        "enabled": "true", "bucket": bucket, "region": "us-east-1", "endpoint": endpoint, "path_style": "true",
        "access_key_id": credentials.access_key_id if credentials else "",
        "secret_access_key": credentials.secret_access_key if credentials else "",
        "poll_interval_sec": "600",
    }
    values.update(extra or {})
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else None
        if section == "INFO" and key == "hw_serial":
            line = f"hw_serial = {serial}"
        elif section == "CLOUD" and key in values:
            line = f"{key} = {values.pop(key)}"
        elif section == "FORECAST" and forecast and key in forecast:
            line = f"{key} = {forecast.pop(key)}"
        result.append(line)
    assert not values, f"keys not in [CLOUD] of {base}: {values}"
    assert not forecast, f"keys not in [FORECAST] of {base}: {forecast}"
    out.write_text("\n".join(result) + "\n")
    return out
