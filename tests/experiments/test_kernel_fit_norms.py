"""fig5_models: one job's norms (dense and matrix-free agree), the slopes, the figure, the
scorecard rows, and the bad settings of its config section refused before any job."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_runs import ROOT

from earlylin.core.config import ConfigError
from earlylin.experiments.configuration import check_config
from earlylin.experiments.kernel_fit_norms import fit_slopes, job_wildcards, norms_job, norms_table
from earlylin.plots.kernel_fit import plot_kernel_fit_norms
from earlylin.scorecard.criteria import FAILS, HOLDS, NOT_RUN
from earlylin.scorecard.kernel_fit import kernel_fit_rows

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")


def _config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _small(config, **section):
    config["models"]["networks"]["tiny"] = {"network": "fc", "kwargs": {"depth": 2, "width": 16}, "lr": 1.0}
    config["fig5_models"].update(
        {"networks": ["tiny"], "sides": [3, 4], "points": 40, "kernel_points": 24, "seeds": [0], **section}
    )
    check_config(config, SCHEMA)
    return config


def test_the_default_jobs_cover_every_network_side_and_seed():
    config = _config()
    check_config(config, SCHEMA)
    jobs = job_wildcards(config)
    assert len(jobs) == 4 * 5 * 2
    assert {j["net"] for j in jobs} == {"fc", "cnn", "resnet", "fcstandard"}


def test_dense_and_matrix_free_norms_agree():
    config = _config()
    dense = norms_table(norms_job(_small(config), "tiny", 3, 0), device="cpu").iloc[0]
    free_config = _small(_config(), dense_points=0, probes=200, tolerance=1e-10)
    free = norms_table(norms_job(free_config, "tiny", 3, 0), device="cpu").iloc[0]
    assert (dense["method"], free["method"]) == ("dense", "matrix-free")
    assert dense["d"] == 9 and dense["n"] == 40 and dense["frobenius_stderr"] == 0
    assert free["spectral"] == pytest.approx(dense["spectral"], rel=1e-7)
    assert free["theta_spectral"] == pytest.approx(dense["theta_spectral"], rel=1e-7)
    assert abs(free["frobenius"] - dense["frobenius"]) < 4 * free["frobenius_stderr"]
    assert 0 < dense["spectral_ratio"] < 1 and dense["linear"] > 0


def _norms(slope: float, ratio_slope: float = -0.25, seeds=(0, 1)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for d in (16, 64, 256):
            scale = 1 + 0.01 * seed
            rows.append(
                dict(
                    network="fc",
                    d=d,
                    n=300,
                    seed=seed,
                    method="dense",
                    spectral=2.0 * scale * d**slope,
                    frobenius=5.0 * scale * d**-0.3,
                    spectral_ratio=0.3 * scale * d**ratio_slope,
                    frobenius_ratio=0.4 * scale * d**-0.2,
                )
            )
    return pd.DataFrame(rows)


def test_slopes_are_the_power_laws_of_the_mean_over_seeds():
    fits = fit_slopes(_norms(-0.5)).set_index("norm")
    assert fits.loc["spectral", "slope"] == pytest.approx(-0.5, abs=1e-12)
    assert fits.loc["spectral_ratio", "slope"] == pytest.approx(-0.25, abs=1e-12)
    assert fits.loc["frobenius", "stderr"] == pytest.approx(0.0, abs=1e-10)
    assert fits.loc["spectral", "seeds"] == 2


def test_the_scorecard_says_whether_the_residual_falls_with_d():
    rng = np.random.default_rng(0)
    falling = _norms(-0.5)
    falling["spectral"] *= 1 + 0.01 * rng.standard_normal(len(falling))
    flat = _norms(0.0)
    flat["spectral"] *= 1 + 0.05 * rng.standard_normal(len(flat))
    assert [(r["verdict"], r["note"]) for r in kernel_fit_rows(falling, fit_slopes(falling))] == [(HOLDS, "")]
    row = kernel_fit_rows(flat, fit_slopes(flat))[0]
    assert row["verdict"] == FAILS and "does not fall" in row["note"]
    slower = _norms(-0.5, ratio_slope=0.1)
    row = kernel_fit_rows(slower, fit_slopes(slower))[0]
    assert row["verdict"] == HOLDS and "no faster than the NTK's own" in row["note"]
    assert kernel_fit_rows(None, None)[0]["verdict"] == NOT_RUN


def test_the_figure_has_two_panels_per_network():
    norms = pd.concat([_norms(-0.5), _norms(-0.1, ratio_slope=0.2).assign(network="cnn")])
    fig = plot_kernel_fit_norms(norms, fit_slopes(norms), networks=["fc", "cnn"], title="t")
    assert len(fig.axes) == 4
    assert "slope -0.25" in " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
    assert "cnn" in fig._suptitle.get_text() and "does not fall" in fig._suptitle.get_text()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["fig5_models"].update(networks=["vit"]), "'fig5_models.networks' names network 'vit'"),
        (lambda c: c["fig5_models"].update(sides=[8]), "fig5_models.sides"),
        (lambda c: c["fig5_models"].update(kernel_initialisations=1), "fig5_models.kernel_initialisations"),
        (lambda c: c["fig5_models"].update(points=2), "fig5_models.points"),
        (lambda c: c["fig5_models"].update(dtype="float8"), "fig5_models.dtype"),
        (lambda c: c["fig5_models"].pop("seeds"), "seeds"),
        (lambda c: c.pop("fig5_models"), "fig5_models"),
    ],
    ids=["unknown-network", "one-side", "one-initialisation", "too-few-points", "bad-dtype", "no-seeds", "no-section"],
)
def test_bad_settings_are_refused_with_the_key(edit, expected):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    assert expected in str(info.value), str(info.value)
