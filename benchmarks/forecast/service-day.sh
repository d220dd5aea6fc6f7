#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The service with the forecaster on, over one accelerated simulated day, against the same day with it off:
# does sampling keep its grid while the built-in model trains, and what does the forecaster cost in memory?
#
# The database is seeded with 30 days of household minutes before "now" (the UCI development data, kW -> W,
# split over the three phases), so the forecaster restores 30 days and trains at its first minute, while sampling.
# Prints, for both runs: samples taken against the grid (86,401 ticks), rows with fewer than 60 samples,
# peak RSS; for the forecaster: trainings (and their seconds, from its events), forecasts stored.
# A benchmark, not a test: it prints figures and exits 0 unless a step could not run.
#
# Usage: bash benchmarks/forecast/service-day.sh
# Environment: BENCH_SPEED (simulated seconds per real second, 400), BENCH_SCRATCH (.build-bench),
#              BENCH_SKIP_BUILD=1, BENCH_DURATION (86400; shorter only to smoke-test the script), BENCH_KEEP=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SPEED=${BENCH_SPEED:-400}
SCRATCH=${BENCH_SCRATCH:-.build-bench}
DURATION=${BENCH_DURATION:-86400}
DATA=$ROOT/../shared/data/uci-household-power-2006-12_2008-11.csv.gz
OUT=$(mktemp -d /tmp/clemap-forecast-day.XXXXXX)
cleanup() { if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "work folder kept: $OUT" >&2; else rm -rf "$OUT"; fi; }
trap cleanup EXIT
say() { printf '[service-day] %s\n' "$*" >&2; }
[[ -f "$DATA" ]] || { say "ERROR: $DATA not found (../shared beside the project)"; exit 1; }
[[ -x /usr/bin/time ]] || { say "ERROR: GNU time (/usr/bin/time) is needed: apt-get install time"; exit 1; }

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    say "building the release binary in $SCRATCH"
    swift build -c release --scratch-path "$SCRATCH" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
fi
BIN=$ROOT/$SCRATCH/release/clemap-edge
[[ -x "$BIN" ]] || { say "ERROR: no binary at $BIN"; exit 1; }

# `enabled = …` of one section of a config file; the HTTP API is off in both runs (the forecaster's cost alone).
set_enabled() {  # set_enabled SECTION true|false < in > out
    awk -v section="[$1]" -v value="$2" '/^\[/ { current = $0 } current == section && /^enabled = / { $0 = "enabled = " value } { print }'
}
set_enabled HTTP false <calibration/config.ini >"$OUT/on.ini"
set_enabled FORECAST false <"$OUT/on.ini" >"$OUT/off.ini"
awk '/^\[/ { c = $0 } c == "[FORECAST]" && /^enabled = false$/ { found = 1 } END { exit !found }' "$OUT/off.ini" \
    || { say "ERROR: could not switch the forecaster off in a copy of calibration/config.ini"; exit 1; }

seed() {  # seed DB: the schema (through the CLI), then 30 days of minutes ending at the current minute
    "$BIN" forecast status --config "$OUT/on.ini" --db "$1" >/dev/null 2>&1
    python3 - "$1" "$DATA" <<'PY'
import gzip, sqlite3, sys, time
db, data = sys.argv[1], sys.argv[2]
now = int(time.time()) // 60 * 60
start = now - 30 * 86400
rows = []
with gzip.open(data, "rt") as f:
    header = f.readline().strip().split(",")
    col = header.index("Global_active_power")
    for line in f:
        if len(rows) == 30 * 1440: break
        parts = line.rstrip("\n").split(",")
        try: w = float(parts[col]) * 1000 / 3
        except ValueError: w = None
        rows.append((start + 60 * len(rows), w, w, w))
con = sqlite3.connect(db)
con.executemany("INSERT INTO meter_data (time, l1_p, l2_p, l3_p, duration_s, samples, flags) VALUES (?, ?, ?, ?, 60, 60, 0)", rows)
con.commit()
open(db + ".now", "w").write(str(now))
PY
}

run() {  # run NAME CONFIG: one simulated day; leaves $OUT/NAME.{db,time,log}
    local name=$1 config=$2
    seed "$OUT/$name.db" 2>/dev/null
    say "$name: one simulated day at ${SPEED}x (~$((DURATION / SPEED)) s)"
    /usr/bin/time -v -o "$OUT/$name.time" "$BIN" run --simulate --config "$config" --scenario scenarios/home-day.json \
        --sim-speed "$SPEED" --sim-duration "$DURATION" --db "$OUT/$name.db" 2>"$OUT/$name.log" || { tail -20 "$OUT/$name.log" >&2; exit 1; }
}
run off "$OUT/off.ini"
run on "$OUT/on.ini"

python3 - "$OUT" "$DURATION" <<'PY'
import re, sqlite3, sys
out, duration = sys.argv[1], int(sys.argv[2])
def figures(name):
    t = open(f"{out}/{name}.time").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    con = sqlite3.connect(f"{out}/{name}.db")
    start = int(open(f"{out}/{name}.db.now").read())  # the seeded days end before it
    rows = con.execute("SELECT time, samples, flags FROM meter_data WHERE time >= ? ORDER BY time", (start,)).fetchall()
    samples = sum(r[1] for r in rows)
    short = sum(1 for r in rows[1:-1] if r[1] < 60)
    f = {"rss": rss, "rows": len(rows), "samples": samples, "short": short}
    try:
        f["trainings"] = con.execute("SELECT time, detail FROM forecast_event WHERE kind = 'trained' ORDER BY time").fetchall()
        f["forecasts"] = con.execute("SELECT COUNT(*), COUNT(DISTINCT issued) FROM forecast").fetchone()
        f["builtin"] = con.execute("SELECT COUNT(*) FROM forecast WHERE model = 'builtin'").fetchone()[0]
    except sqlite3.OperationalError:
        pass
    return f
off, on = figures("off"), figures("on")
grid = duration + 1
print()
print(f"clemap-edge service, one simulated day ({duration} s), forecaster off and on, database seeded with 30 days")
print(f"{'':34}{'forecaster off':>16}{'forecaster on':>16}{'ratio':>8}")
print(f"{'samples taken (grid ' + str(grid) + ')':34}{off['samples']:>16}{on['samples']:>16}{on['samples'] / off['samples']:>8.4f}")
print(f"{'ticks missed':34}{grid - off['samples']:>16}{grid - on['samples']:>16}")
print(f"{'rows with < 60 samples (inner)':34}{off['short']:>16}{on['short']:>16}")
print(f"{'rows stored':34}{off['rows']:>16}{on['rows']:>16}")
print(f"{'peak RSS (MiB)':34}{off['rss']:>16.1f}{on['rss']:>16.1f}{on['rss'] / off['rss']:>8.3f}   (goal with the forecaster: < 30 MiB)")
print(f"forecasts stored: {on['forecasts'][0]} in {on['forecasts'][1]} issues ({on['builtin']} by the built-in model)")
print(f"trainings: {len(on['trainings'])}")
for time, detail in on["trainings"]:
    print(f"  at {time}: {detail}")
PY
