"""fig_models (any network): the models section's jobs and checks, and small runs of a network
beside its linearised network, the linear model of its fitted NTK and its exact-kernel model."""

import numpy as np
import pytest

from earlylin.data.dataset import Dataset
from earlylin.experiments.any_network import config_problems
from earlylin.experiments.network_tables import relative_at, run_tables
from earlylin.networks.catalogue import exact_kernel_of
from earlylin.training.job import NetworkEntry, TrainingJob
from earlylin.training.run import RunOptions, run


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


def _config(tmp_path, **changes):
    section = dict(
        datasets=["small"],
        networks={"fc": {"network": "fc", "lr": 1.0}},
        seeds=[0],
        batch_size=20,
        max_step=10,
        steps_per_decade=4,
        dtype="float32",
        kernel_points=20,
        kernel_initialisations=2,
        movement_steps=[0, 10],
        movement_points=10,
        linearise=True,
    )
    section.update(changes)
    section.setdefault("train", list(section["networks"]))
    deep = {"n_train": 40, "n_test": 20, "datasets": {"small": {"source": "digits", "classes": [0, 1], "pool": 1}}}
    return {"models": section, "deep": deep}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"datasets": ["nope"]}, "names data set 'nope', which 'deep.datasets' does not define; defined: small"),
        ({"batch_size": 50}, "'models.batch_size' = 50 exceeds the 40 training images of data set 'small'"),
        ({"kernel_points": 41}, "'models.kernel_points' = 41 exceeds the 40 training images"),
        ({"movement_points": 30}, "'models.movement_points' = 30 exceeds models.kernel_points = 20"),
        ({"movement_steps": [0, 100]}, "'models.movement_steps' has steps [100] beyond models.max_step = 10"),
        (
            {"networks": {"mine": {"network": "nets/missing.py:build", "lr": 1.0}}},
            "'models.networks.mine.network' = 'nets/missing.py:build': the file 'nets/missing.py' does not exist",
        ),
        (
            {"networks": {"mine": {"network": "not a path", "lr": 1.0}}},
            "is neither a built-in (fc, cnn, residual_cnn, fc_standard), an import path",
        ),
        ({"train": ["fc", "other"]}, "'models.train' names networks ['other'] that 'models.networks' does not define"),
    ],
)
def test_the_models_section_names_each_bad_value(tmp_path, changes, message):
    problems = config_problems(_config(tmp_path, **changes), tmp_path)
    assert len(problems) == 1 and message in problems[0]


def test_an_existing_model_file_and_an_import_path_pass(tmp_path):
    (tmp_path / "net.py").write_text("def build(shape, generator):\n    pass\n")
    networks = {"a": {"network": "net.py:build", "lr": 1.0}, "b": {"network": "pkg.mod:make", "lr": 1.0}}
    assert config_problems(_config(tmp_path, networks=networks), tmp_path) == []


def _small_job(network, kwargs, **changes):
    fields = dict(
        dataset="small",
        seed=0,
        network=NetworkEntry(network, network, kwargs, f"models.networks.{network}"),
        lr=1.0,
        batch_size=20,
        max_step=20,
        steps_per_decade=4,
        dtype="float64",
        linear={"coefficients": "fit", "points": 24, "initialisations": 2},
        movement={"steps": [0, 20], "points": 12},
        linearise=True,
        exact_kernel=exact_kernel_of(network, kwargs),
    )
    fields.update(changes)
    return TrainingJob(**fields)


def _tables(job, data):
    return run_tables(run(job, data, RunOptions(progress=False)), data)


def _small_images(n_train=60, n_test=20, seed=0):
    X = _on_the_sphere(n_train + n_test, 16, seed)
    y = np.sign(X[:, 0] + 0.5 * X[:, 1])
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], image_shape=(1, 4, 4))


@pytest.mark.slow
def test_a_wide_fc_net_runs_beside_its_linearised_network_its_linear_model_and_its_exact_kernel():
    """Width 1024: the network and its linearisation agree to O(1/width) at step 1, the exact
    kernel model is closer to the network than the fitted linear model is at the first steps
    (the fit absorbs only the first-order terms), and the kernel barely moves."""
    data = _small_images()
    tables = _tables(_small_job("fc", {"depth": 2, "width": 1024}), data)
    assert set(tables["losses"]["model"]) == {"network", "linearised", "linear", "exact_kernel"}
    d = tables["discrepancy"]
    assert relative_at(d, "network", "linearised", 1) < 1e-3
    assert relative_at(d, "network", "exact_kernel", 1) < 1e-2
    assert relative_at(d, "network", "exact_kernel", 1) < relative_at(d, "network", "linear", 1)
    movement = tables["movement"].set_index("step")["value"]
    assert movement[0] == 0.0 and 0.0 < movement[20] < 1e-2
    losses = tables["losses"].query("split == 'train'")
    for model, part in losses.groupby("model"):
        assert part["value"].iloc[-1] < part["value"].iloc[0], model
    fit = tables["kernel_fit"].iloc[0]
    assert fit["n_points"] == 24 and fit["n_initialisations"] == 2 and fit["linear"] > 0
    entries = tables["ntk_entries"]
    assert entries["diagonal"].sum() == 24 and len(entries) == 24 + 24 * 23 // 2


@pytest.mark.slow
def test_the_cnn_approaches_its_exact_kernel_model_as_the_channels_grow():
    """From 32 to 512 channels the network's gap to its infinite-width kernel model falls at
    least 4-fold at steps 1 and 10 (measured: 0.017 -> 0.0034 and 0.020 -> 0.0013), and at 512
    channels the network is closer to the exact kernel model than to the fitted linear model,
    whose gap to the exact kernel (the Taylor truncation, about 0.004) does not shrink."""
    data = _small_images()
    gaps = {}
    for channels in (32, 512):
        job = _small_job("cnn", {"depth": 2, "channels": channels}, linearise=False, max_step=10)
        assert job.exact_kernel == {"kind": "cnn", "activation": "erf", "depth": 2, "filter_size": 3}
        d = _tables(job, data)["discrepancy"]
        gaps[channels] = {
            step: (relative_at(d, "network", "exact_kernel", step), relative_at(d, "network", "linear", step))
            for step in (1, 10)
        }
    for step in (1, 10):
        assert gaps[512][step][0] < gaps[32][step][0] / 4
        assert gaps[512][step][0] < gaps[512][step][1]


@pytest.mark.slow
def test_a_run_is_the_same_twice_and_the_residual_cnn_has_no_exact_kernel():
    data = _small_images()
    job = _small_job("residual_cnn", {"blocks": 1, "channels": 4}, linearise=False, seed=3)
    first, second = _tables(job, data), _tables(job, data)
    assert set(first["outputs"]["model"]) == {"network", "linear"}
    for name in ("losses", "outputs", "discrepancy", "ntk_entries", "movement"):
        assert first[name].equals(second[name]), name
