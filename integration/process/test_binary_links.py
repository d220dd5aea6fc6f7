# SPDX-License-Identifier: Apache-2.0
"""The binary links FoundationEssentials only: not libFoundation, not ICU.

Hummingbird's default trait `FullFoundation` (and swift-openapi-runtime's) would link libFoundation and ICU: +8 MiB
resident with the API off (docs/http-spike.md). Package.swift names hummingbird with `traits: []`; any package that
names it again without that turns the trait back on through trait unification. This catches it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def needed(binary: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], check=True, capture_output=True, text=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def test_only_foundation_essentials_is_linked(clemap_bin: Path):
    libraries = needed(clemap_bin)
    assert "libFoundationEssentials.so" in libraries, libraries
    forbidden = [name for name in libraries
                 if name in ("libFoundation.so", "libFoundationInternationalization.so", "libFoundationNetworking.so")
                 or "ICU" in name or name.startswith("libicu")]
    assert forbidden == [], f"{clemap_bin} links {forbidden}: a dependency turned a FullFoundation trait on (see Package.swift)"
    # libcurl is loaded with dlopen when the exporter first needs it, never linked (Sources/CCurl).
    assert not any(name.startswith("libcurl") for name in libraries), libraries
    # libmosquitto (and with it OpenSSL) likewise, when [MQTT] is enabled (Sources/MeterMQTT/Mosquitto).
    assert not any(name.startswith(("libmosquitto", "libssl", "libcrypto")) for name in libraries), libraries
