"""Sizes and step counts of the time- and width-scale sweeps (``experiments.scales``): the
theorems' n, m >~ d^(1+alpha) and time scale d log d / eta (Theorem 3.2 / D.1). Light (no
numpy, pandas or torch): the workflow uses it while it parses the Snakefile."""

from __future__ import annotations

import math


def scaled_size(d: int, C: float, alpha: float) -> int:
    """n = m = C d^(1+alpha), rounded to the nearest even integer (symmetric init), >= 2."""
    if d < 1 or C <= 0 or alpha < 0:
        raise ValueError(f"need d >= 1, C > 0, alpha >= 0; got d = {d}, C = {C}, alpha = {alpha}")
    return max(2, 2 * int(round(C * d ** (1.0 + alpha) / 2.0)))


def theorem_time(d: int, lr: float) -> float:
    """The theorems' time scale d log d / eta (natural log; c = 1)."""
    return d * math.log(d) / lr


def horizon_max_step(d: int, lr: float, window: float) -> int:
    """Last step of a horizon run: ``window`` times d log d / eta, rounded up (>= 1)."""
    return max(1, math.ceil(window * theorem_time(d, lr)))
