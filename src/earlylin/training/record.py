"""What a run computes before its first step (``Setup``) and what it returns (``Run``), both
stored in its checkpoint and its finished record."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..kernels.fit import KernelFit
from ..kernels.simple_kernel import KernelCoefficients
from .engine import Logged
from .job import TrainingJob


@dataclass
class Setup:
    """What a run computes before its first step (and its tables report): the learning rate it
    trains with (with ``lambda_max`` when it came from the fitted kernel, ``lr: auto``), the
    linear model's coefficients, and for a fitted kernel the fit, its notes,
    the subset of training inputs it was fitted on and the mean empirical NTK there."""

    lr: float
    coefficients: KernelCoefficients
    fit: KernelFit | None = None
    notes: list[str] = field(default_factory=list)
    subset: np.ndarray | None = None
    mean_kernel: np.ndarray | None = None
    # lr: auto: the largest eigenvalue of the linear model's loss Hessian on the first minibatch
    lambda_max: float | None = None
    # k outputs: the NTK's cross-output blocks against its diagonal ones, and the diagonal
    # blocks' spread about their mean (``kernels.empirical.output_blocks``)
    cross_output: float | None = None
    output_spread: float | None = None

    def state(self) -> dict[str, Any]:
        scalars = {"lr": self.lr, "coefficients": asdict(self.coefficients), "notes": self.notes}
        for name in ("lambda_max", "cross_output", "output_spread"):
            if getattr(self, name) is not None:
                scalars[name] = getattr(self, name)
        scalars["fit"] = asdict(self.fit) if self.fit is not None else None
        arrays = {
            k: torch.from_numpy(np.array(v))
            for k, v in (("subset", self.subset), ("mean_kernel", self.mean_kernel))
            if v is not None
        }
        return {"scalars": json.dumps(scalars), **arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Setup:
        scalars = json.loads(state["scalars"])
        return cls(
            lr=float(scalars["lr"]),
            coefficients=KernelCoefficients(**scalars["coefficients"]),
            fit=KernelFit(**scalars["fit"]) if scalars["fit"] is not None else None,
            notes=list(scalars["notes"]),
            subset=state["subset"].numpy().copy() if "subset" in state else None,
            mean_kernel=state["mean_kernel"].numpy().copy() if "mean_kernel" in state else None,
            lambda_max=scalars.get("lambda_max"),
            cross_output=scalars.get("cross_output"),
            output_spread=scalars.get("output_spread"),
        )


@dataclass
class Run:
    """What a run measured: the job, its logged values, its setup, and its timings."""

    job: TrainingJob
    logged: Logged
    setup: Setup
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    resumed_from_step: int | None = None
    reused_finished: bool = False
    network: torch.nn.Module | None = None  # the trained network (None when a finished record was reused)

    @property
    def steps(self) -> np.ndarray:
        return np.asarray(self.logged.steps)

    def per_step(self, phase: str) -> float:
        """Seconds per entry of a timed phase (NaN when it was not timed apart)."""
        return self.seconds.get(phase, math.nan) / max(self.counts.get(phase, 0), 1)
