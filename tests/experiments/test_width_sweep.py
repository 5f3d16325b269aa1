"""fig_widths (width as a knob), the gaussian data source and ``lr: auto`` through the config:
the sweep's jobs, every bad input of the new keys named with its key and the fix before any
job runs, the cost limit of a width job naming the width first, and the slopes fitted against
a brute-force least squares."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_runs import ROOT

from earlylin.core.config import ConfigError
from earlylin.data.images import image_data_from_job
from earlylin.experiments.configuration import check_config
from earlylin.experiments.image_sets import image_data_job
from earlylin.experiments.width_sweep import fit_slopes, job_wildcards, width_job
from earlylin.training.cost import CostEstimate, cost_limit_message
from earlylin.training.job import TrainingJob

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _config():
    return copy.deepcopy(CONFIG)


def test_the_default_sweep_is_the_paper_s_fc_net_at_widths_128_to_2048_on_mnist_and_gaussian_inputs():
    config = _config()
    check_config(config, SCHEMA)
    jobs = job_wildcards(config)
    assert len(jobs) == 2 * 5 * 2  # data sets x widths x seeds
    job = TrainingJob.from_dict(width_job(config, "gaussian_256", "fc", 2048, 1))
    assert dict(job.network.kwargs) == {"depth": 4, "width": 2048} and job.sweep == {"argument": "width", "value": 2048}
    assert (job.max_step, job.linearise, job.movement, job.lr, job.seed) == (100, True, None, 1.0, 1)
    assert job.exact_kernel is None  # Gaussian inputs are not on the sphere: no exact-kernel model
    assert job.key("width") == "models.widths.networks.fc.values"
    # the same job as fig_models' at that width: batches, data and fitted kernel settings
    base = TrainingJob.from_dict(width_job(config, "mnist_subset_7x7", "fc", 512, 0))
    assert base.linear == {"coefficients": "fit", "points": 200, "initialisations": 4} and base.batch_size == 500


def test_the_gaussian_source_is_section_4_1_s_premise_drawn_from_the_seed():
    config = _config()
    check_config(config, SCHEMA)
    job = image_data_job(config["deep"], "gaussian_256")
    data, again, other = (image_data_from_job(job, 3), image_data_from_job(job, 3), image_data_from_job(job, 4))
    assert data.X_train.shape == (700, 256) and data.X_test.shape == (300, 256)
    assert np.array_equal(data.X_train, again.X_train) and not np.array_equal(data.X_train, other.X_train)
    X = np.concatenate([data.X_train, data.X_test])
    assert abs(X.mean()) < 0.01 and abs(X.var() - 1) < 0.01  # i.i.d. N(0, 1) entries
    gram = X @ X.T / 256
    assert np.abs(np.diag(gram) - 1).max() < 0.5 and np.abs(gram[np.triu_indices(len(X), 1)]).mean() < 0.06
    assert set(np.unique(data.y_train)) == {-1.0, 1.0}


def _network(config, name, entry):
    config["models"]["networks"][name] = entry
    config["models"]["widths"]["networks"] = {
        name: config["models"]["widths"]["networks"].get(name, {"values": [8, 16]})
    }


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["models"]["widths"].update(networks={"wide": {"values": [8, 16]}}),
            "config key 'models.widths.networks.wide' names network 'wide', which 'models.networks' does not define",
        ),
        (
            lambda c: _network(c, "mine", {"network": "torchvision.models:resnet18", "lr": 1.0}),
            "config key 'models.widths.networks.mine.argument' is missing: 'torchvision.models:resnet18' is not a "
            "built-in network, so the workflow cannot know which argument of its factory is the width",
        ),
        (
            lambda c: c["models"]["widths"]["networks"]["fc"].update(argument="channels"),
            "config key 'models.widths.networks.fc.argument' = 'channels' is not an argument of the built-in 'fc'; "
            "its arguments: depth, width",
        ),
        (
            lambda c: c["models"]["widths"]["networks"]["fc"].update(values=[512]),
            r"'models.widths.networks.fc.values' = \[512\]: \[512\] is too short",
        ),
        (
            lambda c: c["models"]["widths"].update(datasets=["cifar100"]),
            "config key 'models.widths.datasets' names data set 'cifar100', which 'deep.datasets' does not define",
        ),
        (
            lambda c: c["models"]["widths"].update(steps=[0, 10]),
            r"'models.widths.steps.0' = 0 is out of range; it must be >= 1",
        ),
        (
            lambda c: c["deep"]["datasets"]["gaussian_256"].update(classes=[0, 1]),
            "config key 'deep.datasets.gaussian_256.classes' is set, but source gaussian draws vectors labelled by a "
            "teacher and reads no classes; remove it",
        ),
        (
            lambda c: c["deep"]["datasets"]["gaussian_256"].pop("d"),
            "config key 'deep.datasets.gaussian_256' lacks a required entry: 'd' is a required property",
        ),
        (
            lambda c: c["deep"]["datasets"]["mnist_subset_7x7"].update(d=49),
            "config key 'deep.datasets.mnist_subset_7x7.d' is set, but only source gaussian reads it; remove it",
        ),
        (
            lambda c: c["models"]["networks"]["fc"].update(input={"channels": 3}),
            "config key 'models.networks.fc.input' adapts images, but data set 'gaussian_256' holds vectors of "
            "shape (256,); remove it for this data set's networks",
        ),
        (
            lambda c: c["models"]["networks"]["cnn"].update(input={"size": 5, "mode": "pad"}),
            "config key 'models.networks.cnn.input.size' = 5: padding cannot shrink data set 'mnist_subset_7x7''s "
            "7 x 7 images; give size >= 7 or mode: resize",
        ),
        (
            lambda c: c["models"]["networks"]["cnn"].update(batch_norm="freeze"),
            r"'models.networks.cnn.batch_norm' = 'freeze' is not allowed; allowed values: frozen, group",
        ),
        (
            lambda c: c["models"]["networks"]["cnn"].update(lr="fast"),
            r"'models.networks.cnn.lr' = 'fast'.*it must be a number > 0 or 'auto'",
        ),
        (
            lambda c: c["models"].update(lr_fraction=1.5),
            r"'models.lr_fraction' = 1.5 is out of range; it must be < 1",
        ),
    ],
    ids=[
        "unknown-network",
        "no-argument-for-own-factory",
        "not-an-argument-of-the-builtin",
        "one-width",
        "unknown-dataset",
        "step-zero",
        "gaussian-with-classes",
        "gaussian-without-d",
        "d-on-images",
        "input-on-vectors",
        "pad-that-shrinks",
        "unknown-batch-norm",
        "lr-not-auto",
        "lr-fraction-above-1",
    ],
)
def test_bad_width_gaussian_and_network_settings_are_refused_with_key_value_and_fix(edit, expected):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    message = str(info.value)
    assert expected in message or re.search(expected, message), message


def test_a_sweep_above_max_cpu_hours_names_the_width_first():
    config = _config()
    check_config(config, SCHEMA)
    job = TrainingJob.from_dict(width_job(config, "mnist_subset_7x7", "fc", 2048, 0))
    estimate = CostEstimate({"network": 30.0, "linearised": 75.0}, job.max_step, 0.0, 1, {"kernel_fit": 1.0})
    message = cost_limit_message(job, estimate, 0.5, "train_width_sweep")
    assert message.startswith("train_width_sweep fc on mnist_subset_7x7 (seed 0) would take about 2.9 h on this CPU")
    assert "more than config key models.max_cpu_hours = 0.5" in message
    assert "(models.widths.networks.fc.values (drop width = 2048), models.widths.steps, " in message


def test_the_slopes_are_least_squares_of_log_mean_on_log_width():
    rng = np.random.default_rng(0)
    widths, seeds = [128, 256, 512, 1024], [0, 1, 2]
    rows = [
        dict(
            dataset="g",
            net="fc",
            width=w,
            seed=s,
            reference="network",
            other="linear",
            step=1,
            value=3.0 * w**-0.5 * np.exp(0.1 * rng.standard_normal()),
        )  # fmt: skip
        for w in widths
        for s in seeds
    ]
    table = pd.DataFrame(rows)
    fit = fit_slopes(table).iloc[0]
    mean = table.groupby("width")["value"].mean()
    A = np.column_stack([np.log(mean.index.to_numpy(float)), np.ones(len(mean))])
    slope, intercept = np.linalg.lstsq(A, np.log(mean.to_numpy()), rcond=None)[0]
    assert fit["slope"] == pytest.approx(slope, rel=1e-12) and fit["intercept"] == pytest.approx(intercept, rel=1e-12)
    per_seed = [np.polyfit(np.log(widths), np.log(table[table["seed"] == s]["value"].to_numpy()), 1)[0] for s in seeds]
    assert fit["seed_slope_sd"] == pytest.approx(np.std(per_seed, ddof=1), rel=1e-9) and fit["seeds"] == 3
    assert -0.7 < fit["slope"] < -0.3 and (fit["width_min"], fit["width_max"]) == (128, 1024)


def test_a_width_argument_the_factory_does_not_take_stops_the_job_before_any_compute(tmp_path, monkeypatch):
    """Through the engine, as the rule runs it: the job of a network whose factory has no such
    argument stops before the factory is called, naming the key and the factory's arguments."""
    from earlylin.data.dataset import Dataset
    from earlylin.networks.registry import ModelError
    from earlylin.training.run import RunOptions, run

    (tmp_path / "mine.py").write_text(
        "import torch\ndef build(input_shape, hidden=8):\n    raise AssertionError('the factory was called')\n"
    )
    monkeypatch.chdir(tmp_path)
    config = _config()
    config["models"]["networks"]["mine"] = {"network": "mine.py:build", "lr": 1.0}
    config["models"]["widths"]["networks"] = {"mine": {"argument": "width", "values": [8, 16]}}
    job = TrainingJob.from_dict(width_job(config, "mnist_subset_7x7", "mine", 8, 0))
    X = np.random.default_rng(0).standard_normal((30, 49))
    data = Dataset(X[:20], np.sign(X[:20, 0]), X[20:], np.sign(X[20:, 0]), image_shape=(1, 7, 7))
    with pytest.raises(ModelError) as error:
        run(job, data, RunOptions(progress=False))
    assert "models.widths.networks.mine.argument = 'width', but its factory has no argument 'width'" in str(error.value)
    assert "its arguments: hidden" in str(error.value)
