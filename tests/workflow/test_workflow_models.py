"""End-to-end: fig_models at preview size, a network the user brings as a file, and the
checks that stop a bad one before any training."""

import shutil

import pandas as pd
import pytest
from workflow_runs import ROOT, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")


def _relative(table, reference, other):
    rows = table[(table["reference"] == reference) & (table["other"] == other)]
    return rows.set_index("step")["value"]


def test_preview_fig_models_tables(workdir):
    """The preview's FC net and residual CNN: six tables each; the fitted kernel defines a
    linear model; the FC net stays closer to its linearised network than to the linear
    model and has its infinite-width kernel model, the residual CNN has none; the kernel
    moves between steps 0 and 100."""
    out = workdir / "results" / "preview" / "any_network" / "mnist01_7x7"
    for net in ("fc", "resnet"):
        tables = {name: pd.read_parquet(out / f"{net}_seed0_{name}.parquet") for name in TABLES}
        fit = tables["kernel_fit"].iloc[0]
        assert fit["model_linear"] > 0 and fit["model_constant"] >= 0
        assert 0 < fit["residual_frobenius"] < 0.3 and 0.3 < fit["data_overlap"] < 0.7
        discrepancy = tables["discrepancy"]
        assert set(tables["losses"]["model"]) == (
            {"network", "linearised", "linear", "exact_kernel"} if net == "fc" else {"network", "linearised", "linear"}
        )
        to_linear, to_linearised = (
            _relative(discrepancy, "network", "linear"),
            _relative(discrepancy, "network", "linearised"),
        )
        assert (to_linear.loc[1:100] < 0.05).all() and (to_linearised.loc[1:100] < 0.05).all()
        movement = tables["movement"].set_index("step")["value"]
        assert movement[0] == 0 and 0 < movement[100] < 0.05
        entries = tables["ntk_entries"]
        assert entries["diagonal"].sum() == 60 and (~entries["diagonal"]).sum() == 60 * 59 // 2
    fc = pd.read_parquet(out / "fc_seed0_discrepancy.parquet")
    assert (_relative(fc, "network", "linearised").loc[1:100] < 1e-3).all()  # width 128: lazy
    assert (workdir / "results" / "preview" / "figures" / "fig_models.png").stat().st_size > 50_000
    card = pd.read_parquet(workdir / "results" / "preview" / "report" / "scorecard.parquet")
    rows = card[card["figure"] == "fig_models"]
    assert len(rows) == 6 and set(rows["verdict"]) <= {"holds", "does not hold"}


USER_NETWORK = """
import math
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, d, width, generator):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(width, d, generator=generator))
        self.w2 = nn.Parameter(torch.randn(width, generator=generator))

    def forward(self, x):
        x = x.flatten(1)
        return torch.tanh(x @ self.w1.T / math.sqrt(x.shape[1])) @ self.w2 / math.sqrt(self.w2.shape[0]){EXTRA}

def build(input_shape, generator, width=64):
    return Net(math.prod(input_shape), width, generator)
"""

OVERLAY = """results_dir: results/mine
models:
  networks:
    mine: {network: "nets/mine.py:build", kwargs: {width: 64}, lr: 1.0}
  train: [fc, mine]
  max_cpu_hours: %s
"""


def test_a_users_network_file_trains_and_editing_it_reruns_only_its_jobs(workdir):
    (workdir / "nets").mkdir(exist_ok=True)
    model = workdir / "nets" / "mine.py"
    model.write_text(USER_NETWORK.replace("{EXTRA}", ""))
    (workdir / "mine.yaml").write_text(OVERLAY % "12")
    snakemake(workdir, "fig_models", overlays=["mine.yaml"])
    out = workdir / "results" / "mine" / "any_network" / "mnist01_7x7"
    fit = pd.read_parquet(out / "mine_seed0_kernel_fit.parquet").iloc[0]
    assert fit["model_linear"] > 0
    log = (workdir / "results" / "mine" / "logs" / "train_any_network" / "mnist01_7x7_mine_seed0.log").read_text()
    assert "nets/mine.py:build" in log and "estimated" in log and "relative MSE network vs linearised" in log
    assert planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["mine.yaml"])) == {}

    model.write_text(USER_NETWORK.replace("{EXTRA}", "  # edited"))
    planned = planned_jobs(snakemake(workdir, "fig_models", "-n", overlays=["mine.yaml"]))
    assert planned == {"train_any_network": 1, "fig_models": 1}


@pytest.mark.parametrize(
    ("extra", "max_hours", "messages"),
    [
        (
            " + 0.1 * x.max()",  # every output depends on the largest pixel of the batch
            "12",
            ["model 'mine'", "models.networks.mine", "depends on the rest of its batch"],
        ),
        (
            "",
            "1.0e-9",
            [
                "train_any_network mine on mnist01_7x7 (seed 0) would take about",
                "models.max_cpu_hours = 1e-09",
                "models.networks.mine.linearise",
            ],
        ),
    ],
    ids=["batch-dependent", "cpu-limit"],
)
def test_a_bad_network_or_a_cpu_limit_stops_its_job_before_training(workdir, extra, max_hours, messages):
    shutil.rmtree(workdir / "results" / "mine", ignore_errors=True)
    (workdir / "nets").mkdir(exist_ok=True)
    (workdir / "nets" / "mine.py").write_text(USER_NETWORK.replace("{EXTRA}", extra))
    (workdir / "mine.yaml").write_text(OVERLAY % max_hours)
    proc = snakemake(
        workdir, "results/mine/any_network/mnist01_7x7/mine_seed0_losses.parquet", overlays=["mine.yaml"], check=False
    )
    text = proc.stdout + proc.stderr
    log = workdir / "results" / "mine" / "logs" / "train_any_network" / "mnist01_7x7_mine_seed0.log"
    text += log.read_text() if log.exists() else ""
    assert proc.returncode != 0
    for message in messages:
        assert message in text, (message, text[-3000:])
    assert not list((workdir / "results" / "mine" / "any_network").glob("*/mine_*"))  # no half-written tables


def test_a_missing_network_file_fails_before_any_job(workdir):
    (workdir / "missing.yaml").write_text(
        "results_dir: results/missing\nmodels:\n  networks:\n    gone: {network: nets/gone.py:build, lr: 1.0}\n"
        "  train: [gone]\n"
    )
    proc = snakemake(workdir, "fig_models", "-n", overlays=["missing.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (
        "config key 'models.networks.gone.network' = 'nets/gone.py:build': the file 'nets/gone.py' does not exist"
        in text
    )


def test_the_example_network_of_the_readme_is_a_valid_model():
    """examples/my_network.py (docs/your-network.md) builds and passes the front door."""
    import torch

    from earlylin.networks.front_door import admit
    from earlylin.networks.registry import ModelSpec, build_model

    spec = ModelSpec("mine", f"{ROOT}/examples/my_network.py:build", {"width": 32}, key="models.networks.mine")
    model = build_model(spec, (1, 7, 7), 0, torch.float64)
    assert admit(spec, model, torch.randn(8, 1, 7, 7, dtype=torch.float64)) is False  # outputs (batch,)


def test_preview_fig_widths_tables_and_figure(workdir):
    """fig_widths at preview size: the FC net at widths 32, 128, 512 on the MNIST subset and on
    Gaussian inputs, each pair's relative MSE at steps 1 and 10 with a slope per pair and step;
    on the Gaussian inputs the network's gap to its linearised network falls with the width
    (finite width), and the figure renders."""
    out = workdir / "results" / "preview" / "widths"
    relative = pd.read_parquet(out / "relative.parquet")
    assert set(relative["dataset"]) == {"mnist01_7x7", "gaussian_64"} and set(relative["width"]) == {32, 128, 512}
    assert set(relative["step"]) == {1, 10} and relative["value"].notna().all() and (relative["value"] > 0).all()
    three = {("network", "linearised"), ("network", "linear"), ("linearised", "linear")}
    exact = {("network", "exact_kernel"), ("exact_kernel", "linear")}  # the FC net on images on the sphere
    for dataset, pairs in (("mnist01_7x7", three | exact), ("gaussian_64", three)):
        part = relative[relative["dataset"] == dataset]
        assert set(zip(part["reference"], part["other"], strict=True)) == pairs
    fits = pd.read_parquet(out / "fits.parquet")
    assert len(fits) == (5 + 3) * 2  # pairs of each data set x steps
    lazy = fits[(fits["dataset"] == "gaussian_64") & (fits["reference"] == "network") & (fits["other"] == "linearised")]
    assert (lazy["slope"] < -0.5).all(), lazy
    kernel_fit = pd.read_parquet(out / "kernel_fit.parquet")
    assert len(kernel_fit) == 6 and (kernel_fit["model_linear"] > 0).all()
    job = pd.read_parquet(out / "gaussian_64" / "fc_width512_seed0_losses.parquet")
    assert set(job["model"]) == {"network", "linearised", "linear"} and job["step"].max() == 10
    assert (workdir / "results" / "preview" / "figures" / "fig_widths.png").stat().st_size > 50_000
