"""Scorecard rows of fig5_models (beyond the paper): does the simple kernel fitted to each
network's NTK describe it better as d grows, as Section 4.1's premise (x.x'/d -> 0) says?"""

from __future__ import annotations

import math

import pandas as pd

from .criteria import CRITERIA
from .rows import is_empty, not_run, row, verdict

CLAIM = (
    "Figure 5 for any network",
    "the network's NTK approaches the simple kernel fitted to it as d grows",
    "Section 4.1, Figure 5 (two-layer net): ‖Θ − Θ_lin‖ falls with d",
)
_NORM, _RATIO = "spectral", "spectral_ratio"


def kernel_fit_rows(norms: pd.DataFrame | None, fits: pd.DataFrame | None) -> list[dict]:
    if is_empty(norms) or is_empty(fits):
        return [not_run(*CLAIM, CRITERIA["fig5_models"])]
    rows = []
    for network, part in norms.groupby("network", sort=False):
        fit = fits[(fits["network"] == network) & (fits["norm"] == _NORM)].iloc[0]
        ratio = fits[(fits["network"] == network) & (fits["norm"] == _RATIO)].iloc[0]
        mean = part.groupby("d")[[_NORM, _RATIO]].mean().sort_index()
        stderr = float(fit["stderr"])
        falls = bool(math.isfinite(stderr) and fit["slope"] < -2.0 * stderr)
        spread = f" ± {stderr:.2f}" if math.isfinite(stderr) else " (two values of d: no error)"
        first, last = mean.index[0], mean.index[-1]
        measured = (
            f"{network}: ‖offdiag(Θ − K_fit)‖₂ {mean.loc[first, _NORM]:.3g} at d = {first}, "
            f"{mean.loc[last, _NORM]:.3g} at d = {last}, slope {fit['slope']:.2f}{spread}; relative to "
            f"‖offdiag(Θ)‖₂: {mean.loc[first, _RATIO]:.3f} → {mean.loc[last, _RATIO]:.3f}, slope {ratio['slope']:.2f} "
            f"(n = {int(part['n'].max()):,}, {part['seed'].nunique()} seed(s))"
        )
        note = ""
        if not falls:
            note = "the residual of the fitted simple kernel does not fall with d in this run"
        elif ratio["slope"] >= 0:
            note = (
                "the residual falls with d, but no faster than the NTK's own off-diagonal part: the fitted kernel "
                "does not describe this network's NTK better, relative to its size, at larger d"
            )
        claim = (CLAIM[0], f"{network}: {CLAIM[1]}", CLAIM[2])
        rows.append(row(*claim, CRITERIA["fig5_models"], measured, verdict(falls), note))
    return rows
