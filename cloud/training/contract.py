# SPDX-License-Identifier: Apache-2.0
"""What RetrainTrigger and train.py agree on: the hyperparameters, and the metric lines the job prints with the
definitions SageMaker reads them by.

One file for both sides, so a job's log, its metrics and the trigger's configuration cannot drift apart. No imports:
the trigger's Lambda loads it without numpy or TensorFlow.
"""

#: Every hyperparameter train.py takes, with its default (its type is the default's); cloud/README.md describes them.
HYPERPARAMETERS: dict[str, int | float | str] = {
    "window": 60, "horizon": 15, "target": "mean", "cell": "lstm", "units": 32, "epochs": 20, "batch_size": 256,
    "learning_rate": 0.001, "validation_fraction": 0.2, "min_skill": 0.0, "format": "h5", "seed": 1,
}

#: The key train.py prints (`key=value;`) → the metric's name in SageMaker (and in PublishModel's check).
METRICS = {"validation_mae": "validation:mae", "persistence_mae": "validation:persistence_mae", "skill": "validation:skill"}

#: CreateTrainingJob's AlgorithmSpecification.MetricDefinitions.
METRIC_DEFINITIONS = [{"Name": name, "Regex": key + r"=([-+0-9.eE]+);"} for key, name in METRICS.items()]


def metric_line(key: str, value: float) -> str:
    """`skill=0.183;`: what a definition's regex reads (a non-finite value such as `-inf` is not read)."""
    assert key in METRICS, key
    return f"{key}={value};"
