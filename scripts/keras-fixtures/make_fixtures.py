#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the Keras model fixtures of Tests/KerasModelTests/Fixtures with real Keras, and Keras's own outputs.

Run it once in a Keras 2 venv (tf.keras 2.15) and once in a Keras 3 venv (see make.sh): each run writes the
files of its flavour and merges its entries into expected.json (the other flavour's entries are kept).

Usage: make_fixtures.py OUTPUT_FOLDER
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

KERAS_MAJOR = int(keras.__version__.split(".")[0])
FLAVOUR = f"keras{KERAS_MAJOR}"
WINDOW = 10
SEED = 20261125

# Windows of one-minute power sums in watts (l1_p + l2_p + l3_p): a quiet night, a kettle, a PV export, the
# flat zero of a dead CT, and two extremes (a 20 kW burst; a step from full export to full import).
RAW_WINDOWS = [
    [412.0, 398.5, 405.2, 420.9, 415.0, 409.3, 402.8, 399.1, 410.6, 418.4],
    [350.0, 360.0, 2350.0, 2410.0, 2395.5, 2380.0, 420.0, 380.0, 365.0, 372.5],
    [-1250.0, -1310.5, -1402.0, -1388.8, -1290.1, -1180.0, -1099.5, -1002.3, -950.0, -901.7],
    [0.0] * 10,
    [20000.0] * 10,
    [-15000.0, -15000.0, -15000.0, -15000.0, -15000.0, 15000.0, 15000.0, 15000.0, 15000.0, 15000.0],
]


def synthetic_series(n: int = 600) -> np.ndarray:
    """A household day in watts: base load, a morning and an evening peak, noise."""
    rng = np.random.default_rng(SEED)
    t = np.arange(n, dtype=np.float64)
    base = 400 + 250 * np.sin(2 * np.pi * t / 240) + 900 * (np.sin(2 * np.pi * t / 97) > 0.8)
    return (base + rng.normal(0, 60, n)).astype(np.float32)


def windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.stack([series[i:i + WINDOW] for i in range(len(series) - WINDOW)])[..., None]
    return x, series[WINDOW:][:, None]


def perturb_biases(model: keras.Model, rng: np.random.Generator) -> None:
    """Glorot kernels come from Keras; biases start at zero (LSTM forget gate at one), so give them values too,
    or a parser that drops the bias would still pass."""
    for layer in model.layers:
        weights = layer.get_weights()
        names = [w.name for w in layer.weights]
        if not weights:
            continue
        changed = []
        for name, w in zip(names, weights):
            if "bias" in name:
                w = w + rng.normal(0, 0.1, w.shape).astype(w.dtype)
            changed.append(w)
        layer.set_weights(changed)


def sequential(layers: list) -> keras.Sequential:
    return keras.Sequential([keras.Input(shape=(WINDOW, 1))] + layers)


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict(x.astype(np.float32), verbose=0).astype(np.float64)


def supported_activations(candidates: list[str]) -> list[str]:
    found = []
    for name in candidates:
        try:
            keras.activations.get(name)
            found.append(name)
        except Exception:  # noqa: BLE001 - Keras raises ValueError or others for unknown names
            pass
    return found


class Writer:
    def __init__(self, out: Path):
        self.out = out
        self.entries: dict[str, dict] = {}
        self.refusals: dict[str, dict] = {}
        self.rng = np.random.default_rng(SEED + KERAS_MAJOR)

    def record(self, name: str, model: keras.Model, windows_raw: list[list[float]], note: str,
               scaler: dict | None = None, inputs_scaled_by: dict | None = None) -> None:
        x = np.array(windows_raw, dtype=np.float64)[..., None]
        assert not (scaler and inputs_scaled_by)
        s = scaler or inputs_scaled_by
        xin = (x - s["mean"]) / s["std"] if s else x
        y = predict(model, xin)
        if scaler:
            y = y * scaler["target_std"] + scaler["target_mean"]
        assert np.all(np.isfinite(y)), f"{name}: Keras gave non-finite outputs {y}"
        self.entries[name] = {
            "flavour": FLAVOUR,
            "keras_version": keras.__version__,
            "note": note,
            "window_length": WINDOW,
            # What the runtime is given: raw watts, or for a model without a scaler but trained on scaled values,
            # the values as the model expects them.
            "inputs": [[float(v) for v in w.reshape(-1)] for w in (x if scaler else xin)],
            "outputs": [[float(v) for v in row.reshape(-1)] for row in y],
        }
        if scaler:
            self.entries[name]["scaler"] = scaler

    def save_h5(self, model: keras.Model, name: str) -> Path:
        path = self.out / name
        model.save(path)
        return path

    def merge_expected(self) -> None:
        path = self.out / "expected.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        models = {k: v for k, v in old.get("models", {}).items() if v.get("flavour") != FLAVOUR}
        models.update(self.entries)
        refusals = {k: v for k, v in old.get("refusals", {}).items() if v.get("flavour") != FLAVOUR}
        refusals.update(self.refusals)
        versions = old.get("versions", {})
        versions[FLAVOUR] = {"keras": keras.__version__, "tensorflow": tf.__version__,
                             "numpy": np.__version__, "h5py": h5py.__version__}
        doc = {"comment": "Made by scripts/keras-fixtures/make_fixtures.py; outputs are Keras's model.predict, "
                          "float32 computed, written as float64. Inputs are raw watts; a model with a scaler "
                          "gets (x - mean) / std and its output * target_std + target_mean.",
               "versions": versions, "models": dict(sorted(models.items())),
               "refusals": dict(sorted(refusals.items()))}
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def make_common(w: Writer, suffix: str) -> None:
    """Models both flavours write: the original's shape, GRUs, a stacked LSTM, a SimpleRNN, Dense activations."""
    keras.utils.set_random_seed(SEED)

    # 1. Like the original: InputLayer (10, 1) -> LSTM(32, relu) -> Dense(1), random weights, raw watts in.
    m = sequential([keras.layers.LSTM(32, activation="relu"), keras.layers.Dense(1)])
    perturb_biases(m, w.rng)
    w.save_h5(m, f"lstm_relu_{suffix}.h5")
    w.record(f"lstm_relu_{suffix}.h5", m, RAW_WINDOWS, "the original's architecture, random weights, raw watts")

    # 2. GRUs: reset_after True (the default) and False; recurrent activations hard_sigmoid and sigmoid.
    scale = {"mean": 600.0, "std": 700.0}
    for reset_after, recurrent in ((True, "hard_sigmoid"), (False, "hard_sigmoid"), (False, "sigmoid")):
        name = f"gru_reset_after_{str(reset_after).lower()}_{recurrent}_{suffix}.h5"
        try:
            m = sequential([keras.layers.GRU(12, reset_after=reset_after, recurrent_activation=recurrent),
                            keras.layers.Dense(1)])
        except Exception as error:  # noqa: BLE001
            w.refusals[f"gru_reset_after_{reset_after}_{suffix}"] = {"flavour": FLAVOUR, "keras_refused": str(error)}
            continue
        perturb_biases(m, w.rng)
        w.save_h5(m, name)
        w.record(name, m, RAW_WINDOWS, f"GRU reset_after={reset_after}, recurrent_activation={recurrent}, "
                 "inputs given scaled as (W - 600) / 700", inputs_scaled_by=scale)

    # 3. Two LSTMs stacked, return_sequences on the first, Dropout between; hard_sigmoid gates on the first.
    m = sequential([keras.layers.LSTM(16, return_sequences=True, recurrent_activation="hard_sigmoid"),
                    keras.layers.Dropout(0.25), keras.layers.LSTM(8), keras.layers.Dense(1)])
    perturb_biases(m, w.rng)
    name = f"lstm_stack_{suffix}.h5"
    w.save_h5(m, name)
    w.record(name, m, RAW_WINDOWS, "LSTM(16, return_sequences, hard_sigmoid gates) -> Dropout -> LSTM(8) -> Dense(1)",
             inputs_scaled_by=scale)

    # 4. SimpleRNN (tanh) -> Dense(4, relu) -> Dense(1); and a relu SimpleRNN with no bias.
    m = sequential([keras.layers.SimpleRNN(12), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    perturb_biases(m, w.rng)
    name = f"simplernn_{suffix}.h5"
    w.save_h5(m, name)
    w.record(name, m, RAW_WINDOWS, "SimpleRNN(12, tanh) -> Dense(4, relu) -> Dense(1)", inputs_scaled_by=scale)

    # 5. Normalization (adapted) -> Flatten -> one Dense(6) per activation Keras knows -> Dense(2).
    acts = supported_activations(["relu", "sigmoid", "hard_sigmoid", "tanh", "linear", "elu", "selu", "softplus",
                                  "softsign", "swish", "silu", "gelu", "relu6", "leaky_relu", "mish",
                                  "hard_silu", "hard_swish", "log_sigmoid", "celu", "hard_tanh",
                                  "squareplus", "sparse_plus", "tanh_shrink", "sparse_sigmoid", "soft_shrink",
                                  "hard_shrink", "softmax", "log_softmax", "exponential"])
    norm = keras.layers.Normalization(axis=-1)
    x_train, _ = windows(synthetic_series())
    norm.adapt(x_train)
    layers = [norm, keras.layers.Flatten()] + [keras.layers.Dense(6, activation=a) for a in acts]
    # `exponential` last of the hidden layers, after bounded ones: its inputs stay small. Two outputs.
    layers.append(keras.layers.Dense(2))
    m = sequential(layers)
    perturb_biases(m, w.rng)
    name = f"dense_activations_{suffix}.h5"
    w.save_h5(m, name)
    w.record(name, m, RAW_WINDOWS, "Normalization (adapted) -> Flatten -> Dense(6) with " + ", ".join(acts)
             + " -> Dense(2)")
    w.entries[name]["activations"] = acts

    # Dense over the time axis (per step), then an LSTM with tanh/sigmoid defaults, and no-bias layers.
    m = sequential([keras.layers.Dense(4, activation="tanh", use_bias=False),
                    keras.layers.LSTM(6, use_bias=False), keras.layers.Dense(1, activation="softplus")])
    name = f"dense_per_step_lstm_nobias_{suffix}.h5"
    w.save_h5(m, name)
    w.record(name, m, RAW_WINDOWS, "Dense(4, tanh, no bias) per time step -> LSTM(6, no bias) -> Dense(1, softplus)",
             inputs_scaled_by=scale)

    # 9b. An unsupported layer (Conv1D) for the refusal test.
    m = sequential([keras.layers.Conv1D(2, 3), keras.layers.Flatten(), keras.layers.Dense(1)])
    w.save_h5(m, f"conv1d_{suffix}.h5")
    w.refusals[f"conv1d_{suffix}.h5"] = {"flavour": FLAVOUR, "layer": "Conv1D"}

    # An LSTM with go_backwards: a supported class with an unsupported option.
    m = sequential([keras.layers.LSTM(4, go_backwards=True), keras.layers.Dense(1)])
    w.save_h5(m, f"lstm_go_backwards_{suffix}.h5")
    w.refusals[f"lstm_go_backwards_{suffix}.h5"] = {"flavour": FLAVOUR, "layer": "LSTM", "option": "go_backwards"}


def make_keras3_only(w: Writer) -> None:
    keras.utils.set_random_seed(SEED + 7)
    x_train, y_train = windows(synthetic_series())

    # 6. A .keras file (zip: config.json, metadata.json, model.weights.h5) with several layers.
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(x_train)
    m = sequential([norm, keras.layers.LSTM(8, return_sequences=True), keras.layers.Dropout(0.1),
                    keras.layers.GRU(6, recurrent_activation="hard_sigmoid"),
                    keras.layers.Dense(4, activation="gelu"), keras.layers.Dense(1)])
    perturb_biases(m, w.rng)
    m.save(w.out / "stack.keras")
    w.record("stack.keras", m, RAW_WINDOWS, "Normalization -> LSTM(8, seq) -> Dropout -> GRU(6, hard_sigmoid) "
             "-> Dense(4, gelu) -> Dense(1), saved as .keras")

    # 7. SageMaker-style model.tar.gz: model.h5 at the root; and one trained on scaled data with scaler.json.
    m = keras.models.load_model(w.out / "lstm_relu_k3.h5", compile=False)
    buffer = io.BytesIO()
    with tarfile.open(w.out / "sagemaker.tar.gz", "w:gz") as tar:
        tar.add(w.out / "lstm_relu_k3.h5", arcname="model.h5")
    w.record("sagemaker.tar.gz", m, RAW_WINDOWS, "lstm_relu_k3.h5 as model.h5 in a SageMaker model.tar.gz")

    mean, std = float(x_train.mean()), float(x_train.std())
    scaler = {"mean": mean, "std": std, "target_mean": float(y_train.mean()), "target_std": float(y_train.std()),
              "horizon_min": 15, "target": "mean"}
    m = sequential([keras.layers.LSTM(32, activation="relu"), keras.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    m.fit((x_train - mean) / std, (y_train - scaler["target_mean"]) / scaler["target_std"],
          epochs=3, batch_size=32, verbose=0)
    m.save(w.out / "scaled_model.h5")
    info = tarfile.TarInfo("scaler.json")
    body = (json.dumps(scaler, indent=1) + "\n").encode()
    info.size = len(body)
    with tarfile.open(w.out / "sagemaker_scaled.tar.gz", "w:gz") as tar:
        tar.add(w.out / "scaled_model.h5", arcname="model.h5")
        tar.addfile(info, io.BytesIO(body))
    w.record("sagemaker_scaled.tar.gz", m, RAW_WINDOWS, "LSTM(32, relu) trained 3 epochs on scaled data; "
             "scaler.json beside model.h5 (horizon 15 min, mean)", scaler=scaler)

    # The same model with the scaler as the HDF5 root attribute `clemap_scaler` (a JSON string).
    shutil.copy(w.out / "scaled_model.h5", w.out / "scaled_attr_k3.h5")
    with h5py.File(w.out / "scaled_attr_k3.h5", "a") as f:
        f.attrs["clemap_scaler"] = json.dumps(scaler)
    w.record("scaled_attr_k3.h5", m, RAW_WINDOWS, "scaled_model.h5 with the scaler as root attribute clemap_scaler",
             scaler=scaler)
    (w.out / "scaled_model.h5").unlink()

    # 8. The original's NaN model: LSTM(32 relu) -> Dense(1), every weight NaN, model.h5 in an uncompressed tar.
    m = sequential([keras.layers.LSTM(32, activation="relu"), keras.layers.Dense(1)])
    for layer in m.layers:
        layer.set_weights([np.full(v.shape, np.nan, dtype=np.float32) for v in layer.get_weights()])
    m.save(w.out / "model.h5")
    with tarfile.open(w.out / "nan_model.tar", "w") as tar:
        tar.add(w.out / "model.h5", arcname="model.h5")
    (w.out / "model.h5").unlink()
    w.refusals["nan_model.tar"] = {"flavour": FLAVOUR, "message": "the model's weights contain NaN"}

    # 9a. A TensorFlow SavedModel folder.
    m = sequential([keras.layers.Flatten(), keras.layers.Dense(1)])
    target = w.out / "saved_model"
    shutil.rmtree(target, ignore_errors=True)
    m.export(str(target), verbose=False)
    w.refusals["saved_model"] = {"flavour": FLAVOUR, "message": "SavedModel"}


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/KerasModelTests/Fixtures").resolve()
    out.mkdir(parents=True, exist_ok=True)
    w = Writer(out)
    make_common(w, f"k{KERAS_MAJOR}")
    if KERAS_MAJOR >= 3:
        make_keras3_only(w)
    w.merge_expected()
    print(f"{FLAVOUR} (keras {keras.__version__}, tensorflow {tf.__version__}): "
          f"{len(w.entries)} models, {len(w.refusals)} refusal fixtures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
