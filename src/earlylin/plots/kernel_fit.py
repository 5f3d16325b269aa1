"""Figure 5 for any network (``fig5_models``): how far each network's NTK is from the simple
kernel fitted to it, against the input dimension d, with fitted slopes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .style import log_log, mean_errorbars, plain_log_ticks, seeds_note, set_style, suptitle

NORM_COLORS = {"spectral": "#1f77b4", "frobenius": "#ff7f0e"}
PANELS = (
    ("", "‖offdiag(Θ − K_fit)‖", "absolute"),
    ("_ratio", "‖offdiag(Θ − K_fit)‖ / ‖offdiag(Θ)‖", "relative to the kernel"),
)


def plot_kernel_fit_norms(norms: pd.DataFrame, fits: pd.DataFrame, *, networks: list[str], title: str) -> plt.Figure:
    """One row per network: the norms of the fitted kernel's residual (left) and their ratio
    to the NTK's own off-diagonal norms (right) against d on log-log axes, mean over seeds
    with min-max error bars, and the least-squares lines with their slopes in the legend."""
    set_style()
    fig, axes = plt.subplots(
        len(networks), 2, figsize=(11, 3.6 * len(networks)), squeeze=False, constrained_layout=True
    )
    for i, network in enumerate(networks):
        sel = norms[norms["network"] == network]
        panel_fits = fits[fits["network"] == network]
        method = ", ".join(sorted(sel["method"].unique()))
        n = ", ".join(f"{v:,}" for v in sorted(sel["n"].unique()))
        for j, (suffix, ylabel, what) in enumerate(PANELS):
            ax = axes[i][j]
            for norm, colour in NORM_COLORS.items():
                column = norm + suffix
                stats = mean_errorbars(ax, sel, "d", column, color=colour, ms=5)
                fit = panel_fits[panel_fits["norm"] == column].iloc[0]
                grid = np.geomspace(stats.index.min(), stats.index.max(), 40)
                spread = f" ± {fit['stderr']:.2f}" if np.isfinite(fit["stderr"]) else ""
                ax.plot(
                    grid,
                    np.exp(fit["intercept"]) * grid ** fit["slope"],
                    color=colour,
                    lw=1.3,
                    label=f"{norm}: slope {fit['slope']:.2f}{spread}",
                )
            log_log(ax, "input dimension d", ylabel, f"{network}: {what}  (n = {n}, {method})")
            d_values = sorted(sel["d"].unique())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(d_values, [str(d) for d in d_values])
            plain_log_ticks(ax.yaxis)
            ax.legend(fontsize="small", frameon=False)
    flat = [
        network
        for network in networks
        if float(fits[(fits["network"] == network) & (fits["norm"] == "spectral_ratio")]["slope"].iloc[0]) >= 0
    ]
    note = ""
    if flat:
        note = (
            f"\nthe ratio (right) does not fall with d for {', '.join(flat)}: the residual shrinks no faster than "
            "the NTK's own off-diagonal part at this size"
        )
    suptitle(fig, title + seeds_note(norms).replace("band", "error bars") + note)
    return fig
