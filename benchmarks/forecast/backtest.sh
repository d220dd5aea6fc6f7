#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Forecast benchmark: the full two-year backtest of the built-in forecaster on the development data
# (UCI household, 2006-12 … 2008-11, 1,029,996 minutes), release build, pinned to one core. Prints wall and
# CPU time next to a baseline measured in the same run (the same replay with the built-in model never trained,
# i.e. reading, replaying and scoring with persistence everywhere), the ratio and the cost per training, then
# the skill table (scored from 2008-06-01).
# A benchmark, not a test: it prints and exits 0 unless a step cannot run. See benchmarks/README.md.
#
# Environment (all optional):
#   BENCH_CSV          the data                         [../shared/data/uci-household-power-2006-12_2008-11.csv.gz]
#   BENCH_SCORE_FROM   first scored day                 [2008-06-01]
#   BENCH_SCRATCH      swift build scratch path         [.build-bench]
#   BENCH_CORE         the core to pin to (taskset)     [0]
#   BENCH_SKIP_BUILD=1 measure the binary already built
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
CSV=${BENCH_CSV:-$ROOT/../shared/data/uci-household-power-2006-12_2008-11.csv.gz}
SCORE_FROM=${BENCH_SCORE_FROM:-2008-06-01}
SCRATCH=${BENCH_SCRATCH:-.build-bench}
CORE=${BENCH_CORE:-0}
export PATH="/opt/swift/usr/bin:$PATH"

[ -r "$CSV" ] || { echo "backtest bench: cannot read $CSV (set BENCH_CSV)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "backtest bench: taskset missing (apt-get install util-linux)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "backtest bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "building release ($SCRATCH) …" >&2
    swift build -c release --scratch-path "$SCRATCH" --product clemap-edge >&2
else
    echo "BENCH_SKIP_BUILD=1: measuring the binary already in $SCRATCH" >&2
fi
BIN=$SCRATCH/release/clemap-edge
ARGS=(forecast backtest --csv "$CSV" --time-column date_time --power-column Global_active_power --scale 1000
      --score-from "$SCORE_FROM")
OUT=$(mktemp -d /tmp/clemap-forecast-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

measure() {  # name, extra args…: runs pinned, stdout to $OUT/name.out, "wall cpu" to $OUT/name.time
    local name=$1; shift
    /usr/bin/time -f "%e %U %S" -o "$OUT/$name.time" taskset -c "$CORE" "$BIN" "${ARGS[@]}" "$@" >"$OUT/$name.out"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work inflates wall time, not CPU time)"
measure baseline --train-every-minutes 1000000000   # never a multiple in range: the model is never trained
measure full
read -r bw bu bs <"$OUT/baseline.time"
read -r fw fu fs <"$OUT/full.time"
trainings=$(sed -n 's/.* \([0-9]*\) trainings$/\1/p' "$OUT/full.out" | head -1)
python3 - "$bw" "$bu" "$bs" "$fw" "$fu" "$fs" "${trainings:-0}" <<'PY'
import sys
bw, bu, bs, fw, fu, fs = map(float, sys.argv[1:7]); n = int(sys.argv[7])
bc, fc = bu + bs, fu + fs
print(f"{'run':<42}{'wall s':>8}{'CPU s':>8}")
print(f"{'baseline: replay + scoring, never trained':<42}{bw:8.2f}{bc:8.2f}")
print(f"{'full backtest, trained daily':<42}{fw:8.2f}{fc:8.2f}")
print(f"ratio full / baseline (CPU): {fc / max(bc, 1e-9):.1f}x;  {n} trainings, "
      f"{1000 * (fc - bc) / max(n, 1):.1f} ms CPU each;  budget 60 s: {'OK' if fw < 60 else 'OVER'} (wall)")
PY
echo
cat "$OUT/full.out"
echo
# Rows: "  60 min  value   builtin   MAE RMSE WAPE skill n".
awk '$4 == "builtin" && $1 == 60 { printf "requirement: %s+60min builtin skill %s %% (>= 15: %s)\n", $3, $(NF-1), ($(NF-1) >= 15 ? "OK" : "BELOW") }
     $4 == "builtin" && $(NF-1) < 0 { printf "requirement: %s+%smin builtin skill below 0: %s %%\n", $3, $1, $(NF-1) }' "$OUT/full.out"
