#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes (or remakes) a virtual environment holding exactly a pinned requirements file, only when it changed.
# Usage: scripts/ensure-venv.sh VENV REQUIREMENTS…    (prints nothing when the venv is up to date)
set -euo pipefail
venv="$1"; shift
stamp="$venv/.requirements.sha256"
wanted="$(cat "$@" | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
echo "making $venv from $* (pinned)" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check $(printf -- '-r %s ' "$@")
echo "$wanted" > "$stamp"
