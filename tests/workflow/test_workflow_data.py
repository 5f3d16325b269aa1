"""End-to-end: a data set of the user's own images (source npz) trains in the workflow,
editing its file reruns its jobs, and a bad file stops the run before any job."""

import numpy as np
import pandas as pd
import pytest
from workflow_runs import planned_jobs, snakemake

from earlylin.deep.images import load_mnist_subset_images

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
    images, labels = load_mnist_subset_images()
    keep = np.flatnonzero((labels == 3) | (labels == 8))
    keep = np.random.default_rng(order_seed).permutation(keep)
    np.savez(path, images=images[keep, 0], labels=labels[keep])  # (N, 28, 28): one-channel images


def test_a_users_npz_data_set_trains_and_editing_the_file_reruns_its_jobs(workdir):
    (workdir / "own").mkdir(exist_ok=True)
    _write_digits(workdir / "own" / "digits.npz")
    (workdir / "own.yaml").write_text(OVERLAY)
    snakemake(workdir, "fig_models", overlays=["own.yaml"])
    out = workdir / "results" / "own"
    with np.load(out / "deep" / "data" / "own_seed0.npz") as data:
        assert data["X_train"].shape == (200, 196) and data["X_test"].shape == (100, 196)
    losses = pd.read_parquet(out / "models" / "own" / "fc_seed0_losses.parquet")
    assert set(losses["model"]) == {"network", "linearised", "linear", "exact_kernel"}
    assert planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["own.yaml"])) == {}

    _write_digits(workdir / "own" / "digits.npz", order_seed=1)  # the same images in another order
    planned = planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["own.yaml"]))
    assert planned == {"image_data": 1, "train_model": 1, "fig_models": 1}


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
