#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The exporter draining a week's backlog (7 x 24 closed hours, ~10,000 minute rows) into moto's S3 server on
# 127.0.0.1 (signatures checked): upload throughput of the running service and of `export flush`, against boto3
# PUTting the same objects; the service's peak RSS while draining, against the same run with [CLOUD] off.
# A benchmark, not a test: it prints figures and exits 0 unless a step could not run. See benchmarks/README.md.
#
# Usage: bash benchmarks/export/drain.sh          (make bench-export)
# Environment: BENCH_WEEK_SPEED (the offline week's --sim-speed, 4000), BENCH_DRAIN_SPEED (the drain runs', 60),
#              BENCH_DRAIN_SECONDS (their simulated seconds; default: from the flush time, at least 20 s of real time),
#              BENCH_SCRATCH (.build-bench), BENCH_SKIP_BUILD=1, BENCH_KEEP=1 (keep the work folder: databases, logs),
#              BENCH_DAYS (7; fewer only to smoke-test the script).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NAME=bench-export
source benchmarks/lib/release.sh

python3 -c 'import moto.server, boto3, pytest' >/dev/null 2>&1 || {
    say "installing moto's server, boto3 and pytest (pip)"
    python3 -m pip install -q 'moto[server]' boto3 pytest >&2 || { say "ERROR: pip install 'moto[server]' boto3 pytest failed"; exit 1; }
}

build_release

python3 benchmarks/export/drain.py --bin "$BIN" --out "$OUT" \
    --week-speed "${BENCH_WEEK_SPEED:-4000}" --drain-speed "${BENCH_DRAIN_SPEED:-60}" \
    --drain-seconds "${BENCH_DRAIN_SECONDS:-0}" --days "${BENCH_DAYS:-7}" \
    --swift-version "$(swift --version 2>/dev/null | head -1 | sed 's/ (.*//')"
