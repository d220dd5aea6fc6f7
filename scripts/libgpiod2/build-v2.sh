#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the CGPIOD shim (Sources/CGPIOD/shim.h) against libgpiod 2.x from Debian 13 (trixie),
# and against the system's libgpiod 1.6, so both branches of the shim are compiled, linked and run.
#
# The 2.x packages are fetched with `apt-get download` through a private apt configuration (its own
# sources.list, lists and cache under the work folder) and unpacked with `dpkg-deb -x` into a prefix
# there. Nothing is installed: the system's libgpiod 1.6 and apt state are left as they were.
#
# Usage: scripts/libgpiod2/build-v2.sh [--swift] [--keep]
#   --swift   also build the Swift package against 2.x with its own scratch path (in the work folder), run
#             `clemap-edge gpio-selftest` (it must report libgpiod API 2 and fail cleanly without a chip,
#             pass with --simulate) and the GPIO test suites. Takes a few minutes.
#   --keep    keep the work folder (printed at the end).
# Environment:
#   LIBGPIOD2_WORK   work folder (default: a new temporary folder, removed at exit unless --keep)
#   DEBIAN_MIRROR    archive URL (default: the Debian mirror configured in /etc/apt, else deb.debian.org)
#   DEBIAN_SUITE     suite to take 2.x from (default: trixie)
#   CC               C compiler (default: cc)
# Needs: apt-get, dpkg-deb, a C compiler, network access to the mirror; for the 1.6 half, libgpiod-dev.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
suite="${DEBIAN_SUITE:-trixie}"
cc="${CC:-cc}"
build_swift=0
keep=0
for argument in "$@"; do
    case "$argument" in
        --swift) build_swift=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-v2.sh: unknown argument '$argument'. Fix: use --swift and/or --keep" >&2; exit 2 ;;
    esac
done

say() { echo "build-v2: $*" >&2; }
fail() { echo "build-v2: $*" >&2; exit 1; }

if [ -n "${LIBGPIOD2_WORK:-}" ]; then
    work="$LIBGPIOD2_WORK"
    mkdir -p "$work"
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/clemap-libgpiod2.XXXXXX")"
    [ "$keep" -eq 1 ] || trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"

# --- The mirror: the host this machine's apt already uses for Debian, so proxies and firewalls agree.
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror="$(
        {
            # deb822 .sources: "URIs: http://deb.debian.org/debian"
            grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | sed 's/^URIs:[[:space:]]*//' | tr ' ' '\n'
            # one-line .list: "deb [options] http://deb.debian.org/debian bookworm main"
            grep -hs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
                | sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}'
        } | grep -E '^https?://[^ ]*/debian/?$' | head -n 1 || true
    )"
    mirror="${mirror:-http://deb.debian.org/debian}"
fi
mirror="${mirror%/}"
say "work folder $work; taking libgpiod 2.x from $mirror $suite"

# --- A private apt: its own sources, lists, cache and (empty) preferences; the system's are not touched.
apt_dir="$work/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/preferences.d" "$work/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed_by=""
[ -r "$keyring" ] && signed_by="[signed-by=$keyring] "
echo "deb ${signed_by}${mirror} ${suite} main" > "$apt_dir/sources.list"
: > "$apt_dir/preferences"
apt_options=(
    -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::preferences=$apt_dir/preferences"
    -o "Dir::Etc::preferencesparts=$apt_dir/preferences.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Acquire::Languages=none"
    -o "APT::Get::List-Cleanup=false"
)
# As root, apt downloads as user _apt, which cannot write into a private temporary folder.
[ "$(id -u)" -eq 0 ] && apt_options+=(-o "APT::Sandbox::User=root")

say "apt-get update (private lists in $apt_dir/lists)"
apt-get "${apt_options[@]}" -q update >&2 || fail "apt-get update against $mirror $suite failed. Fix: check network access to the mirror, or set DEBIAN_MIRROR"
say "apt-get download libgpiod-dev libgpiod3"
(cd "$work/debs" && apt-get "${apt_options[@]}" -q download libgpiod-dev libgpiod3 >&2) \
    || fail "apt-get download libgpiod-dev libgpiod3 from $suite failed. Fix: check that $suite still ships libgpiod3 (packages.debian.org/$suite/libgpiod3)"

prefix="$work/prefix"
rm -rf "$prefix"
for deb in "$work"/debs/*.deb; do
    say "unpacking $(basename "$deb")"
    dpkg-deb -x "$deb" "$prefix"
done

header="$prefix/usr/include/gpiod.h"
[ -f "$header" ] || fail "$header is missing after unpacking. Fix: check the downloaded libgpiod-dev package"
grep -q 'gpiod_api_version' "$header" && ! grep -q 'GPIOD_LINE_BULK_MAX_LINES' "$header" \
    || fail "$header is not a libgpiod 2.x header. Fix: set DEBIAN_SUITE to a release with libgpiod 2.x"
library="$(ls "$prefix"/usr/lib/*/libgpiod.so 2>/dev/null | head -n 1)"
[ -n "$library" ] || fail "no libgpiod.so under $prefix/usr/lib. Fix: check the downloaded libgpiod-dev package"
libdir="$(dirname "$library")"
say "libgpiod 2.x: $(ls "$libdir" | grep -E '^libgpiod\.so\.[0-9]' | tr '\n' ' ')in $libdir"

# --- The shim against 2.x. The library is named by path (not -lgpiod) and found at run time through the
# rpath, so neither step can pick the system's libgpiod.so.2 (platform.md §1.3, "Observed pitfall").
flags=(-std=gnu11 -Wall -Wextra -Werror -I"$root/Sources/CGPIOD")
"$cc" "${flags[@]}" -I"$prefix/usr/include" -DCGPIOD_EXPECT_API=2 "$here/shim-test.c" "$library" \
    -Wl,-rpath,"$libdir" -o "$work/shim-test-v2"
linked="$(ldd "$work/shim-test-v2" | awk '/libgpiod/ {print $3}')"
case "$linked" in
    "$libdir"/*) say "shim-test-v2 links $linked" ;;
    *) fail "shim-test-v2 links '$linked', not the 2.x library in $libdir" ;;
esac
"$work/shim-test-v2"

# --- The shim against the system's 1.6, when it is installed.
if [ -f /usr/include/gpiod.h ] && grep -q 'GPIOD_LINE_BULK_MAX_LINES' /usr/include/gpiod.h; then
    "$cc" "${flags[@]}" -DCGPIOD_EXPECT_API=1 "$here/shim-test.c" -lgpiod -o "$work/shim-test-v1"
    "$work/shim-test-v1"
else
    say "skipping the 1.6 build: /usr/include/gpiod.h is not libgpiod 1.6 (install libgpiod-dev on Debian 12)"
fi

# --- Optionally the Swift package against 2.x, through a pkg-config file that points at the prefix.
if [ "$build_swift" -eq 1 ]; then
    mkdir -p "$work/pkgconfig"
    version="$(sed -n 's/^Version:[[:space:]]*//p' "$libdir/pkgconfig/libgpiod.pc" 2>/dev/null || true)"
    cat > "$work/pkgconfig/libgpiod.pc" <<EOF
Name: libgpiod
Description: libgpiod ${version:-2.x} unpacked from Debian $suite
Version: ${version:-2}
Libs: -L$libdir -lgpiod
Cflags: -I$prefix/usr/include
EOF
    # SwiftPM reads .pc files itself and, unlike pkg-config, keeps -L/usr/lib/<triplet> (sqlite3.pc has it).
    # That -L lands before ours and -lgpiod would find the system's 1.6 (platform.md §1.3). So every other
    # module the package names gets an overlay .pc with the flags pkg-config itself prints (system dirs dropped).
    for module in $(grep -o 'pkgConfig: "[^"]*"' "$root/Package.swift" | cut -d'"' -f2 | sort -u); do
        [ "$module" = libgpiod ] && continue
        pkg-config --exists "$module" 2>/dev/null || continue
        cat > "$work/pkgconfig/$module.pc" <<EOF
Name: $module
Description: $module as pkg-config resolves it, without system library folders
Version: $(pkg-config --modversion "$module")
Libs: $(pkg-config --libs "$module")
Cflags: $(pkg-config --cflags "$module")
EOF
    done
    scratch="$work/swift-build"
    say "swift build against libgpiod ${version:-2.x} (scratch path $scratch)"
    (cd "$root" && PKG_CONFIG_PATH="$work/pkgconfig" swift build --scratch-path "$scratch" --product clemap-edge \
        -Xlinker -rpath -Xlinker "$libdir" >&2)
    binary="$scratch/debug/clemap-edge"
    linked="$(ldd "$binary" | awk '/libgpiod/ {print $3}')"
    case "$linked" in
        "$libdir"/*) say "clemap-edge links $linked" ;;
        *) fail "clemap-edge links '$linked', not the 2.x library in $libdir" ;;
    esac
    set +e
    output="$(cd "$root" && "$binary" gpio-selftest --config calibration/config.ini --json 2>&1)"
    status=$?
    set -e
    echo "$output"
    echo "$output" | grep -q '"api":2' || fail "gpio-selftest did not report libgpiod API 2"
    if ls /dev/gpiochip* >/dev/null 2>&1; then
        say "gpio-selftest exited $status on a machine with GPIO chips"
    else
        [ "$status" -eq 1 ] || fail "gpio-selftest exited $status without a GPIO chip; expected 1"
        say "gpio-selftest (2.x build) failed cleanly without a GPIO chip, as expected"
    fi
    if ! output="$(cd "$root" && "$binary" gpio-selftest --config calibration/config.ini --simulate 2>&1)"; then
        echo "$output"
        fail "gpio-selftest --simulate failed in the 2.x build"
    fi
    say "gpio-selftest --simulate passed in the 2.x build"
    say "swift test (GPIO suites) against libgpiod ${version:-2.x}"
    (cd "$root" && PKG_CONFIG_PATH="$work/pkgconfig" swift test --scratch-path "$scratch" \
        -Xlinker -rpath -Xlinker "$libdir" --filter 'GPIOLibgpiodTests|MeterGPIOTests' >&2) \
        || fail "the GPIO tests failed in the 2.x build"
fi

[ "$keep" -eq 1 ] && say "kept $work"
say "libgpiod 2.x: shim compiled, linked and run; 1.6 checked too"
