#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# clemap-edge benchmark: one simulated day (86,400 s) of `clemap-edge run` at 1 Hz against the built-in
# ADE9000 simulator (scenarios/home-day.json). Prints, each with a baseline measured in the same run and
# the ratio:
#   - CPU time of the sampling + aggregation path per sample (with the in-process simulator's share),
#   - SPI transactions and transfers per sample (computed from the read plan AND counted by the driver),
#   - peak RSS of the service,
#   - fsyncs per stored row.
# A benchmark, not a test: it prints figures and exits 0 unless a step could not run at all.
# See benchmarks/README.md for what each figure means and its caveats.
#
# Usage: bash benchmarks/run.sh
# Environment (all optional):
#   BENCH_SPEED        simulated seconds per real second of the measured (CPU/RSS) run   [400]
#   BENCH_TRACE_SPEED  the same for the strace (+perf) run, which counts fsyncs           [1440]
#   BENCH_SCRATCH      swift build scratch path                                           [.build-bench]
#   BENCH_PERF_HZ      perf sampling frequency of run 1 (DWARF call stacks)              [49]
#   BENCH_DURATION     simulated seconds per run; only to smoke-test the script          [86400]
#   BENCH_SKIP_BUILD=1 measure the binary already built (e.g. while the tree does not compile)
#   BENCH_NO_PERF=1    skip the perf profile (simulator share)
#   BENCH_KEEP=1       keep the work folder (databases, logs, perf.data)
#   BENCH_CONFIG       the config.ini to run with                                       [calibration/config.ini]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SPEED=${BENCH_SPEED:-400}
TRACE_SPEED=${BENCH_TRACE_SPEED:-1440}
SCRATCH=${BENCH_SCRATCH:-.build-bench}
PERF_HZ=${BENCH_PERF_HZ:-49}
DURATION=${BENCH_DURATION:-86400}  # one simulated day (shorter only for a smoke test of the script)
INTERVAL=60                     # gathering_interval_sec in calibration/config.ini
CONFIG=${BENCH_CONFIG:-$ROOT/calibration/config.ini}
SCENARIO=$ROOT/scenarios/home-day.json
EXPECTED_ROWS=$((DURATION / INTERVAL))
EXPECTED_SAMPLES=$((DURATION + 1))   # ticks 0 … 86,400; the last one opens a 1-sample interval that is not stored
FSYNC_SET=fsync,fdatasync,sync_file_range,msync

OUT=$(mktemp -d /tmp/clemap-bench.XXXXXX)
cleanup() { if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "work folder kept: $OUT" >&2; else rm -rf "$OUT"; fi; }
trap cleanup EXIT
T0=$(date +%s)
say() { printf '[bench %4ds] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------- tools
SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
apt_install() {  # apt_install PACKAGE…: install, running apt-get update first only if the install fails
    say "installing $*"
    $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1
}
command -v strace >/dev/null || apt_install strace || die "cannot install strace"
[[ -x /usr/bin/time ]] || apt_install time || die "cannot install time (GNU time, /usr/bin/time)"
command -v python3 >/dev/null || apt_install python3 || die "cannot install python3"
python3 -c 'import sqlite3' 2>/dev/null || die "python3 has no sqlite3 module"
USE_PERF=0
if [[ "${BENCH_NO_PERF:-0}" != 1 ]]; then
    command -v perf >/dev/null || apt_install linux-perf || true
    if command -v perf >/dev/null && perf record -q --call-graph dwarf -o "$OUT/probe.data" -- true >/dev/null 2>&1; then USE_PERF=1
    else say "perf unavailable (not installed or perf_event_open refused): the simulator's share will not be measured"; fi
fi

# ---------------------------------------------------------------------------------------------- build
if [[ "${BENCH_SKIP_BUILD:-0}" == 1 ]]; then
    say "WARNING: BENCH_SKIP_BUILD=1: measuring the binary already in $SCRATCH, which may not match the sources"
else
    say "building release ($SCRATCH)"
    swift build -c release --scratch-path "$SCRATCH" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; die "build failed"; }
fi
BIN=$ROOT/$SCRATCH/release/clemap-edge
[[ -x $BIN ]] || die "no binary at $BIN"

# ---------------------------------------------------------------------------------------------- helpers
# rows, rows flagged partial, sum(samples), whole rows with fewer samples than the interval has seconds
db_stats() {
    python3 - "$1" "$INTERVAL" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(*c.execute("""SELECT count(*), coalesce(sum(flags & 1), 0), coalesce(sum(samples), 0),
                           coalesce(sum(samples < ? AND flags & 1 = 0), 0) FROM meter_data""", (int(sys.argv[2]),)).fetchone())
EOF
}

# key=value from the service's "sampling stopped" log line (needs the stop-statistics hook), else empty
stop_stat() { grep 'sampling stopped' "$1" 2>/dev/null | grep -o "$2=[0-9]*" | tail -1 | cut -d= -f2 || true; }

# calls column of one syscall in an `strace -c` summary (columns: %time seconds usecs/call calls [errors] syscall)
calls_of() { awk -v s="$2" '$NF == s { print $4; found = 1 } END { if (!found) print 0 }' "$1"; }
fsync_total() { echo $(( $(calls_of "$1" fsync) + $(calls_of "$1" fdatasync) )); }

run_args() {  # run_args SPEED DURATION DB: sets ARGS to the service's command line
    ARGS=("$BIN" run --config "$CONFIG" --simulate --scenario "$SCENARIO" --sim-speed "$1" --sim-duration "$2" --db "$3")
}
f() { python3 -c "import sys; print(format(eval(sys.argv[1]), sys.argv[2]))" "$1" "$2"; }  # f EXPR FORMAT

# ---------------------------------------------------------------------------------------------- 1. strace (+ perf) run
# Counts fsync-family calls of the whole process tree (seccomp-bpf: only those syscalls stop the tracee).
# fsyncs per row do not depend on samples per row, so this run may go faster than the service keeps up with.
say "run 1/2: one simulated day under strace at ${TRACE_SPEED}x (~$((DURATION / TRACE_SPEED)) s)$([[ $USE_PERF == 1 ]] && echo ', sampled by perf')"
TRACE_DB=$OUT/trace.db
PERF_PREFIX=()
[[ $USE_PERF == 1 ]] && PERF_PREFIX=(perf record -q -F "$PERF_HZ" --call-graph dwarf,32768 -o "$OUT/perf.data" --)
run_args "$TRACE_SPEED" "$DURATION" "$TRACE_DB"
"${PERF_PREFIX[@]}" strace -f --seccomp-bpf -c -e trace=$FSYNC_SET -o "$OUT/service.strace" \
    "${ARGS[@]}" >"$OUT/trace.out" 2>"$OUT/trace.log" \
    || { tail -20 "$OUT/trace.log" >&2; die "the strace run failed"; }
read -r TRACE_ROWS _ TRACE_ROW_SAMPLES _ < <(db_stats "$TRACE_DB")
SVC_FSYNCS=$(fsync_total "$OUT/service.strace")
SVC_SFR=$(calls_of "$OUT/service.strace" sync_file_range); SVC_MSYNC=$(calls_of "$OUT/service.strace" msync)

# Simulator share: perf call stacks (DWARF-unwound with 32 KiB of stack per sample, enough to get through
# glibc's strtod, whose big frames hide the simulator's schedule parsing from 8-16 KiB), each sample
# charged to the innermost frame of a project module (Swift mangled names carry the module: $s10ADE9000Sim…,
# $s7ADE9000…) or of libsqlite3; samples of strace and perf themselves are left out.
PERF_OK=0
if [[ $USE_PERF == 1 && -s $OUT/perf.data ]]; then
    say "reading the perf profile"
    if perf script -i "$OUT/perf.data" --no-demangle -F comm,pid,ip,sym,dso 2>/dev/null | awk '
        function module(line) {
            if (line ~ /libsqlite3/) return "SQLite (libsqlite3)"
            if (line ~ /\$s10ADE9000Sim/) return "simulator (ADE9000Sim)"
            if (line ~ /\$s7ADE9000/) return "driver (ADE9000)"
            if (line ~ /\$s9MeterCore/) return "meter (MeterCore)"
            if (line ~ /\$s13MeterServices/) return "services (MeterServices)"
            if (line ~ /\$s10MeterStore/) return "store (MeterStore)"
            if (line ~ /\$s11clemap_edge|\$s8MeterHAL/) return "CLI (clemap-edge)"
            return ""
        }
        function flush() {
            if (hdr != "") {
                n[pid]++
                if (cat == "") cat = sys ? "timers, wake-ups, syscalls (libdispatch, kernel; no project frame)" : "other runtime, libc (no project frame)"
                c[pid, cat]++; cats[cat] = 1
            }
            hdr = ""; cat = ""; sys = 0
        }
        /^[^ \t]/ { flush(); hdr = $0; pid = $NF; if ($1 != "strace" && $1 !~ /^perf/) main[pid] = 1; next }
        /^[ \t]/ { if (hdr != "" && cat == "") cat = module($0)
                   if ($0 ~ /epoll|timerfd|futex|libc_read|libc_write|fdatasync|nanosleep|sched_yield|clock_nanosleep/) sys = 1
                   next }
        END { flush()
              for (p in main) { total += n[p]; for (k in cats) share[k] += c[p, k] }
              if (total == 0) exit 1
              printf "samples %d\n", total
              for (k in cats) if (share[k] > 0) printf "%.6f\t%s\n", share[k] / total, k }' >"$OUT/perf.shares"; then
        PERF_OK=1
        SIM_SHARE=$(awk -F'\t' '$2 ~ /^simulator/ { print $1 }' "$OUT/perf.shares"); SIM_SHARE=${SIM_SHARE:-0}
    else
        say "perf profile unreadable; simulator share not measured"
    fi
fi

# ---------------------------------------------------------------------------------------------- baseline: plain SQLite
# The service's own rows, copied into a fresh database with the same meter_data table, WAL and synchronous=FULL,
# one INSERT per transaction: what one durable row costs a plain SQLite writer.
say "baseline: ${TRACE_ROWS} plain SQLite inserts (python3 sqlite3, WAL, synchronous=FULL) under strace"
cat >"$OUT/sqlite_baseline.py" <<'EOF'
import sqlite3, sys
source, target = sys.argv[1], sys.argv[2]
src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
schema = src.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'meter_data'").fetchone()[0]
rows = src.execute("SELECT * FROM meter_data ORDER BY time").fetchall()
db = sqlite3.connect(target, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL"); db.execute("PRAGMA synchronous = FULL")
db.execute(schema)
insert = f"INSERT INTO meter_data VALUES ({', '.join('?' * len(rows[0]))})"
for row in rows:
    db.execute("BEGIN"); db.execute(insert, row); db.execute("COMMIT")
db.close()
print(len(rows))
EOF
BASE_ROWS=$(strace -f --seccomp-bpf -c -e trace=$FSYNC_SET -o "$OUT/sqlite.strace" \
    python3 "$OUT/sqlite_baseline.py" "$TRACE_DB" "$OUT/plain.db") || die "the SQLite baseline failed"
BASE_FSYNCS=$(fsync_total "$OUT/sqlite.strace")

# ---------------------------------------------------------------------------------------------- 2. measured run
say "run 2/2: one simulated day under /usr/bin/time -v at ${SPEED}x (~$((DURATION / SPEED)) s)"
DAY_DB=$OUT/day.db
busy_seconds() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }
BUSY_BEFORE=$(busy_seconds)
run_args "$SPEED" "$DURATION" "$DAY_DB"
/usr/bin/time -v -o "$OUT/day.time" "${ARGS[@]}" >"$OUT/day.out" 2>"$OUT/day.log" \
    || { tail -20 "$OUT/day.log" >&2; die "the measured run failed"; }
BUSY_AFTER=$(busy_seconds)
tv() { awk -F': ' -v k="$2" 'index($0, k) { print $NF; exit }' "$1"; }
wall_of() {  # h:mm:ss or m:ss.ss → seconds
    tv "$1" "Elapsed (wall clock)" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}
DAY_WALL=$(wall_of "$OUT/day.time")
DAY_CPU=$(f "$(tv "$OUT/day.time" 'User time') + $(tv "$OUT/day.time" 'System time')" .2f)
DAY_USER=$(tv "$OUT/day.time" 'User time'); DAY_SYS=$(tv "$OUT/day.time" 'System time')
DAY_RSS=$(tv "$OUT/day.time" 'Maximum resident set size')
OTHER_CORES=$(f "max(0, ($BUSY_AFTER - $BUSY_BEFORE - $DAY_CPU) / $DAY_WALL)" .2f)  # CPU others used meanwhile
read -r DAY_ROWS DAY_PARTIAL DAY_ROW_SAMPLES DAY_SHORT_ROWS < <(db_stats "$DAY_DB")
DAY_SAMPLES=$(stop_stat "$OUT/day.log" samples)
HOOK=1; [[ -n $DAY_SAMPLES ]] || { HOOK=0; DAY_SAMPLES=$((DAY_ROW_SAMPLES + 1)); }
DAY_TX=$(stop_stat "$OUT/day.log" spi.transactions); DAY_XFER=$(stop_stat "$OUT/day.log" spi.transfers)
# The power-quality event polls (issue 14) go through the same driver: counted apart, and taken out of the per-sample
# figures below, which are the snapshot's.
DAY_PQ_POLLS=$(stop_stat "$OUT/day.log" pq.polls); DAY_PQ_TX=$(stop_stat "$OUT/day.log" pq.poll_transactions)
DAY_PQ_XFER=$(stop_stat "$OUT/day.log" pq.poll_transfers)
if [[ -n $DAY_TX && -n $DAY_PQ_TX ]]; then DAY_TX=$((DAY_TX - DAY_PQ_TX)); DAY_XFER=$((DAY_XFER - DAY_PQ_XFER)); fi
DAY_CRC=$(stop_stat "$OUT/day.log" spi.crc_mismatches)

# ---------------------------------------------------------------------------------------------- baseline: one minute (fixed cost, RSS, set-up frames)
say "baseline: one simulated minute of the same service at ${SPEED}x (start-up, chip set-up, one row, shutdown)"
MIN_DB=$OUT/minute.db
run_args "$SPEED" "$INTERVAL" "$MIN_DB"
/usr/bin/time -v -o "$OUT/minute.time" "${ARGS[@]}" >"$OUT/minute.out" 2>"$OUT/minute.log" \
    || { tail -20 "$OUT/minute.log" >&2; die "the one-minute run failed"; }
MIN_CPU=$(f "$(tv "$OUT/minute.time" 'User time') + $(tv "$OUT/minute.time" 'System time')" .2f)
MIN_RSS=$(tv "$OUT/minute.time" 'Maximum resident set size')
MIN_SAMPLES=$(stop_stat "$OUT/minute.log" samples); MIN_SAMPLES=${MIN_SAMPLES:-$((INTERVAL + 1))}
MIN_TX=$(stop_stat "$OUT/minute.log" spi.transactions)
MIN_PQ_TX=$(stop_stat "$OUT/minute.log" pq.poll_transactions); MIN_PQ_XFER=$(stop_stat "$OUT/minute.log" pq.poll_transfers)
if [[ -n $MIN_TX && -n $MIN_PQ_TX ]]; then MIN_TX=$((MIN_TX - MIN_PQ_TX)); fi

# ---------------------------------------------------------------------------------------------- figures
# SPI read plan of ADE9000Driver.snapshot(includeEnergy: true, includeTemperature: every 10th), BURST_EN = 1:
#   STATUS1, RUN, COM_PERIOD, ISUMRMS, ANGL_VA_VB, ANGL_VA_VC: 6 single reads x 2 frames (data, then CRC_SPI) = 12
#   AIRMS_2 … CFVRMS_2 (51 words, THD and fundamentals included): 1 burst read + CRC_SPI      =  2
#   xWATTHR_HI, xVARHR_HI, xVAHR_HI, 3 phases: 9 single reads x 2                            = 18
#   every 10th sample: TEMP_RSLT (2 frames) + a TEMP_CFG write restarting the conversion    = +3 / 10
#   => 32.3 transactions, all in 1 transfer (one spidev ioctl) per sample (28.3 before the voltage angles, issue 14;
#      26.3 before ISUMRMS, issue 12).
# Baseline, the chip's default framing (BURST_EN = 0: CRC appended to each read, no burst), one frame per register:
#   6 + 30 (10 quantities x 3 phases) + 9 = 45, + (1 read + 1 write) / 10 = 45.2 transactions,
#   and 45.2 transfers if each register were its own ioctl (a read-one-register-at-a-time reader).
PLAN_TX=32.3; PLAN_XFER=1; PLAIN_TX=45.2
TX_SOURCE=computed
if [[ -n $DAY_TX && -n $MIN_TX ]]; then
    TX_SOURCE=measured
    SETUP_TX=$(f "$MIN_TX - ($MIN_SAMPLES * 32 + ($MIN_SAMPLES + 9) // 10 * 3)" d)  # chip set-up, from the 1-minute run
    TX_PER=$(f "($DAY_TX - $MIN_TX) / ($DAY_SAMPLES - $MIN_SAMPLES)" .4f)
    TX_ALL=$(f "$DAY_TX / $DAY_SAMPLES" .4f)
    XFER_PER=$(f "($DAY_XFER - ($(stop_stat "$OUT/minute.log" spi.transfers) - ${MIN_PQ_XFER:-0})) / ($DAY_SAMPLES - $MIN_SAMPLES)" .4f)
    XFER_ALL=$(f "$DAY_XFER / $DAY_SAMPLES" .4f)
fi

MISSED=$((EXPECTED_SAMPLES - DAY_SAMPLES))
KEPT_UP=1; (( DAY_ROWS - DAY_PARTIAL == EXPECTED_ROWS )) && (( MISSED * 1000 <= EXPECTED_SAMPLES * 5 )) || KEPT_UP=0  # >= 99.5 % of ticks
CPU_ALL=$(f "$DAY_CPU / $DAY_SAMPLES * 1e3" .4f)                                           # ms
CPU_MARG=$(f "($DAY_CPU - $MIN_CPU) / ($DAY_SAMPLES - $MIN_SAMPLES) * 1e3" .4f)          # ms

echo
echo "clemap-edge benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m), $(swift --version 2>/dev/null | head -1 | sed 's/ (.*//')"
echo "one simulated day ($DURATION s at 1 Hz, scenarios/home-day.json), measured run at ${SPEED}x: ${DAY_WALL} s wall"
echo "other processes used $OTHER_CORES of $(nproc) cores during the measured run$(awk -v o="$OTHER_CORES" 'BEGIN { if (o > 0.2) print " -- NOT QUIET: figures are inflated and ticks may be skipped; run again on an idle machine" }')"
echo
echo "keeping up"
printf '  rows stored              %6d   (expected %d; %d flagged partial)\n' "$DAY_ROWS" "$EXPECTED_ROWS" "$DAY_PARTIAL"
printf '  samples taken            %6d   (expected %d; %d ticks missed, %s %%)%s\n' "$DAY_SAMPLES" "$EXPECTED_SAMPLES" "$MISSED" \
    "$(f "$MISSED / $EXPECTED_SAMPLES * 100" .3f)" "$([[ $HOOK == 0 ]] && echo ' [from the rows: no stop log]')"
printf '  samples per row          %9s   (expected 60; %d whole rows have fewer)\n' "$(f "$DAY_ROW_SAMPLES / max(1, $DAY_ROWS)" .3f)" "$DAY_SHORT_ROWS"
if [[ $KEPT_UP == 1 ]]; then echo "  => the service kept up at ${SPEED}x"
else echo "  => FELL BEHIND at ${SPEED}x: lower BENCH_SPEED (e.g. BENCH_SPEED=$((SPEED * 3 / 4)))"; fi
echo
echo "CPU per sample (user+sys; includes the simulated ADE9000, which runs in-process)"
printf '  all-in                   %9s ms   (%s s CPU [user %s, sys %s] / %d samples)\n' "$CPU_ALL" "$DAY_CPU" "$DAY_USER" "$DAY_SYS" "$DAY_SAMPLES"
printf '  per-sample (marginal)    %9s ms   (minus the 1-minute run: %s s CPU fixed cost of start-up, chip set-up, shutdown)\n' "$CPU_MARG" "$MIN_CPU"
printf '    vs the 1 s sample period: ratio %s (share of one core at 1 Hz)\n' "$(f "$CPU_MARG / 1000" .6f)"
if [[ $PERF_OK == 1 ]]; then
    printf '  without the simulator    %9s ms   (estimate: marginal x (1 - simulator share %s %%), from %s perf samples of run 1)\n' \
        "$(f "$CPU_MARG * (1 - $SIM_SHARE)" .4f)" "$(f "$SIM_SHARE * 100" .1f)" "$(awk '/^samples/ { print $2 }' "$OUT/perf.shares")"
    echo "  where the CPU went (perf, innermost project frame of each stack):"
    grep -v '^samples' "$OUT/perf.shares" | sort -rn | awk -F'\t' '{ printf "    %5.1f %%  %s\n", $1 * 100, $2 }'
else
    echo "  simulator share: not measured (perf unavailable or BENCH_NO_PERF=1); the figures above include it"
fi
echo
echo "SPI per sample (steady state, burst reads on)"
printf '  transactions (CS frames) %9s   computed from the read plan\n' "$PLAN_TX"
if [[ $TX_SOURCE == measured ]]; then
    printf '                           %9s   measured: driver statistics, day minus 1-minute run (%s incl. chip set-up of %s; crc retries %s)\n' \
        "$TX_PER" "$TX_ALL" "$SETUP_TX" "${DAY_CRC:-?}"
    if [[ $(f "abs($TX_PER - $PLAN_TX) < 0.01" "") == True ]]; then echo "                                       => measured = computed"
    else echo "                                       => MEASURED DIFFERS FROM THE PLAN (skipped ticks shift the temperature cadence; CRC retries add frames)"; fi
    printf '  transfers (ioctls)       %9s   computed; measured %s (%s incl. chip set-up)\n' "$PLAN_XFER" "$XFER_PER" "$XFER_ALL"
else
    echo "                                       computed only: the service logged no spi.transactions at stop"
    printf '  transfers (ioctls)       %9s   computed\n' "$PLAN_XFER"
fi
printf '    vs the chip default framing (BURST_EN=0, one frame per register, %s): ratio %s\n' "$PLAIN_TX" "$(f "${TX_PER:-$PLAN_TX} / $PLAIN_TX" .3f)"
printf '    vs one ioctl per register (%s transfers): ratio %s\n' "$PLAIN_TX" "$(f "${XFER_PER:-$PLAN_XFER} / $PLAIN_TX" .3f)"
echo
if [[ -n $DAY_PQ_POLLS && $DAY_PQ_POLLS -gt 0 ]]; then
    PQ_MS=$(python3 -c "import configparser,sys; c=configparser.ConfigParser(inline_comment_prefixes=('#',)); c.read(sys.argv[1]); print(c.get('POWER_QUALITY','event_poll_ms',fallback='5'))" "$CONFIG" 2>/dev/null || echo 5)
    echo "SPI of the power-quality event polls (STATUS1 + EVENT_STATUS; the extremes only while an event is on)"
    printf '  polls                    %9d   (every event_poll_ms = %s ms of real time, %s s simulated at %sx)\n' "$DAY_PQ_POLLS" "$PQ_MS" "$(f "$PQ_MS / 1000 * $SPEED" .1f)" "$SPEED"
    printf '  per poll                 %9s transactions, %s transfers (ioctls)\n' "$(f "$DAY_PQ_TX / $DAY_PQ_POLLS" .3f)" "$(f "$DAY_PQ_XFER / $DAY_PQ_POLLS" .3f)"
    printf '  on a meter (1x)          %9s transactions/s, %s transfers/s\n' "$(f "1000 / $PQ_MS * $DAY_PQ_TX / $DAY_PQ_POLLS" .0f)" "$(f "1000 / $PQ_MS * $DAY_PQ_XFER / $DAY_PQ_POLLS" .0f)"
    printf '    vs the snapshots (%s transactions, %s transfers per 1 s sample): ratio %s, %s\n' "${TX_PER:-$PLAN_TX}" "${XFER_PER:-$PLAN_XFER}" \
        "$(f "1000 / $PQ_MS * $DAY_PQ_TX / $DAY_PQ_POLLS / ${TX_PER:-$PLAN_TX}" .1f)" "$(f "1000 / $PQ_MS * $DAY_PQ_XFER / $DAY_PQ_POLLS / ${XFER_PER:-$PLAN_XFER}" .1f)"
    echo
fi
echo "peak RSS"
printf '  one day                  %9s MiB\n' "$(f "$DAY_RSS / 1024" .1f)"
printf '    vs one minute of the same service (%s MiB): ratio %s (growth over a day)\n' "$(f "$MIN_RSS / 1024" .1f)" "$(f "$DAY_RSS / $MIN_RSS" .3f)"
echo
echo "fsyncs per stored row (run 1, strace at ${TRACE_SPEED}x: $TRACE_ROWS rows, $(f "$TRACE_ROW_SAMPLES / max(1, $TRACE_ROWS)" .1f) samples/row)"
printf '  fsync+fdatasync          %9s   (%d calls / %d rows; sync_file_range %d, msync %d)\n' \
    "$(f "$SVC_FSYNCS / max(1, $TRACE_ROWS)" .4f)" "$SVC_FSYNCS" "$TRACE_ROWS" "$SVC_SFR" "$SVC_MSYNC"
printf '    vs plain SQLite (%d one-row commits, WAL, synchronous=FULL: %d calls, %s per row): ratio %s\n' "$BASE_ROWS" "$BASE_FSYNCS" \
    "$(f "$BASE_FSYNCS / max(1, $BASE_ROWS)" .4f)" "$(f "($SVC_FSYNCS / max(1, $TRACE_ROWS)) / ($BASE_FSYNCS / max(1, $BASE_ROWS))" .3f)"
echo
say "done"
