#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""moto's S3 server for S3ClientTests, run and prepared by the tests themselves.

    moto_s3.py serve -H 127.0.0.1 -p PORT    (environment: INITIAL_NO_AUTH_ACTION_COUNT=4, MOTO_S3_PARENT=<pid>)
        `python3 -m moto.server` with one correction: the signature is checked over the request's path and
        query exactly as sent. moto 5.2.1 checks it over werkzeug's `request.url`, which decodes `%3D` and
        `%2F` back to `=` and `/`, so every correctly signed request for a key with `=` or a list with a
        `prefix=data%2F` was refused with SignatureDoesNotMatch (boto3's too; likely moto issue #5948).
        AWS signs the URI-encoded form, as boto3 and our client send it.
        The server ends itself when its parent, the tests' process MOTO_S3_PARENT, is gone, or after
        MOTO_S3_LIFETIME seconds (default 10 minutes). integration/process/s3server.py starts it too.
        With MOTO_S3_TLS_DIR=<folder> it serves https with a self-signed certificate for 127.0.0.1 that it
        writes there as cert.pem.

    moto_s3.py setup URL BUCKET
        Creates an IAM user allowed s3:*, its access key and the bucket: the 4 requests the server lets pass
        unsigned. Then checks that a wrong secret is refused, or the tests of the client's signing would prove
        nothing. Prints the access key ID and the secret, one a line.

Exit status 1 with a message on stderr when moto, boto3 or the server is missing.
"""

import json
import os
import signal
import sys
import threading
import time

SETUP_CALLS = 4  # the server's INITIAL_NO_AUTH_ACTION_COUNT
REGION = "us-east-1"


def serve(arguments: list[str]) -> None:
    # Swift's Process starts us with the spawning thread's blocked signals, SIGTERM among them.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        import moto.server
        from werkzeug.sansio.request import Request
    except ImportError as error:
        sys.exit(f"moto_s3.py: {error}: install moto's server (python3 -m pip install 'moto[server]' boto3)")

    def raw_url(request: Request) -> str:
        # The dev server keeps the request line's target as RAW_URI: the path and query exactly as signed.
        raw = request.environ.get("RAW_URI")
        return f"{request.scheme}://{request.host}{raw}" if raw else original(request)

    original = Request.__dict__["url"].fget
    Request.url = property(raw_url)
    if os.environ.get("MOTO_S3_TLS_DIR"):
        arguments += self_signed(os.environ["MOTO_S3_TLS_DIR"])
    sys.argv = ["moto_server", *arguments]
    moto.server.main()


def self_signed(folder: str) -> list[str]:
    """A certificate for 127.0.0.1 and its key in `folder` (cert.pem, key.pem): moto's arguments to serve https."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    paths = [os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")]
    with open(paths[0], "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return ["-c", paths[0], "-k", paths[1]]


def watch_parent() -> None:
    """Ends the server when the tests that started it (MOTO_S3_PARENT, a process ID) are gone, even killed
    before this started, or after MOTO_S3_LIFETIME seconds (default 600)."""
    lifetime = float(os.environ.get("MOTO_S3_LIFETIME", "600"))
    parent, deadline = int(os.environ.get("MOTO_S3_PARENT", os.getppid())), time.monotonic() + lifetime
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.5)
    os._exit(0)


def client(service: str, url: str, key: str = "test", secret: str = "test"):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))


def setup(url: str, bucket: str) -> None:
    try:
        import botocore.exceptions
    except ImportError as error:
        sys.exit(f"moto_s3.py: {error}: install boto3 (python3 -m pip install 'moto[server]' boto3)")
    iam = client("iam", url)
    # The server may still be starting: a refused connection is no request, so the first call is retried.
    deadline = time.monotonic() + 20
    while True:
        try:
            iam.create_user(UserName="clemap-edge")  # 1
            break
        except botocore.exceptions.EndpointConnectionError:
            if time.monotonic() > deadline:
                sys.exit(f"moto_s3.py: no server answered at {url} within 20 s")
            time.sleep(0.1)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="clemap-edge", PolicyName="s3", PolicyDocument=json.dumps(policy))  # 2
    key = iam.create_access_key(UserName="clemap-edge")["AccessKey"]  # 3
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    client("s3", url, key_id, secret).create_bucket(Bucket=bucket)  # 4
    try:
        client("s3", url, key_id, secret + "x").head_bucket(Bucket=bucket)
        sys.exit(f"moto_s3.py: the server at {url} accepted a wrong secret; "
                 f"start it with INITIAL_NO_AUTH_ACTION_COUNT={SETUP_CALLS}")
    except botocore.exceptions.ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] != 403:
            raise
    print(key_id)
    print(secret)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "setup":
        setup(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
