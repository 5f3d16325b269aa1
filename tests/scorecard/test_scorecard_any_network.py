"""fig_models' scorecard rows and its figure, on hand-made tables in the format of its jobs'."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from earlylin.plots.any_network import plot_models
from earlylin.scorecard.any_network import model_rows
from earlylin.scorecard.criteria import FAILS, HOLDS, NOT_RUN

STEPS = np.array([0, 1, 10, 100, 1000, 5000])


def _discrepancy(net, seed, to_linear, to_linearised):
    rows = []
    for other, values in (("linear", to_linear), ("linearised", to_linearised)):
        rows.append(
            pd.DataFrame(
                dict(dataset="mnist", net=net, seed=seed, reference="network", other=other, step=STEPS, value=values)
            )
        )
    return pd.concat(rows, ignore_index=True)


def _fits(net, residuals, notes=""):
    return pd.DataFrame(
        dict(
            dataset="mnist",
            net=net,
            seed=list(range(len(residuals))),
            residual_frobenius=residuals,
            data_overlap=0.5,
            notes=notes,
            constant=-0.1,
            linear=1.2,
            norm=0.0,
            model_constant=0.0,
            with_norm_term=False,
        )
    )


def test_model_rows_horizons_residuals_and_notes():
    """The horizon is the first logged step in 1..1,000 above 5% (step 5,000 is outside the
    criterion); a residual above 0.2 fails; the linear row says where the gap comes from
    when the network agrees with its linearised network."""
    quiet = [np.nan, 0.01, 0.01, 0.02, 0.03, 0.5]
    late = [np.nan, 0.01, 0.02, 0.08, 0.1, 0.5]
    lazy = [np.nan, 1e-5, 1e-5, 1e-5, 1e-5, 0.3]
    discrepancy = pd.concat(
        [
            _discrepancy("fc", 0, quiet, lazy),
            _discrepancy("fc", 1, late, lazy),
            _discrepancy("cnn", 0, quiet, late),
        ],
        ignore_index=True,
    )
    fits = pd.concat([_fits("fc", [0.05, 0.08], "fitted constant < 0"), _fits("cnn", [0.3])], ignore_index=True)
    rows = {r["claim"]: r for r in model_rows(fits, discrepancy)}
    fit = rows["fc on mnist: its NTK is Section 4.1's simple kernel"]
    assert fit["verdict"] == HOLDS and "worst: seed 1, 0.080" in fit["measured"] and "0.50" in fit["measured"]
    assert fit["note"] == "fitted constant < 0"
    assert rows["cnn on mnist: its NTK is Section 4.1's simple kernel"]["verdict"] == FAILS
    linear = rows["fc on mnist: agrees with the linear model of its fitted NTK early"]
    assert linear["verdict"] == FAILS and linear["measured"].startswith("seed 1: step 100; beyond 1,000 in the others")
    assert "agrees with its linearised network throughout" in linear["note"] and "far from" in linear["note"]
    assert rows["fc on mnist: agrees with its linearised network early"]["verdict"] == HOLDS
    cnn_linear = rows["cnn on mnist: agrees with the linear model of its fitted NTK early"]
    assert cnn_linear["verdict"] == HOLDS and cnn_linear["measured"].startswith("beyond step 1,000 in every seed")
    assert rows["cnn on mnist: agrees with its linearised network early"]["measured"].startswith("seed 0: step 100")
    order = [r["claim"] for r in model_rows(fits, discrepancy)][:3]  # per network: fit, linear model, linearised
    assert [claim.split(": ")[1].split()[2] for claim in order] == ["is", "the", "its"]
    assert {r["verdict"] for r in model_rows(None, None)} == {NOT_RUN}


def _figure_tables(seeds, residual=0.1):
    rng = np.random.default_rng(0)
    steps = STEPS[:5]
    losses, discrepancy, fits, entries, movement = [], [], [], [], []
    for seed in seeds:
        for model in ("network", "linearised", "linear", "exact_kernel"):
            losses.append(
                pd.DataFrame(
                    dict(model=model, step=steps, split="test", metric="loss", value=1 / (1 + steps), seed=seed)
                )
            )
        for reference, other in (("network", "linear"), ("network", "linearised"), ("linearised", "linear")):
            discrepancy.append(
                pd.DataFrame(dict(reference=reference, other=other, step=steps, value=0.01 + 0.001 * seed, seed=seed))
            )
        fit = _fits("fc", [residual])
        fits.append(fit.assign(seed=seed))
        overlap = rng.uniform(0, 1, 50)
        entries.append(
            pd.DataFrame(
                dict(overlap=overlap, entry=1.2 * overlap - 0.1, fitted=1.2 * overlap, diagonal=False, seed=seed)
            )
        )
        movement.append(pd.DataFrame(dict(step=[0, 10, 1000], value=[0.0, 1e-4, 1e-3], seed=seed)))
    tables = dict(losses=losses, discrepancy=discrepancy, kernel_fit=fits, ntk_entries=entries, movement=movement)
    return {k: pd.concat(v, ignore_index=True).assign(dataset="mnist", net="fc") for k, v in tables.items()}


@pytest.mark.parametrize("seeds", [[0], [0, 1]])
def test_fig_models_draws_four_panels_and_says_when_the_fit_fails(seeds):
    fig = plot_models(_figure_tables(seeds, residual=0.7), datasets=["mnist"], networks=["fc"], title="t")
    axes = fig.axes
    assert len(axes) == 4
    relative_labels = [line.get_label() for line in axes[0].get_lines()]
    assert {"network vs linear model", "network vs linearised", "linearised vs linear model"} <= set(relative_labels)
    assert "exact_kernel" not in relative_labels
    assert [line.get_label() for line in axes[1].get_lines()][:4] == [
        "network",
        "linearised network",
        "linear model (fitted NTK)",
        "infinite-width kernel model",
    ]
    title = axes[3].get_title()
    assert "fit: -0.1 + 1.2 x·x'/d" in title and "fitted constant < 0" not in title
    assert "the linear model describes little of this NTK" in title  # residual 0.7 > 0.5
    assert {line.get_label() for line in axes[3].get_lines()} == {"the linear model's kernel", "least-squares fit"}
    assert ("mean over 2 seeds" in fig._suptitle.get_text()) == (len(seeds) == 2)
    plt.close(fig)
