"""The localizer's model: a logistic regression over candidate features, and how many to keep.

Why a logistic regression and not a bigger learner: the training rows are one repository's own
commits (hundreds to a few thousand tasks), the features are few and already meaningful, and
the model must train in seconds on two CPU cores and answer in milliseconds. It is fitted by
Newton's method with an L2 penalty in plain numpy (no new dependency). "How many files" is a
probability threshold and a cut relative to the task's best file (a confident first file makes
weak seconds less likely), both tuned on the training tasks for mean per-task F1, with at least
one file and at most ``max_files``; those two, the weights and the feature standardisation are
the whole model, saved as one JSON file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flowloop.errors import RegistryError

# the registry knows a non-specialist model folder by its ``config.json``; for a logistic
# regression the weights are the whole model, so they are that file
MODEL_FILE = "config.json"
FORMAT = 1
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 19))
RELATIVE = (0.0, 0.3, 0.5, 0.7)


@dataclass
class LocalizerModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float = 0.5
    relative: float = 0.0  # also drop files below this share of the task's best probability
    max_files: int = 12
    format: int = FORMAT

    def scores(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        """P(the task touches the file) for each feature row."""
        if not rows:
            return np.zeros(0)
        x = (np.asarray(rows, dtype=float) - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.weights) + self.bias)))

    def select(self, paths: Sequence[str], rows: Sequence[Sequence[float]], threshold: float | None = None,
               relative: float | None = None) -> list[tuple[str, float]]:
        """The files kept for one task, best first: those at or above the threshold and the
        relative cut (a share of the best file's probability), at least one."""
        if not paths:
            return []
        probs = self.scores(rows)
        order = sorted(range(len(paths)), key=lambda i: (-probs[i], i))
        cut = max(self.threshold if threshold is None else threshold,
                  (self.relative if relative is None else relative) * probs[order[0]])
        kept = [i for i in order if probs[i] >= cut][: self.max_files] or order[:1]
        return [(paths[i], float(probs[i])) for i in kept]

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> "LocalizerModel":
        path = folder / MODEL_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            model = cls(**data)
        except FileNotFoundError as exc:
            raise RegistryError("localizer version without its model file", path=path,
                                hint="remove the version folder and run `flow train localizer`") from exc
        except (ValueError, TypeError) as exc:
            raise RegistryError(f"corrupt localizer model: {exc}", path=path,
                                hint="remove the version folder and run `flow train localizer`") from exc
        if model.format != FORMAT or len(model.weights) != len(model.features):
            raise RegistryError("localizer model of another format", path=path, hint="retrain with `flow train localizer`")
        from flowloop.localize.features import FEATURES

        if unknown := [name for name in model.features if name not in FEATURES]:
            raise RegistryError(f"localizer model uses features this version does not compute: {', '.join(unknown)}",
                                path=path, hint="retrain with `flow train localizer`")
        return model

    def project(self, names: Sequence[str], rows: Sequence[Sequence[float]]) -> list[list[float]]:
        """``rows`` laid out as ``names`` (the builder's features), cut to this model's features:
        a model saved before a feature was added still scores with the columns it knows."""
        columns = [list(names).index(name) for name in self.features]
        return [[row[i] for i in columns] for row in rows]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 30) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Weights, bias, mean and scale of an L2-penalised logistic regression (Newton steps)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-6)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-6:
            break
    return w[:-1], float(w[-1]), mean, scale
