#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Modbus TCP under 50 concurrent clients on loopback while the service samples in real time: requests/s and
# p50/p90/p99 latency, the service's peak RSS under load against the same service with [MODBUS] off.
# A benchmark, not a test: it prints figures and exits 0 unless a step could not run. See benchmarks/README.md.
#
# Usage: bash benchmarks/modbus/load.sh          (make bench-modbus)
# Environment: BENCH_MODBUS_SECONDS (10), BENCH_MODBUS_CLIENTS (50), BENCH_SCRATCH (.build-bench), BENCH_SKIP_BUILD=1,
#              BENCH_KEEP=1 (keep the work folder: configs, logs, databases),
#              BENCH_MODBUS_WITH_MQTT=1 (MQTT on too in the loaded run, to a mosquitto on loopback: RSS with both on).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NAME=bench-modbus
source benchmarks/lib/release.sh

pkg-config --exists libmodbus || { say "ERROR: libmodbus not found (apt-get install libmodbus-dev; make deps installs it)"; exit 1; }

build_release
say "compiling the load generator (benchmarks/modbus/modbus-load.c, libmodbus)"
gcc -O2 -Wall -o "$OUT/modbus-load" benchmarks/modbus/modbus-load.c $(pkg-config --cflags --libs libmodbus) -lpthread

python3 benchmarks/modbus/load.py --bin "$BIN" --load "$OUT/modbus-load" --out "$OUT" \
    --seconds "${BENCH_MODBUS_SECONDS:-10}" --clients "${BENCH_MODBUS_CLIENTS:-50}" \
    $([[ "${BENCH_MODBUS_WITH_MQTT:-0}" == 1 ]] && echo --with-mqtt)
