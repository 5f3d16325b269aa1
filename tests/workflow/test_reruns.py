"""Every config key, changed after a finished preview: Snakemake reruns nothing when the
key cannot change a table (threads, device, chunk sizes, checkpoint interval, CPU limit),
and exactly the jobs whose results depend on it otherwise. Dry runs only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from workflow_runs import ROOT, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

# Downstream jobs that every change of a section's results reruns.
FIG1 = {"fig1": 1, "scorecard": 1, "figures": 1}
FIG1_ALL = {"teacher_data": 3, "train_two_layer": 3, "compare_fig1": 3, **FIG1}
# the network and its linear model train in one job: a change of either reruns both
FIG1_TRAIN = FIG1_NET = {"train_two_layer": 3, "compare_fig1": 3, **FIG1}
FIG2 = {"fig2": 1, "scorecard": 1, "figures": 1}
FIG2_ALL = {"fig2_data": 3, "train_fig2": 3, "compare_fig2": 6, **FIG2}
FIG2_TRAIN = FIG2_NET = {"train_fig2": 3, "compare_fig2": 6, **FIG2}
GRID = {"regime_horizons": 1, "fig_regimes": 1, "scorecard": 1, "figures": 1}
GRID_ALL = {"regimes_data": 1, "train_regime": 9, **GRID}
GRID_TRAIN = GRID_NET = {"train_regime": 9, **GRID}
DEEP_FIGURES = {"fig3": 1, "fig4": 1, "fig3_offline": 1, "scorecard": 1, "figures": 1}
# the preview trains 8 deep jobs: FC x 3 seeds and CNN x 1 on mnist01_7x7, FC and CNN on the two 14x14 sets
DEEP_ALL = {"image_data": 5, "train_deep": 8, **DEEP_FIGURES}
DEEP_TRAIN = {"train_deep": 8, **DEEP_FIGURES}
FIG5 = {"fit_ntk_slopes": 1, "fig5": 1, "fig5_extra": 1, "scorecard": 1, "figures": 1}
FIG5_ALL = {"ntk_norms": 12, **FIG5}  # (theta1, theta) x (erf, relu) x 3 d
HORIZON = {"horizon_summary": 1, "fig_horizon": 1, "scorecard": 1, "figures": 1}
WIDTH = {"width_summary": 1, "fig_width": 1, "scorecard": 1, "figures": 1}
SCALES_RUNS = {"horizon_run": 6, "width_run": 6, **HORIZON, **WIDTH}
SCALES_ALL = {"scales_data": 3, **SCALES_RUNS}
# fig_models in the preview: the FC net and the residual CNN on mnist01_7x7, one seed each
MODELS = {"fig_models": 1, "scorecard": 1, "figures": 1}
MODELS_TRAIN = {"train_any_network": 2, **MODELS}
MODELS_ONE = {"train_any_network": 1, **MODELS}
# fig_data in the preview: the preview's FC net on mnist01_7x7 and digits_3v8, (mse, logistic) x
# momentum (0, 0.9) on the real images and mse / 0 on the clone, one seed: 5 jobs per data set
DATA = {"fig_data": 1, "scorecard": 1, "figures": 1}
DATA_TRAIN = {"train_any_data": 10, **DATA}
DATA_MNIST = {"train_any_data": 5, **DATA}
# fig5_models in the preview: fc and resnet at sides 4, 6, 8, one seed
FIG5M = {"fit_kernel_fit_slopes": 1, "fig5_models": 1, "scorecard": 1, "figures": 1}
FIG5M_ALL = {"kernel_fit_norms": 6, **FIG5M}
FIG5M_ONE = {"kernel_fit_norms": 3, **FIG5M}  # one network's three sides
# the preview's fc is both a fig_models network and fig_data's network
FC = {**MODELS_ONE, **DATA_TRAIN}
FC_ALL = {**FC, **FIG5M_ONE}  # its factory or kwargs: fig5_models too (not its learning rate)
# fig_widths in the preview: the FC net at widths 32, 128, 512 on mnist01_7x7 and gaussian_64, one seed
WIDTHS = {"fit_width_slopes": 1, "fig_widths": 1, "figures": 1}
WIDTHS_TRAIN = {"train_width_sweep": 6, **WIDTHS}
WIDTHS_MNIST = {"train_width_sweep": 3, **WIDTHS}
# fig_classes in the preview: the FC net and the residual CNN on mnist10_7x7 (ten digits), with
# cross_entropy and mse, one seed: 2 jobs per network
CLASSES = {"fig_classes": 1, "scorecard": 1, "figures": 1}
CLASSES_TRAIN = {"train_any_classes": 4, **CLASSES}
CLASSES_ONE = {"train_any_classes": 2, **CLASSES}  # one network's two losses
NOTHING: dict[str, int] = {}

# key -> (new value, the jobs a dry run must plan). The preview's values are in
# config/preview.yaml over config/config.yaml.
CASES = {
    "device": ("cpu", NOTHING),  # auto already means the CPU here; see docs/configuration.md on devices
    "train_threads": (2, NOTHING),
    "leaky_relu_slope": (0.05, NOTHING),  # no leaky_relu in the preview
    "fig1.activation": ("tanh", FIG1_TRAIN),
    "fig1.width": (64, FIG1_NET),
    "fig1.d": (10, FIG1),  # d = 10 is in d_sweep: its tables exist
    "fig1.d_sweep": ([10, 20], FIG1),
    "fig1.n_train": (1000, FIG1_ALL),
    "fig1.n_test": (400, FIG1_ALL),
    "fig1.teacher_width": (3, FIG1_ALL),
    "fig1.lr": (0.25, FIG1_TRAIN),
    "fig1.max_step": (500, FIG1_TRAIN),
    "fig1.steps_per_decade": (4, FIG1_TRAIN),
    "fig1.dtype": ("float64", FIG1_NET),
    "fig1.seeds": ([0, 1], {"teacher_data": 3, "train_two_layer": 3, "compare_fig1": 3, **FIG1}),
    "fig1.n_logit_samples": (3, {"compare_fig1": 3, **FIG1}),
    "fig1.chunk_rows": (64, NOTHING),
    "fig2.activation": ("gelu", FIG2_TRAIN),
    "fig2.width": (128, FIG2_NET),
    "fig2.d": (10, FIG2_ALL),
    "fig2.n_train": (500, FIG2_ALL),
    "fig2.n_test": (200, FIG2_ALL),
    "fig2.lr": (0.25, FIG2_TRAIN),
    "fig2.max_step": (500, FIG2_TRAIN),
    "fig2.steps_per_decade": (4, FIG2_TRAIN),
    "fig2.dtype": ("float64", FIG2_NET),
    "fig2.seeds": ([0, 3], {"fig2_data": 1, "train_fig2": 1, "compare_fig2": 2, **FIG2}),
    "fig2.n_logit_samples": (3, {"compare_fig2": 6, **FIG2}),
    "fig2.chunk_rows": (64, NOTHING),
    "regimes.activations": (["erf", "relu"], GRID),
    "regimes.regimes": (["first", "both"], GRID),
    "regimes.target": ("teacher", GRID_ALL),
    "regimes.width": (64, GRID_NET),
    "regimes.d": (10, GRID_ALL),
    "regimes.n_train": (400, GRID_ALL),
    "regimes.n_test": (100, GRID_ALL),
    "regimes.teacher_width": (3, NOTHING),  # the target is the norm target, not a teacher
    "regimes.lr.first": (0.25, {"train_regime": 3, **GRID}),
    "regimes.lr.second": (0.25, {"train_regime": 3, **GRID}),
    "regimes.lr.both": (0.25, {"train_regime": 3, **GRID}),
    "regimes.max_step": (200, GRID_TRAIN),
    "regimes.steps_per_decade": (4, GRID_TRAIN),
    "regimes.dtype": ("float64", GRID_NET),
    "regimes.seeds": ([0, 1], {"regimes_data": 1, "train_regime": 9, **GRID}),
    "regimes.threshold": (0.05, GRID),
    "regimes.chunk_rows": (64, NOTHING),
    "deep.data_root": ("elsewhere", NOTHING),  # the preview's images are bundled, not downloaded
    "deep.download": (False, NOTHING),
    # fig_models trains on mnist01_7x7's images too
    # (and fig_data on mnist01_7x7; digits_3v8 keeps its own sizes)
    "deep.n_train": (300, {**DEEP_ALL, **MODELS_TRAIN, **DATA_MNIST, **WIDTHS_MNIST}),
    "deep.n_test": (
        150,
        {"image_data": 3, "train_deep": 4, "fig3": 1, "fig3_offline": 1, **MODELS_TRAIN, **DATA_MNIST, **WIDTHS_MNIST},
    ),  # the 14x14 sets keep their own 400
    "deep.datasets.mnist01_14x14.pool": (
        1,
        {"image_data": 1, "train_deep": 2, "fig4": 1, "scorecard": 1, "figures": 1},
    ),
    "deep.datasets.mnist01_14x14.classes": (
        [2, 5],
        {"image_data": 1, "train_deep": 2, "fig4": 1, "scorecard": 1, "figures": 1},
    ),
    "deep.datasets.mnist01_14x14.source": (
        "mnist",  # torchvision's MNIST: its files are fetched first
        {"fetch_images": 1, "image_data": 1, "train_deep": 2, "fig4": 1, "scorecard": 1, "figures": 1},
    ),
    "deep.datasets.mnist01_14x14.cnn.channels": (16, {"train_deep": 1, "fig4": 1, "scorecard": 1, "figures": 1}),
    # the scorecard states each data set's scale against the one the paper draws in its place
    "deep.fig3": (["mnist01_7x7", "mnist17_14x14"], {"fig3": 1, "scorecard": 1, "figures": 1}),
    "deep.fig4": (["mnist01_14x14"], {"fig4": 1, "scorecard": 1, "figures": 1}),
    "deep.fig3_offline": (["mnist17_14x14"], {"fig3_offline": 1, "figures": 1}),
    "deep.activation": ("tanh", DEEP_TRAIN),
    # the CNN's lr matches its linear model to the FC net's. Its params' values stay the same
    # set (depth 4, filter size 3, fc_depth 4 -> 3), which Snakemake alone would not notice
    "deep.fc.depth": (3, DEEP_TRAIN),
    "deep.fc.width": (256, {"train_deep": 5, **DEEP_FIGURES}),
    "deep.cnn.depth": (3, {"train_deep": 3, **DEEP_FIGURES}),
    "deep.cnn.channels": (
        16,
        {"train_deep": 1, "fig3": 1, "fig3_offline": 1, "scorecard": 1, "figures": 1},
    ),  # 14x14: own 16
    "deep.cnn.filter_size": (5, {"train_deep": 3, **DEEP_FIGURES}),
    "deep.lr": (0.5, DEEP_TRAIN),
    "deep.batch_size": (50, DEEP_TRAIN),
    "deep.max_step": (50, DEEP_TRAIN),
    "deep.steps_per_decade": (4, DEEP_TRAIN),
    "deep.dtype": ("float64", DEEP_TRAIN),
    "deep.allow_tf32": (True, NOTHING),  # TF32 exists only on NVIDIA GPUs
    "deep.linearise": (True, DEEP_TRAIN),
    "deep.exact_kernel": (True, DEEP_TRAIN),
    # mnist01_7x7 keeps its own seeds; every deep figure's title states deep.seeds' scale
    "deep.seeds": ([0, 1], {"image_data": 2, "train_deep": 4, **DEEP_FIGURES}),
    "deep.n_logit_samples": (2, {"fig3": 1, "fig4": 1, "fig3_offline": 1, "figures": 1}),
    "deep.checkpoint_minutes": (1, NOTHING),
    "deep.max_cpu_hours": (1, NOTHING),
    "models.datasets": (["mnist01_14x14"], MODELS_TRAIN),
    "models.networks.fc.network": ("fc_standard", {**FC_ALL, **WIDTHS_TRAIN, **CLASSES_ONE}),
    "models.networks.fc.kwargs.depth": (3, {**FC_ALL, **WIDTHS_TRAIN, **CLASSES_ONE}),
    "models.networks.fc.kwargs.width": (64, {**FC_ALL, **CLASSES_ONE}),  # fig_widths sets the width itself
    "models.networks.fc.lr": (0.5, {**FC, **WIDTHS_TRAIN, **CLASSES_ONE}),
    # the same factory by its import path: another network string, so its job reruns
    "models.networks.resnet.network": (
        "earlylin.networks.builtin:residual_cnn",
        {**MODELS_ONE, **FIG5M_ONE, **CLASSES_ONE},
    ),
    "models.networks.resnet.kwargs.blocks": (2, {**MODELS_ONE, **FIG5M_ONE, **CLASSES_ONE}),
    "models.networks.resnet.kwargs.channels": (4, {**MODELS_ONE, **FIG5M_ONE, **CLASSES_ONE}),
    "models.networks.resnet.kwargs.activation": ("erf", {**MODELS_ONE, **FIG5M_ONE, **CLASSES_ONE}),
    "models.networks.resnet.lr": (0.5, {**MODELS_ONE, **CLASSES_ONE}),
    # defined in config.yaml, not trained by the preview (models.train)
    "models.networks.cnn.network": ("residual_cnn", NOTHING),
    "models.networks.cnn.kwargs.depth": (3, NOTHING),
    "models.networks.cnn.kwargs.channels": (16, NOTHING),
    "models.networks.cnn.lr": (0.5, NOTHING),
    "models.networks.fcstandard.network": ("fc", NOTHING),
    "models.networks.fcstandard.kwargs.depth": (3, NOTHING),
    "models.networks.fcstandard.kwargs.width": (64, NOTHING),
    "models.networks.fcstandard.lr": (0.001, NOTHING),
    "models.networks.resnet18.network": ("torchvision.models:resnet34", NOTHING),
    "models.networks.resnet18.outputs_argument": ("classes", NOTHING),
    "models.networks.resnet18.batch_norm": ("group", NOTHING),
    "models.networks.resnet18.input.channels": (1, NOTHING),
    "models.networks.resnet18.lr": (0.01, NOTHING),
    "models.train": (["fc"], MODELS),
    "models.seeds": ([0, 1], MODELS_TRAIN),
    "models.batch_size": (50, {**MODELS_TRAIN, **WIDTHS_TRAIN}),
    "models.max_step": (200, MODELS_TRAIN),
    "models.steps_per_decade": (4, {**MODELS_TRAIN, **WIDTHS_TRAIN}),
    "models.dtype": ("float64", {**MODELS_TRAIN, **DATA_TRAIN, **WIDTHS_TRAIN, **CLASSES_TRAIN}),
    "models.kernel_points": (50, {**MODELS_TRAIN, **DATA_TRAIN, **WIDTHS_TRAIN}),
    "models.kernel_initialisations": (3, {**MODELS_TRAIN, **DATA_TRAIN, **WIDTHS_TRAIN}),
    "models.movement_steps": ([0, 50], MODELS_TRAIN),
    "models.movement_points": (30, MODELS_TRAIN),
    # fig_widths always linearises
    "models.linearise": (False, {**MODELS_TRAIN, **DATA_TRAIN, **CLASSES_TRAIN}),
    "models.lr_fraction": (0.25, NOTHING),  # no network of the preview has lr: auto
    "models.widths.networks.fc.values": ([32, 128], WIDTHS),
    "models.widths.datasets": (["mnist01_7x7"], WIDTHS),
    "models.widths.steps": ([10], WIDTHS),  # the jobs train to the largest step, 10 as before
    "models.widths.seeds": ([0, 1], {"image_data": 1, "train_width_sweep": 6, **WIDTHS}),
    "models.checkpoint_minutes": (1, NOTHING),
    "models.max_cpu_hours": (1, NOTHING),
    "fig_data.datasets": (["mnist01_7x7"], DATA),
    "fig_data.network": ("resnet", DATA_TRAIN),
    "fig_data.losses": (["mse"], DATA),
    "fig_data.momenta": ([0.0], DATA),
    "fig_data.clone": (False, DATA),
    # digits_3v8's split for seed 1 is new (the preview's deep.seeds are [0])
    "fig_data.seeds": ([0, 1], {"image_data": 1, **DATA_TRAIN}),
    "fig_data.batch_size": (50, DATA_TRAIN),
    "fig_data.max_step": (50, DATA_TRAIN),
    "fig_data.steps_per_decade": (4, DATA_TRAIN),
    "fig_data.resamples": (100, DATA_TRAIN),
    "fig_data.n_logit_samples": (2, {"fig_data": 1, "figures": 1}),
    "fig_classes.datasets": (["mnist_subset_10"], {"image_data": 1, **CLASSES_TRAIN}),
    "fig_classes.networks": (["fc"], CLASSES),
    "fig_classes.losses": (["cross_entropy"], CLASSES),
    "fig_classes.momentum": (0.5, CLASSES_TRAIN),
    "fig_classes.exact_kernel": (False, CLASSES_ONE),  # the FC net's Theta_inf (x) I_k; the CNN has none here
    "fig_classes.seeds": ([0, 1], {"image_data": 1, **CLASSES_TRAIN}),
    "fig_classes.batch_size": (50, CLASSES_TRAIN),
    "fig_classes.max_step": (50, CLASSES_TRAIN),
    "fig_classes.steps_per_decade": (4, CLASSES_TRAIN),
    "fig_classes.kernel_points": (30, CLASSES_TRAIN),
    "fig_classes.kernel_initialisations": (3, CLASSES_TRAIN),
    "fig_classes.resamples": (100, CLASSES_TRAIN),
    # the data sets of fig_classes: the preview's ten digits, and the paper-scale config's
    "deep.datasets.mnist10_7x7.classes": ([0, 1, 2], {"image_data": 1, **CLASSES_TRAIN}),
    "deep.datasets.mnist10_7x7.n_train": (400, {"image_data": 1, **CLASSES_TRAIN}),
    "deep.datasets.mnist_subset_10.classes": ([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], NOTHING),
    "fig5.activation": ("relu", {"fig5": 1, "scorecard": 1, "figures": 1}),
    "fig5.n": (400, FIG5_ALL),
    "fig5.width": (800, FIG5_ALL),
    "fig5.d_values": ([20, 40], FIG5),
    "fig5.seeds": ([0, 1], FIG5_ALL),
    "fig5.dtype": ("float32", FIG5_ALL),
    "fig5.compute_dtype": ("float64", FIG5_ALL),
    "fig5.chunk_units": (256, NOTHING),
    "fig5.threads": (2, NOTHING),
    "fig5_extra.kernels": (["theta1"], {"fit_ntk_slopes": 1, "fig5": 1, "fig5_extra": 1, "scorecard": 1, "figures": 1}),
    "fig5_extra.activations": (
        ["erf"],
        {"fit_ntk_slopes": 1, "fig5": 1, "fig5_extra": 1, "scorecard": 1, "figures": 1},
    ),
    "scales.target": ("norm", SCALES_ALL),
    "scales.teacher_width": (3, SCALES_ALL),
    "scales.C": (3, SCALES_ALL),
    "scales.alpha": (0.1, SCALES_ALL),
    "scales.n_test": (200, SCALES_ALL),
    "scales.dtype": ("float64", SCALES_RUNS),
    "scales.threads": (2, NOTHING),
    "scales.chunk_rows": (64, NOTHING),
    "scales.horizon.activations": (["erf"], HORIZON),
    "scales.horizon.d_values": ([8, 16], HORIZON),
    "scales.horizon.lrs": ([1.0, 2.0], {"horizon_run": 6, **HORIZON}),
    "scales.horizon.window": (4, {"horizon_run": 6, **HORIZON}),
    "scales.horizon.steps_per_decade": (10, {"horizon_run": 6, **HORIZON}),
    "scales.horizon.thresholds": ([0.1], {"horizon_run": 6, **HORIZON}),
    "scales.horizon.converged_tol": (0.02, {"horizon_run": 6, **HORIZON}),
    "scales.horizon.seeds": ([0, 1], {"scales_data": 3, "horizon_run": 6, **HORIZON}),
    "scales.width.activation": ("gelu", {"width_run": 6, **WIDTH}),
    "scales.width.d_values": ([8], WIDTH),
    "scales.width.widths": ([16, 128], WIDTH),
    "scales.width.lr": (0.5, {"width_run": 6, **WIDTH}),
    "scales.width.steps": ([1], {"width_run": 6, **WIDTH}),
    "scales.width.seeds": ([0, 1], {"scales_data": 2, "width_run": 6, **WIDTH}),
    "fig5_models.networks": (["fc"], FIG5M),
    "fig5_models.sides": ([4, 6], FIG5M),
    "fig5_models.points": (200, FIG5M_ALL),
    "fig5_models.dense_points": (100, FIG5M_ALL),  # n = 300 > 100: matrix-free norms
    "fig5_models.kernel_points": (40, FIG5M_ALL),
    "fig5_models.kernel_initialisations": (3, FIG5M_ALL),
    "fig5_models.probes": (10, NOTHING),  # the preview's norms are exact (n <= dense_points)
    "fig5_models.tolerance": (1.0e-4, NOTHING),
    "fig5_models.seeds": ([0, 1], {"kernel_fit_norms": 6, **FIG5M}),
    "fig5_models.dtype": ("float32", FIG5M_ALL),
    "scorecard.skip": (["deep"], {"scorecard": 1, "figures": 1}),
}
# Keys whose change moves every output (a new results folder), checked apart.
EVERYTHING = {"results_dir"}


def _leaf_keys(config, prefix=""):
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not (prefix == "deep." and key == "datasets"):
            yield from _leaf_keys(value, path + ".")
        elif isinstance(value, dict):
            for name, entry in value.items():
                yield from _leaf_keys(entry, f"{path}.{name}.")
        else:
            yield path


def test_every_config_key_is_in_the_table():
    """A new key must say what changing it reruns."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    keys = {k for k in _leaf_keys(config) if not k.startswith("deep.datasets.")}
    missing = keys - set(CASES) - EVERYTHING
    assert not missing, f"add these keys to CASES: {sorted(missing)}"


def _overlay(key: str, value) -> str:
    node: dict = value
    for part in reversed(key.split(".")):
        node = {part: node}
    return yaml.safe_dump(node)


def _planned(workdir, key, value):
    name = f"rerun_{key.replace('.', '_')}.yaml"
    (workdir / name).write_text(_overlay(key, value))
    return planned_jobs(snakemake(workdir, "figures", "--dry-run", overlays=[name]))


def test_changing_a_key_reruns_exactly_the_jobs_that_depend_on_it(workdir):
    with ThreadPoolExecutor(max_workers=2) as pool:
        planned = dict(zip(CASES, pool.map(lambda key: _planned(workdir, key, CASES[key][0]), CASES)))
    wrong = {key: (planned[key], expected) for key, (_, expected) in CASES.items() if planned[key] != expected}
    assert not wrong, "\n".join(f"{key}: planned {got}, expected {want}" for key, (got, want) in wrong.items())


def test_a_new_results_folder_reruns_everything_there(workdir):
    jobs = _planned(workdir, "results_dir", "results/elsewhere")
    assert jobs["train_deep"] == 8 and jobs["ntk_norms"] == 12 and jobs["figures"] == 1
