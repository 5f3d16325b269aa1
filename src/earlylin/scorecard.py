"""The scorecard of the HTML report: each quantitative claim of the paper next to the
value this run measured, computed from the workflow's parquet tables (never typed in)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _nearest_step(steps: pd.Series, target: int) -> int:
    """The logged step closest to ``target`` on a log scale (steps >= 1)."""
    candidates = np.unique(steps[steps >= 1].to_numpy())
    return int(candidates[np.argmin(np.abs(np.log(candidates) - np.log(target)))])


def fig1_rows(losses: pd.DataFrame, discrepancy: pd.DataFrame) -> list[dict]:
    """Figure 1: test losses agree up to ~10^3 steps; the discrepancy falls as d grows."""
    test = losses[(losses["split"] == "test") & (losses["step"] <= 1000)]
    wide = test.groupby(["step", "model"])["value"].mean().unstack("model")
    gap = float((wide["network"] - wide["linear"]).abs().max())
    mse = discrepancy[discrepancy["metric"] == "output_mse"]
    step = _nearest_step(mse["step"], 10)
    per_d = mse[mse["step"] == step].groupby("d")["value"].mean()
    slope = np.polyfit(np.log(per_d.index.to_numpy(float)), np.log(per_d.to_numpy()), 1)[0] if len(per_d) > 1 else np.nan
    return [
        dict(figure="Figure 1a", claim="network and f_lin test losses indistinguishable for ~10^3 steps",
             paper="indistinguishable up to step 1,000",
             measured=f"largest |difference| over steps <= 1000: {gap:.4f} (test loss at step 1000: "
                      f"{wide['network'].iloc[-1]:.4f} vs {wide['linear'].iloc[-1]:.4f})"),
        dict(figure="Figure 1c", claim="network-vs-f_lin discrepancy smaller as d grows",
             paper="decreases with d",
             measured=f"output MSE at step {step}: " + ", ".join(f"d={d}: {v:.2e}" for d, v in per_d.items())
                      + f"; log-log slope {slope:.2f}"),
    ]


def fig2_rows(discrepancy: pd.DataFrame) -> list[dict]:
    """Figure 2: f_lin tracks the network much better than the naive linear model."""
    mse = discrepancy[(discrepancy["metric"] == "output_mse") & (discrepancy["step"] >= 1)]
    wide = mse.groupby(["step", "model"])["value"].mean().unstack("model")
    early = wide[wide.index <= 1000]
    ratio = early["naive"] / early["linear"]
    return [dict(figure="Figure 2", claim="f_lin is a much better approximation of the network than the naive model",
                 paper="much better",
                 measured=f"naive / f_lin output MSE to the network over steps 1..{int(early.index.max())}: "
                          f"min {ratio.min():.2f}, median {ratio.median():.2f}, max {ratio.max():.2f}")]


def regime_rows(horizons: pd.DataFrame) -> list[dict]:
    """Theorems 3.2, 3.5, D.1: agreement early in training, per regime, every activation."""
    rows = []
    for regime, group in horizons.groupby("regime", sort=False):
        failing = group[group["reached"]]
        detail = ", ".join(f"{r.activation} at step {int(r.horizon)}" for r in failing.itertuples()) or "none"
        rows.append(dict(
            figure="Regime grid", claim=f"{group['theorem'].iloc[0]}: network = {group['linear_model'].iloc[0]} early",
            paper="agreement for t <= c d log d / eta",
            measured=f"{len(group) - len(failing)} of {len(group)} jobs below relative MSE "
                     f"{group['threshold'].iloc[0]:g} up to step {int(group['last_step'].max())}; exceeded: {detail}",
        ))
    return rows


def deep_rows(discrepancy: pd.DataFrame) -> list[dict]:
    """Figures 3/4c: relative MSE network vs linear model small for the first ~10^3 steps."""
    rel = discrepancy[(discrepancy["metric"] == "relative_mse") & (discrepancy["step"] >= 1)]
    rows = []
    for (dataset, arch), group in rel.groupby(["dataset", "arch"], sort=True):
        step = _nearest_step(group["step"], 1000)
        value = group[group["step"] == step]["value"].mean()
        rows.append(dict(figure="Figures 3/4c", claim=f"{arch} on {dataset}: relative MSE to f_lin small early",
                         paper="small for the first ~1,000 steps",
                         measured=f"{value:.4f} at step {step} (max over steps <= {step}: "
                                  f"{group[group['step'] <= step]['value'].max():.4f})"))
    return rows


def fig5_rows(fits: pd.DataFrame, activation: str) -> list[dict]:
    """Figure 5: slopes of log ||Theta1(W(0)) - Theta_lin1|| against log d."""
    paper = {"spectral": -1.263, "frobenius": -0.718}
    sel = fits[(fits["kernel"] == "theta1") & (fits["activation"] == activation) & ~fits["identity_term"]]
    return [
        dict(figure="Figure 5", claim=f"{norm} norm of Theta1 - Theta_lin1 vs d ({activation})",
             paper=f"slope {paper[norm]}",
             measured=f"slope {row.slope:.3f} +- {row.stderr:.3f} over d = {row.d_min}..{row.d_max}")
        for norm in ("spectral", "frobenius")
        for row in sel[sel["norm"] == norm].itertuples()
    ]


def scorecard_html(table: pd.DataFrame, title: str) -> str:
    """A self-contained HTML page with the scorecard table."""
    body = table.to_html(index=False, escape=True, border=0, classes="scorecard")
    style = ("body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse} "
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>" \
           f"<body><h1>{title}</h1>{body}</body></html>"
