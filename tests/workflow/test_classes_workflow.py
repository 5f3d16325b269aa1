"""fig_classes end to end on the CPU, the way a user runs it: the preview's ten digits with the
FC net and the residual CNN (the preview's own run, both losses) and a module of the user's own
with k outputs (its factory's argument named by ``outputs_argument``), softmax cross-entropy and
momentum; and a module of one output refused for ten classes before the probe, naming the
model, its key and the fix."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import user_modules
from workflow_runs import snakemake

pytestmark = pytest.mark.workflow

ROOT_NAME = "classes"
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "classes")
# network -> results folder: the preview's networks, and the user's module of this test's run
TRAINED = {"fc": "preview", "resnet": "preview", "mine": ROOT_NAME}


@pytest.fixture(scope="module")
def classes_run(workdir):
    """The user's modules in fig_classes (keep-going: the refused job fails, the other trains)."""
    (workdir / "nets").mkdir(exist_ok=True)
    shutil.copy(user_modules.__file__, workdir / "nets" / "user_modules.py")
    (workdir / "classes.yaml").write_text(
        f"results_dir: results/{ROOT_NAME}\n"
        "models:\n"
        "  networks:\n"
        "    mine: {network: 'nets/user_modules.py:readout_classes', outputs_argument: classes, "
        f"lr: {user_modules.LR}}}\n"
        f"    column: {{network: 'nets/user_modules.py:readout_column', lr: {user_modules.LR}}}\n"
        "fig_classes:\n"
        "  networks: [mine, column]\n"
        "  losses: [cross_entropy]\n"
    )
    proc = snakemake(workdir, "fig_classes", overlays=["classes.yaml"], check=False, timeout=1200)
    return workdir / "results", proc


def _tables(results, net, loss="cross_entropy"):
    folder = results / TRAINED[net] / "any_classes" / "mnist10_7x7"
    return {t: pd.read_parquet(folder / f"{net}_{loss}_seed0_{t}.parquet") for t in TABLES}


@pytest.mark.parametrize("net", TRAINED)
def test_every_model_of_ten_outputs_trains_and_is_measured(classes_run, net):
    results, _ = classes_run
    tables = _tables(results, net)
    outputs = tables["outputs"]
    assert sorted(outputs["output_index"].unique()) == list(range(10))
    assert outputs["output"].notna().all() and (outputs[outputs["step"] == 0]["output"] == 0.0).all()
    losses = tables["losses"]
    assert np.allclose(losses[losses["step"] == 0]["value"], np.log(10.0))  # f_0 = 0: the uniform softmax
    models = {"network", "linearised", "linear"} | ({"exact_kernel"} if net == "fc" else set())
    assert set(losses["model"]) == models
    fit = tables["kernel_fit"].iloc[0]
    assert fit["outputs"] == 10 and 0.0 <= fit["cross_output"] < 1.0 and fit["output_spread"] >= 0.0
    metrics = tables["classes"]
    assert set(metrics["metric"]) == {"accuracy", "class_agreement", "information", "performance_correlation"}
    final = metrics[(metrics["step"] == 100) & (metrics["metric"] == "accuracy") & (metrics["model"] == "network")]
    assert final["value"].iloc[0] > 0.3  # ten classes: chance is 0.1
    assert (metrics[metrics["metric"] == "information"]["value"] <= np.log2(10) + 1e-12).all()


@pytest.mark.parametrize("net", ["fc", "resnet"])
def test_the_square_loss_on_one_hot_targets_trains_ten_outputs(classes_run, net):
    results, _ = classes_run
    losses = _tables(results, net, "mse")["losses"]
    assert np.allclose(losses[losses["step"] == 0]["value"], 0.5)  # sum_c (0 - y_c)^2 / 2 of a one-hot y
    final = losses[(losses["step"] == 100) & (losses["split"] == "test")]
    assert (final["value"] < 0.5).all()


def test_the_refused_module_fails_alone_naming_the_key_and_the_fix(classes_run):
    results, proc = classes_run
    out = results / ROOT_NAME
    assert proc.returncode != 0  # the refused job
    assert not (out / "figures" / "fig_classes.png").exists()  # the figure needs every job
    log = (out / "logs" / "train_any_classes" / "mnist10_7x7_column_cross_entropy_seed0.log").read_text()
    assert "model 'column' (models.networks.column.network = 'nets/user_modules.py:readout_column')" in log
    assert "data set 'mnist10_7x7' has 10 classes and loss cross_entropy trains one output per class" in log
    assert "Return shape (batch, 10)" in log and "estimated" not in log
    assert not list((out / "any_classes" / "mnist10_7x7").glob("column_*"))  # no half-written tables


def test_the_preview_draws_the_figure_and_the_scorecard_rows(classes_run):
    results, _ = classes_run
    assert (results / "preview" / "figures" / "fig_classes.png").stat().st_size > 10_000
    scorecard = pd.read_parquet(results / "preview" / "report" / "scorecard.parquet")
    rows = scorecard[scorecard["figure"] == "fig_classes"]
    assert len(rows) == 2 * (1 + 2 * 2)  # per network: the NTK's form, and per loss two claims
    assert set(rows["verdict"]) <= {"holds", "does not hold"} and rows["scale"].str.startswith("reduced").all()
