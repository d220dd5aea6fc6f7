#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MQTT throughput: the service publishes its live state every simulated second at a high --sim-speed into a mosquitto
# broker on loopback, a paho-mqtt subscriber counts what arrives; the sampling grid meanwhile; peak RSS against the
# same run with [MQTT] off. A benchmark, not a test: it prints figures and exits 0 unless a step could not run.
#
# Usage: bash benchmarks/mqtt/throughput.sh          (make bench-mqtt)
# Environment: BENCH_MQTT_SPEED (--sim-speed, 1200), BENCH_MQTT_SECONDS (real seconds per run, 20),
#              BENCH_SCRATCH (.build-bench), BENCH_SKIP_BUILD=1, BENCH_KEEP=1 (keep the work folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NAME=bench-mqtt
source benchmarks/lib/release.sh

command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || { say "ERROR: mosquitto not found (apt-get install mosquitto; make test-process installs it)"; exit 1; }
python3 -c 'import paho.mqtt' >/dev/null 2>&1 || python3 -m pip install -q paho-mqtt >&2
[[ -x /usr/bin/time ]] || scripts/ensure-deps.sh time

build_release

python3 benchmarks/mqtt/throughput.py --bin "$BIN" --out "$OUT" --speed "${BENCH_MQTT_SPEED:-1200}" --seconds "${BENCH_MQTT_SECONDS:-20}"
