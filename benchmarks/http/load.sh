#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The HTTP API under wrk on loopback while the service samples in real time: req/s and p50/p90/p99 of
# /api/v1/live and /metrics, the service's peak RSS under load against the same service with [HTTP] off.
# A benchmark, not a test: it prints figures and exits 0 unless a step could not run. See benchmarks/README.md.
#
# Usage: bash benchmarks/http/load.sh          (make bench-http)
# Environment: BENCH_HTTP_SECONDS (wrk's duration per route, 10), BENCH_HTTP_CONNECTIONS (16), BENCH_HTTP_THREADS (2),
#              BENCH_SCRATCH (.build-bench), BENCH_SKIP_BUILD=1, BENCH_KEEP=1 (keep the work folder: configs, logs, databases).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NAME=bench-http
source benchmarks/lib/release.sh

command -v wrk >/dev/null || { say "ERROR: wrk not found (apt-get install wrk; make test-process installs it)"; exit 1; }
python3 -c 'import pytest' >/dev/null 2>&1 || python3 -m pip install -q pytest >&2

build_release

python3 benchmarks/http/load.py --bin "$BIN" --out "$OUT" --seconds "${BENCH_HTTP_SECONDS:-10}" \
    --threads "${BENCH_HTTP_THREADS:-2}" --connections "${BENCH_HTTP_CONNECTIONS:-16}"
