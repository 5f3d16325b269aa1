"""Figure fig_classes (earlylin.plots.any_classes) from hand-made tables: a row per (data set,
network), the pairs and models it draws, bands over seeds, and the NTK's cross-output blocks in
the row title."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection

from earlylin.plots.any_classes import plot_classes

STEPS = [0, 1, 10, 100]


def _tables(seeds=(0, 1)):
    discrepancy, fits, classes = [], [], []
    for net in ("fc", "resnet18"):
        for seed in seeds:
            job = dict(dataset="d10", net=net, loss="cross_entropy", seed=seed)
            for reference, other in (("network", "linear"), ("network", "linearised"), ("linearised", "linear")):
                discrepancy += [
                    dict(job, reference=reference, other=other, step=s, value=0.01 * s + seed) for s in STEPS[1:]
                ]
            fits.append(
                dict(job, cross_output=0.05 + 0.01 * seed, output_spread=0.1, residual_frobenius=0.2, outputs=10)
            )
            for step in STEPS:
                for model in ("network", "linearised", "linear"):
                    classes.append(dict(job, step=step, model=model, other="", metric="accuracy", value=0.5))
                    if model != "network":
                        classes.append(
                            dict(job, step=step, model="network", other=model, metric="class_agreement", value=0.9)
                        )
                classes.append(dict(job, step=step, model="network", other="", metric="information", value=2.0))
                classes.append(
                    dict(job, step=step, model="network", other="linear", metric="performance_correlation", value=1.8)
                )
    return {
        "discrepancy": pd.DataFrame(discrepancy),
        "kernel_fit": pd.DataFrame(fits),
        "classes": pd.DataFrame(classes),
    }


def test_one_row_per_network_with_every_pair_model_and_the_cross_output_blocks():
    fig = plot_classes(
        _tables(),
        datasets=["d10"],
        networks=["fc", "resnet18"],
        title="k classes",
        momentum=0.9,
        labels={"d10": "ten digits"},
    )
    axes = np.array(fig.axes).reshape(2, 4)
    for row, net in zip(axes, ("fc", "resnet18")):
        assert "ten digits" in row[0].get_title() and "momentum 0.9" in row[0].get_title()
        assert "NTK cross-output blocks 0.055 ± 0.0071 over 2 seeds of the diagonal" in row[0].get_title()
        assert "not Θ ⊗ I_k" not in row[0].get_title() and "describes little" not in row[0].get_title()
        assert net in row[1].get_title()
        assert len(row[0].get_lines()) == 3 + 1  # three pairs, the 5% line
        assert len(row[1].get_lines()) == 3  # accuracy of each model
        assert len(row[2].get_lines()) == 2  # agreement with the linearised network and the linear model
        assert len(row[3].get_lines()) == 2 + 1  # I(F; Y), mu, log2 10
        assert row[3].get_lines()[-1].get_ydata()[0] == np.log2(10)
        # two seeds: a min-max band under each line
        assert sum(isinstance(c, PolyCollection) for c in row[0].collections) == 3
    assert "mean over 2 seeds" in fig._suptitle.get_text()
    plt.close(fig)


def test_a_row_says_when_the_k_head_linear_model_cannot_describe_the_ntk():
    """ResNet-18's NTK on the ten digits: cross-output blocks 0.45 of the diagonal, fit residual
    0.79 (the default run's); and lr auto is replaced by the rate the runs trained with."""
    tables = _tables()
    fits = tables["kernel_fit"]
    tables["kernel_fit"] = fits.assign(cross_output=fits["cross_output"] + 0.4, residual_frobenius=0.79, lr=7.1e-4)
    fig = plot_classes(
        tables, datasets=["d10"], networks=["fc"], title="k classes", network_labels={"fc": "resnet18(), lr auto"}
    )
    title = fig.axes[0].get_title()
    assert "blocks > 0.1: not Θ ⊗ I_k; residual > 0.5: the linear model describes little of this NTK" in title
    assert "resnet18(), lr auto = 0.00071" in title
    plt.close(fig)
