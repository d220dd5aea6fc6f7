#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The original edge script's way (Python TensorFlow: load_model, then model.predict on a (1, 10, 1) window) against
# clemap-edge's KerasModel on the same .h5: load time, time per prediction, peak RSS. A benchmark, not a test.
# Usage: bash benchmarks/forecast/keras-vs-tensorflow.sh     (make bench-forecast)
# Environment: BENCH_MODEL (default: the original-shaped LSTM(32, relu) → Dense(1) fixture, Keras 3),
#   BENCH_PY_CALLS (200), BENCH_SWIFT_CALLS (10000), BENCH_STATIC (1: --static-swift-stdlib, as shipped; 0: the
#   Swift runtime as shared libraries), BENCH_SCRATCH (.build-bench-static, or .build-bench with BENCH_STATIC=0),
#   BENCH_SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
model="${BENCH_MODEL:-Tests/KerasModelTests/Fixtures/lstm_relu_k3.h5}"
py_calls="${BENCH_PY_CALLS:-200}"
swift_calls="${BENCH_SWIFT_CALLS:-10000}"
static="${BENCH_STATIC:-1}"
if [ "$static" = 1 ]; then
    scratch="${BENCH_SCRATCH:-.build-bench-static}"
    link=(--static-swift-stdlib)
else
    scratch="${BENCH_SCRATCH:-.build-bench}"
    link=()
fi
window="412,398.5,405.2,420.9,415,409.3,402.8,399.1,410.6,418.4"
work="$(mktemp -d /tmp/clemap-forecast-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

[ -x /usr/bin/time ] || scripts/ensure-deps.sh time
scripts/ensure-deps.sh libhdf5-dev libarchive-dev
if [ ! -x .venv-keras3/bin/python ]; then
    echo "making .venv-keras3 (TensorFlow + Keras 3, pinned; ~1.5 GB)" >&2
    python3 -m venv .venv-keras3
    .venv-keras3/bin/pip install -q -r scripts/keras-fixtures/requirements-keras3.txt
fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release "${link[@]}" --scratch-path "$scratch" --product clemap-edge >&2
fi
binary="$scratch/release/clemap-edge"

# The original (Edge Device/main.py): tensorflow.keras.models.load_model(path, compile=False), then
# model.predict(np.float32 array of shape (1, 10, 1)) once per loop.
cat > "$work/tf.py" <<PY
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
t0 = time.perf_counter()
import numpy as np
import tensorflow as tf
t1 = time.perf_counter()
model = tf.keras.models.load_model("$model", compile=False)
t2 = time.perf_counter()
x = np.array([[$window]], dtype=np.float32).reshape(1, 10, 1)
for _ in range(10):
    value = model.predict(x, verbose=0)
t3 = time.perf_counter()
for _ in range($py_calls):
    value = model.predict(x, verbose=0)
t4 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "load_seconds": t2 - t1, "seconds_per_prediction": (t4 - t3) / $py_calls,
                  "value": float(value[0][0]), "tensorflow": tf.__version__, "keras": tf.keras.__version__}))
PY
echo "running Python TensorFlow ($py_calls predictions after 10 warm-up)…" >&2
TF_ENABLE_ONEDNN_OPTS=0 CUDA_VISIBLE_DEVICES="" /usr/bin/time -v .venv-keras3/bin/python "$work/tf.py" \
    > "$work/tf.json" 2> "$work/tf.time"
echo "running clemap-edge ($swift_calls predictions after 1 warm-up)…" >&2
/usr/bin/time -v "$binary" forecast predict --model "$model" --window "$window" --json --repeat "$swift_calls" \
    > "$work/swift.json" 2> "$work/swift.time"
# The binary's own floor: the same executable doing nothing but printing its version.
/usr/bin/time -v "$binary" --version > /dev/null 2> "$work/version.time"

python3 - "$work" "$model" "$py_calls" "$swift_calls" "$static" <<'PY'
import json, platform, re, subprocess, sys, datetime, os
work, model, py_calls, swift_calls, static = sys.argv[1:]
def rss_kib(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1))
def wall(path):
    text = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", open(path).read()).group(1)
    parts = [float(p) for p in text.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
tf = json.loads(open(f"{work}/tf.json").read().strip().splitlines()[-1])
sw = json.loads(open(f"{work}/swift.json").read().strip().splitlines()[-1])
tf_rss, sw_rss = rss_kib(f"{work}/tf.time"), rss_kib(f"{work}/swift.time")
swift_version = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
print(f"Keras forecast benchmark, {datetime.datetime.utcnow():%Y-%m-%dT%H:%MZ}, {os.cpu_count()} cores, {platform.machine()}")
print(f"model {model}; window of 10 one-minute sums in W")
print(f"Python: TensorFlow {tf['tensorflow']}, Keras {tf['keras']} (the original's load_model + model.predict); "
      f"clemap-edge: {swift_version}, release{', --static-swift-stdlib' if static == '1' else ''}\n")
print(f"{'':28}{'TensorFlow':>16}{'clemap-edge':>16}{'ratio':>12}")
print(f"{'load (s)':28}{tf['load_seconds']:16.4f}{sw['load_seconds']:16.6f}{tf['load_seconds'] / sw['load_seconds']:11.0f}x")
print(f"{'  + import tensorflow (s)':28}{tf['import_seconds']:16.4f}{'-':>16}")
print(f"{'per prediction (ms)':28}{tf['seconds_per_prediction'] * 1e3:16.4f}{sw['seconds_per_prediction'] * 1e3:16.6f}"
      f"{tf['seconds_per_prediction'] / sw['seconds_per_prediction']:11.0f}x   (goal >= 1000x)")
print(f"{'  predictions timed':28}{py_calls:>16}{swift_calls:>16}")
print(f"{'peak RSS (MiB)':28}{tf_rss / 1024:16.1f}{sw_rss / 1024:16.1f}{tf_rss / sw_rss:11.1f}x   (goal >= 25x)")
print(f"{'  clemap-edge --version':28}{'':16}{rss_kib(work + '/version.time') / 1024:16.1f}   (the binary's floor)")
print(f"{'process wall time (s)':28}{wall(work + '/tf.time'):16.2f}{wall(work + '/swift.time'):16.3f}")
rel = abs(tf["value"] - sw["value"]) / max(abs(tf["value"]), 1e-6)
print(f"\nprediction: TensorFlow {tf['value']:.6f}, clemap-edge {sw['value']:.6f} (relative difference {rel:.1e})")
PY
