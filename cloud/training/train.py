# SPDX-License-Identifier: Apache-2.0
"""The training job (cloud/README.md): the lake's minutes → a checked forecast model and its scaler.

SageMaker's TensorFlow container runs it in script mode; it also runs locally. Unlike the original train_lstm.py,
it scales, windows only consecutive minutes, holds out the most recent part, and refuses (exit 1, nothing saved,
the reason in SageMaker's failure file) a model with non-finite weights or outputs, or one not better than
persistence: a failed job publishes nothing, so no device ever gets such a model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # minutes.py beside it, however the script is started
import minutes  # noqa: E402
import contract  # noqa: E402

if TYPE_CHECKING:
    import keras

# What the device serves (KerasModel.forecastTarget): target → horizons in minutes.
SERVED = {"value": (1, 15, 60), "mean": (15, 60)}
CELLS = ("lstm", "gru", "simple_rnn")
FORMATS = ("h5", "keras")


class Refusal(Exception):
    """A model that must not be published."""


def _decoded(text: str) -> str:
    """SageMaker may pass hyperparameters JSON-quoted (`"lstm"` with its quotes): unquote them."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return str(json.loads(text))
    return text


def _int(text: str) -> int:
    return int(_decoded(text))


def _float(text: str) -> float:
    return float(_decoded(text))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    env = os.environ.get
    parser.add_argument("--training", type=Path,
                        default=Path(env("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training")))
    parser.add_argument("--model-dir", dest="model_folder", type=Path,
                        default=Path(env("SM_MODEL_DIR", "/opt/ml/model")))
    # SageMaker's TF estimator adds --model_dir s3://…, meant for TF checkpoints; the model goes to SM_MODEL_DIR.
    parser.add_argument("--model_dir", dest="ignored_model_dir", help=argparse.SUPPRESS)
    output_data = env("SM_OUTPUT_DATA_DIR")
    parser.add_argument("--output-data-dir", type=Path, default=Path(output_data) if output_data else None)
    parser.add_argument("--failure-file", type=Path,
                        default=Path("/opt/ml/output/failure") if Path("/opt/ml/output").is_dir() else None)
    for name, default in contract.HYPERPARAMETERS.items():
        kind = {int: _int, float: _float, str: _decoded}[type(default)]
        spellings = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        parser.add_argument(*spellings, dest=name, type=kind, default=default)
    return parser.parse_args(argv)


def check(args: argparse.Namespace) -> None:
    """Hyperparameters the device could not serve fail before any data is read."""
    if args.target not in SERVED or args.horizon not in SERVED[args.target]:
        served = "; ".join(f"{t} {', '.join(map(str, h))}" for t, h in SERVED.items())
        raise ValueError(f"target {args.target!r} with horizon {args.horizon}: the device serves {served}")
    if args.cell not in CELLS:
        raise ValueError(f"cell {args.cell!r}: one of {', '.join(CELLS)}")
    if args.format not in FORMATS:
        raise ValueError(f"format {args.format!r}: one of {', '.join(FORMATS)}")
    for name in ("window", "units", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} {getattr(args, name)}: must be at least 1")
    if args.epochs < 0 or not args.learning_rate > 0:
        raise ValueError(f"epochs {args.epochs}, learning_rate {args.learning_rate}: must be ≥ 0 and > 0")


def build(args: argparse.Namespace) -> keras.Sequential:
    import keras  # imported only here and in train: a bad hyperparameter or CSV fails in a second

    cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}[args.cell]
    model = keras.Sequential([keras.Input((args.window, 1)), cell(args.units), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate), loss="mae")
    return model


def save(model: keras.Model, scaler: dict[str, float | int | str], folder: Path, file_name: str) -> None:
    """Both files are written to a hidden folder inside the model folder and moved in only when complete."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=folder))
    moved: list[Path] = []
    try:
        model.save(str(staging / file_name))
        (staging / "scaler.json").write_text(json.dumps(scaler) + "\n")
        for name in (file_name, "scaler.json"):
            os.replace(staging / name, folder / name)
            moved.append(folder / name)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def train(args: argparse.Namespace, metrics: dict[str, float]) -> None:
    """Read, split, scale, fit, judge (into `metrics`, kept on a refusal too); raises Refusal before any save."""
    series = minutes.read_folder(args.training)
    samples = minutes.all_windows(series, args.window, args.horizon, args.target)
    training, validation = minutes.split(series, samples, args.validation_fraction)
    scaler = minutes.fit_scaler(training)
    print(f"{len(series)} device(s) ({', '.join(series)}), {sum(len(s.times) for s in series.values())} minutes, "
          f"{len(training)} training and {len(validation)} validation windows", flush=True)

    import keras

    keras.utils.set_random_seed(args.seed)
    model = build(args)
    x = (training.inputs[..., None] - scaler.mean) / scaler.std
    y = (training.targets - scaler.target_mean) / scaler.target_std
    model.fit(x.astype(np.float32), y.astype(np.float32), epochs=args.epochs, batch_size=args.batch_size,
              shuffle=True, verbose=2)
    scaled = model.predict(((validation.inputs[..., None] - scaler.mean) / scaler.std).astype(np.float32),
                           batch_size=args.batch_size, verbose=0)
    forecasts = scaled.reshape(-1).astype(np.float64) * scaler.target_std + scaler.target_mean
    metrics["validation_mae"] = minutes.mae(forecasts, validation.targets)
    metrics["persistence_mae"] = minutes.mae(minutes.persistence(validation), validation.targets)
    metrics["skill"] = minutes.skill(metrics["validation_mae"], metrics["persistence_mae"])
    for name, value in metrics.items():
        print(contract.metric_line(name, value), flush=True)  # SageMaker's metric definitions read these lines
    print(f"validation MAE {metrics['validation_mae']:.6g} W against persistence {metrics['persistence_mae']:.6g} W: "
          f"skill {metrics['skill']:.4g} (must exceed {args.min_skill})", flush=True)

    if not all(np.isfinite(w).all() for w in model.get_weights()):
        raise Refusal("the model's weights are non-finite (NaN or inf): the training diverged")
    if not np.isfinite(forecasts).all():
        raise Refusal("the model's validation outputs are non-finite (NaN or inf)")
    if not metrics["skill"] > args.min_skill:
        raise Refusal(f"skill {metrics['skill']:.4g} <= min_skill {args.min_skill}: validation MAE "
                      f"{metrics['validation_mae']:.6g} W is not enough better than persistence "
                      f"{metrics['persistence_mae']:.6g} W")
    save(model, scaler.as_json(args.horizon, args.target), args.model_folder, f"model.{args.format}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    metrics: dict[str, float] = {}
    reason = None
    try:
        check(args)
        train(args, metrics)
    except Exception as error:  # every failure reaches SageMaker's FailureReason
        if isinstance(error, Refusal):
            reason = f"refused: {error}"
        elif isinstance(error, ValueError):
            reason = f"error: {error}"
        else:
            traceback.print_exc()
            reason = f"error: {type(error).__name__}: {error}"
        print(reason, file=sys.stderr, flush=True)
        if args.failure_file:
            args.failure_file.parent.mkdir(parents=True, exist_ok=True)
            args.failure_file.write_text(reason + "\n")
    if args.output_data_dir:  # metrics beside, never in the model folder (the device refuses extra files)
        args.output_data_dir.mkdir(parents=True, exist_ok=True)
        (args.output_data_dir / "metrics.json").write_text(json.dumps({**metrics, "failure": reason}) + "\n")
    if reason:
        return 1
    print(f"saved model.{args.format} and scaler.json in {args.model_folder}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
