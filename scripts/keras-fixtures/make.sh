#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the two pinned venvs (.venv-keras2: tf.keras 2.15; .venv-keras3: TensorFlow + Keras 3) in the repository
# and regenerates every fixture of Tests/KerasModelTests/Fixtures with them (then the model-update archives, from
# those and one more Keras 3 model). Needs python3 (3.11) and PyPI.
# Usage: scripts/keras-fixtures/make.sh      (about 1.5 GB per venv; the first run downloads TensorFlow twice)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/keras-fixtures
out=Tests/KerasModelTests/Fixtures
export TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES="" PYTHONHASHSEED=0 TF_ENABLE_ONEDNN_OPTS=0

for flavour in keras2 keras3; do
    venv=".venv-$flavour"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q -r "$here/requirements-$flavour.txt"
done

mkdir -p "$out"
.venv-keras2/bin/python "$here/make_fixtures.py" "$out"
.venv-keras3/bin/python "$here/make_fixtures.py" "$out"
.venv-keras3/bin/python "$here/make_update_fixtures.py" "$out"
ls -l "$out"
