"""Small training jobs and data sets for the engine's tests: a tiny FC net or CNN, their linear
model from the recursion or a fitted kernel, and networks defined in a test (``local``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from earlylin.data.dataset import Dataset
from earlylin.networks import registry
from earlylin.training.job import NetworkEntry, TrainingJob

IMAGE_SHAPE = (2, 3, 3)
KWARGS = {"fc": {"depth": 2, "width": 64}, "cnn": {"depth": 2, "channels": 4, "filter_size": 3}}
KEYS = {
    "lr": "test.lr",
    "max_step": "test.max_step",
    "max_cpu_hours": "test.max_cpu_hours",
    "linearise": "test.linearise",
}


def tiny_data(d: int = 12, n: int = 64, n_test: int = 20, seed: int = 0, image_shape=None) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_test, d))
    y = np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)
    return Dataset(X[:n], y[:n], X[n:], y[n:], image_shape)


def normalised_data(d: int = 12, n: int = 64, n_test: int = 20, seed: int = 0, image_shape=None) -> Dataset:
    """``tiny_data`` with every input scaled to ||x||^2/d = 1 (the exact kernels need it)."""
    data = tiny_data(d, n, n_test, seed, image_shape)

    def scaled(X: np.ndarray) -> np.ndarray:
        return X * np.sqrt(X.shape[1] / np.sum(X * X, axis=1, keepdims=True))

    return Dataset(scaled(data.X_train), data.y_train, scaled(data.X_test), data.y_test, image_shape)


def data_for(architecture: str) -> Dataset:
    if architecture == "fc":
        return tiny_data(d=12)
    return tiny_data(d=int(np.prod(IMAGE_SHAPE)), image_shape=IMAGE_SHAPE)


def job(architecture: str = "fc", network: str | None = None, kwargs: dict | None = None, **changes) -> TrainingJob:
    """A job of ``architecture``'s built-in (or ``network``) with the recursion's linear model,
    lr 0.5, batch 16, 10 steps logged at 0, 1, 2, 3, 6, 10, seed 7; ``changes`` replace fields."""
    entry = NetworkEntry(
        architecture,
        network or architecture,
        kwargs if kwargs is not None else KWARGS.get(architecture, {}),
        f"test.{architecture}",
    )
    base = dict(
        dataset="tiny",
        seed=7,
        network=entry,
        lr=0.5,
        batch_size=16,
        max_step=10,
        steps_per_decade=4,
        dtype="float32",
        linear={"coefficients": "recursion", "architecture": architecture, "activation": "erf", "depth": 2},
        keys=KEYS,
    )
    if architecture not in KWARGS:
        base["linear"] = {"coefficients": "fit", "points": 12, "initialisations": 2}
    return TrainingJob(**{**base, **changes})


@pytest.fixture
def local_networks(monkeypatch) -> Callable[[str, Callable], str]:
    """Register a factory defined in a test under a name ('local:<name>') that the registry
    resolves, as it resolves a user's module:factory."""
    factories: dict[str, Callable] = {}
    resolve = registry.resolve_factory

    def resolved(spec):
        return factories[spec.network] if spec.network in factories else resolve(spec)

    monkeypatch.setattr(registry, "resolve_factory", resolved)

    def add(name: str, factory: Callable) -> str:
        factories[f"local:{name}"] = factory
        return f"local:{name}"

    return add


def parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]
