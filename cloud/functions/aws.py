# SPDX-License-Identifier: Apache-2.0
"""boto3 clients, one per service per Lambda container, kept across invocations (making one costs ~0.1 s).

The region and credentials are the session's: Lambda's environment, or AWS_ENDPOINT_URL and the like in tests.
"""

from __future__ import annotations

from typing import Any

import boto3

_made: dict[str, Any] = {}


def client(service: str) -> Any:
    if service not in _made:
        _made[service] = boto3.session.Session().client(service)
    return _made[service]


def forget() -> None:
    """Drops the clients made (the tests' new account or endpoint)."""
    _made.clear()
