"""End-to-end: a data set of the user's own images (source npz) trains in the workflow,
editing its file reruns its jobs, and a bad file stops the run before any job."""

import numpy as np
import pandas as pd
import pytest
from workflow_runs import planned_jobs, snakemake

from earlylin.data.bundled import mnist_subset_images

pytestmark = pytest.mark.workflow

OVERLAY = """results_dir: results/own
deep:
  datasets:
    own: {source: npz, path: own/digits.npz, classes: [3, 8], pool: 2, n_train: 200, n_test: 100}
models:
  datasets: [own]
  train: [fc]
  max_step: 20
  movement_steps: [0, 20]
"""


def _write_digits(path, order_seed=0):
    """Real MNIST digits 3 and 8 from the bundled subset, saved the way a user would."""
    images, labels = mnist_subset_images()
    keep = np.flatnonzero((labels == 3) | (labels == 8))
    keep = np.random.default_rng(order_seed).permutation(keep)
    np.savez(path, images=images[keep, 0], labels=labels[keep])  # (N, 28, 28): one-channel images


def test_a_users_npz_data_set_trains_and_editing_the_file_reruns_its_jobs(workdir):
    (workdir / "own").mkdir(exist_ok=True)
    _write_digits(workdir / "own" / "digits.npz")
    (workdir / "own.yaml").write_text(OVERLAY)
    snakemake(workdir, "fig_models", overlays=["own.yaml"])
    out = workdir / "results" / "own"
    with np.load(out / "images" / "own_seed0.npz") as data:
        assert data["X_train"].shape == (200, 196) and data["X_test"].shape == (100, 196)
    losses = pd.read_parquet(out / "any_network" / "own" / "fc_seed0_losses.parquet")
    assert set(losses["model"]) == {"network", "linearised", "linear", "exact_kernel"}
    assert planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["own.yaml"])) == {}

    _write_digits(workdir / "own" / "digits.npz", order_seed=1)  # the same images in another order
    planned = planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["own.yaml"]))
    assert planned == {"image_data": 1, "train_any_network": 1, "fig_models": 1}


def test_a_bad_npz_file_stops_the_run_before_any_job(workdir):
    (workdir / "broken").mkdir(exist_ok=True)
    np.savez(workdir / "broken" / "digits.npz", images=np.zeros((10, 8, 8)))
    (workdir / "broken.yaml").write_text(OVERLAY.replace("results/own", "results/broken").replace("own/", "broken/"))
    proc = snakemake(workdir, "fig_models", overlays=["broken.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config key 'deep.datasets.own.path' = 'broken/digits.npz':" in text
    assert "has no array 'labels'; it holds 'images'" in text
    assert "Building DAG" not in text and not (workdir / "results" / "broken").exists()


VARIANTS = [("mse", "0"), ("mse", "0.9"), ("logistic", "0"), ("logistic", "0.9")]


def test_preview_fig_data_tables(workdir):
    """The preview's fig_data on mnist01_7x7: every loss and momentum trains the network, its
    linearised network and its linear model on that loss (the training loss at step 0, where
    every output is 0, is 1/2 for mse and ln 2 for logistic); momentum changes the linear
    model's path from step 2 on and lowers its loss by step 100; the square-loss network
    agrees with its linear model; mu never exceeds I(F; Y); the clone-trained network tracks
    the real-trained one."""
    out = workdir / "results" / "preview" / "any_data" / "mnist01_7x7"

    def table(loss, momentum, name, inputs="real"):
        return pd.read_parquet(out / f"{loss}_momentum{momentum}_{inputs}_seed0_{name}.parquet")

    train_loss = {}
    for loss, momentum in VARIANTS:
        losses = table(loss, momentum, "losses")
        assert set(losses["model"]) == {"network", "linearised", "linear"}
        train = losses[(losses["split"] == "train")].set_index(["model", "step"])["value"]
        assert np.allclose(train.xs(0, level="step"), 0.5 if loss == "mse" else np.log(2.0))
        train_loss[loss, momentum] = train
        signs = table(loss, momentum, "signs")
        assert set(signs["metric"]) == {"accuracy", "sign_agreement", "information", "performance_correlation"}
        mu = signs[signs["metric"] == "performance_correlation"].set_index("step")["value"]
        information = signs[(signs["metric"] == "information") & (signs["model"] == "network")].set_index("step")
        assert (mu <= information["value"] + 1e-12).all()
        accuracy = signs[(signs["metric"] == "accuracy") & (signs["model"] == "network")].set_index("step")["value"]
        assert accuracy.loc[100] > 0.95  # digits 0 vs 1
        assert set(table(loss, momentum, "outputs")["momentum"]) == {float(momentum)}
    for loss in ("mse", "logistic"):
        with_momentum, plain = train_loss[loss, "0.9"], train_loss[loss, "0"]
        # the first heavy-ball step is the plain one (v_0 = 0); after 100 the loss is lower
        assert with_momentum[("linear", 1)] == pytest.approx(plain[("linear", 1)], rel=1e-12)
        assert with_momentum[("linear", 100)] < plain[("linear", 100)]
    discrepancy = table("mse", "0", "discrepancy")
    to_linear = _relative(discrepancy, "network", "linear")
    assert (to_linear.loc[1:100] < 0.05).all()
    real = table("mse", "0", "outputs")
    clone = table("mse", "0", "outputs", "clone")
    from earlylin.experiments.any_data_clone import clone_discrepancy

    parted = clone_discrepancy(pd.concat([real, clone], ignore_index=True))
    network = parted[(parted["model"] == "network") & (parted["step"] >= 1)]
    assert len(network) and (network["value"] < 0.05).all()
    assert (workdir / "results" / "preview" / "figures" / "fig_data.png").stat().st_size > 50_000
    card = pd.read_parquet(workdir / "results" / "preview" / "report" / "scorecard.parquet")
    rows = card[card["figure"] == "fig_data"]
    # per data set: 2 rows for each of the 4 losses x momenta, one clone row
    assert len(rows) == 18 and set(rows["verdict"]) <= {"holds", "does not hold", "not run"}


def _relative(table, reference, other):
    rows = table[(table["reference"] == reference) & (table["other"] == other)]
    return rows.set_index("step")["value"]
