# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmark scripts after `cd` to the repository: the release binary in $BENCH_SCRATCH and a work
# folder removed at exit (kept with BENCH_KEEP=1). Sets ROOT, SCRATCH, OUT, BIN; defines say().
# Usage: NAME=bench-http; source benchmarks/lib/release.sh
ROOT=$PWD
SCRATCH=${BENCH_SCRATCH:-.build-bench}
OUT=$(mktemp -d "/tmp/clemap-$NAME.XXXXXX")
cleanup() { if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "work folder kept: $OUT" >&2; else rm -rf "$OUT"; fi; }
trap cleanup EXIT
say() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
export PATH="/opt/swift/usr/bin:$PATH"

# The release binary, built from this tree unless BENCH_SKIP_BUILD=1.
build_release() {
    if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
        say "building the release binary in $SCRATCH"
        swift build -c release --scratch-path "$SCRATCH" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
    else
        say "BENCH_SKIP_BUILD=1: measuring the binary already in $SCRATCH, not rebuilt from this tree"
    fi
    BIN=$ROOT/$SCRATCH/release/clemap-edge
    [[ -x "$BIN" ]] || { say "ERROR: no binary at $BIN"; exit 1; }
}
