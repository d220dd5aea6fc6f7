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
ROOT=$PWD
SCRATCH=${BENCH_SCRATCH:-.build-bench}
OUT=$(mktemp -d /tmp/clemap-bench-export.XXXXXX)
cleanup() { if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "work folder kept: $OUT" >&2; else rm -rf "$OUT"; fi; }
trap cleanup EXIT
say() { printf '[bench-export] %s\n' "$*" >&2; }
export PATH="/opt/swift/usr/bin:$PATH"

python3 -c 'import moto.server, boto3, pytest' >/dev/null 2>&1 || {
    say "installing moto's server, boto3 and pytest (pip)"
    python3 -m pip install -q 'moto[server]' boto3 pytest >&2 || { say "ERROR: pip install 'moto[server]' boto3 pytest failed"; exit 1; }
}

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    say "building the release binary in $SCRATCH"
    swift build -c release --scratch-path "$SCRATCH" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
else
    say "BENCH_SKIP_BUILD=1: measuring the binary already in $SCRATCH, not rebuilt from this tree"
fi
BIN=$ROOT/$SCRATCH/release/clemap-edge
[[ -x "$BIN" ]] || { say "ERROR: no binary at $BIN"; exit 1; }

python3 benchmarks/export/drain.py --bin "$BIN" --out "$OUT" \
    --week-speed "${BENCH_WEEK_SPEED:-4000}" --drain-speed "${BENCH_DRAIN_SPEED:-60}" \
    --drain-seconds "${BENCH_DRAIN_SECONDS:-0}" --days "${BENCH_DAYS:-7}" \
    --swift-version "$(swift --version 2>/dev/null | head -1 | sed 's/ (.*//')"
