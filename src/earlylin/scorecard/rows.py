"""How a scorecard row is built: verdicts, "not run" rows, and the table helpers every
claim uses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .criteria import FAILS, HOLDS, NOT_RUN


def verdict(ok: bool) -> str:
    return HOLDS if ok else FAILS


def row(figure: str, claim: str, paper: str, criterion: str, measured: str, result: str, note: str = "") -> dict:
    """One claim: where the paper makes it, the criterion, what this run measured, the
    verdict and, where it does not hold, a plain sentence on what the measurement shows."""
    return dict(
        figure=figure, claim=claim, paper=paper, criterion=criterion, measured=measured, verdict=result, note=note
    )


def not_run(
    figure: str, claim: str, paper: str, criterion: str, why: str = "its tables are not part of this run"
) -> dict:
    return row(figure, claim, paper, criterion, why, NOT_RUN)


def nearest_step(steps: pd.Series, target: int) -> int:
    """The logged step closest to ``target`` on a log scale (steps >= 1)."""
    candidates = np.unique(steps[steps >= 1].to_numpy())
    return int(candidates[np.argmin(np.abs(np.log(candidates) - np.log(target)))])


def by_seed(df: pd.DataFrame) -> pd.core.groupby.DataFrameGroupBy | list:
    """Group by seed (one group when the table has no seed column)."""
    return df.groupby("seed", sort=True) if "seed" in df.columns else [(0, df)]


def is_empty(df: pd.DataFrame | None) -> bool:
    return df is None or len(df) == 0


def worst_seed(values: dict[int, float], fmt: str = ".2%") -> str:
    """'worst: seed 1, 11.70%' for the largest of per-seed values ('' with one seed)."""
    if len(values) < 2:
        return ""
    seed = max(values, key=values.get)
    return f"worst: seed {seed}, {format(values[seed], fmt)}"
