"""fig_data's jobs and the checks of its config section: every bad value is refused before any
job, with the key, the value and the fix."""

from __future__ import annotations

import re

import pytest
import yaml
from workflow_runs import ROOT

from earlylin.core.config import ConfigError
from earlylin.experiments.any_data import job as any_data_job
from earlylin.experiments.any_data import job_wildcards
from earlylin.experiments.configuration import check_config as validate_config
from earlylin.training.cost import CostEstimate, cost_limit_message
from earlylin.training.job import TrainingJob

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_jobs_cover_every_loss_momentum_and_the_clone():
    config = _config()
    validate_config(config, SCHEMA)
    jobs = job_wildcards(config)
    # 2 data sets x (2 losses x 2 momenta + the clone) x 2 seeds
    assert len(jobs) == 20
    clones = [j for j in jobs if j["inputs"] == "clone"]
    assert {(j["loss"], j["momentum"]) for j in clones} == {("mse", "0")}
    assert {(j["loss"], j["momentum"]) for j in jobs} == {
        ("mse", "0"),
        ("mse", "0.9"),
        ("logistic", "0"),
        ("logistic", "0.9"),
    }


def test_a_job_takes_its_network_from_models_and_its_sgd_from_fig_data():
    config = _config()
    validate_config(config, SCHEMA)
    job = any_data_job(config, "digits_3v8", "logistic", "0.9", "clone", 1)
    assert (job["inputs"], job["resamples"]) == ("clone", 200)
    train = TrainingJob.from_dict(job["train"])
    assert (train.network.network, dict(train.network.kwargs), train.lr) == ("fc", {"depth": 4, "width": 512}, 1.0)
    assert (train.loss, train.momentum, train.batch_size, train.max_step, train.seed) == ("logistic", 0.9, 200, 1000, 1)
    assert train.linear == {"coefficients": "fit", "points": 200, "initialisations": 4}  # models' fit
    assert train.movement is None and train.exact_kernel is None and train.linearise
    assert train.key("max_step") == "fig_data.max_step" and train.key("max_cpu_hours") == "models.max_cpu_hours"


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["fig_data"].update(datasets=["fashion"]),
            "config key 'fig_data.datasets' names data set 'fashion', which 'deep.datasets' does not define",
        ),
        (
            lambda c: c["fig_data"].update(network="vit"),
            "config key 'fig_data.network' = 'vit' is not a network of 'models.networks'; defined: cnn, fc,",
        ),
        (
            lambda c: c["fig_data"].update(batch_size=300),
            "config key 'fig_data.batch_size' = 300 exceeds the 250 training images of data set 'digits_3v8'",
        ),
        (
            lambda c: c["models"].update(kernel_points=260),
            "config key 'models.kernel_points' = 260 exceeds the 250 training images of data set 'digits_3v8' "
            "(named by 'fig_data.datasets'); lower it to at most 250",
        ),
        (
            lambda c: c["fig_data"].update(momenta=[0, 0.0]),
            "config key 'fig_data.momenta' = [0, 0.0]: [0, 0.0] has non-unique elements",
        ),
        (
            lambda c: c["fig_data"].update(losses=["hinge"]),
            "'fig_data.losses.0' = 'hinge' is not allowed; allowed values: mse, logistic",
        ),
        (lambda c: c["fig_data"].update(momenta=[1.0]), "'fig_data.momenta.0' = 1.0 is out of range; it must be < 1"),
        (lambda c: c["fig_data"].update(momenta=[-0.5]), "'fig_data.momenta.0' = -0.5 is out of range"),
        (lambda c: c["fig_data"].update(losses=[]), "'fig_data.losses' = \\[\\]"),
        (lambda c: c["fig_data"].update(resamples=5), "'fig_data.resamples' = 5 is out of range"),
        (lambda c: c["fig_data"].pop("clone"), "'clone' is a required property"),
        (lambda c: c.pop("fig_data"), "'fig_data' is a required property"),
    ],
    ids=[
        "unknown-dataset",
        "unknown-network",
        "batch-too-large",
        "kernel-subset-too-large",
        "momentum-twice",
        "unknown-loss",
        "momentum-one",
        "negative-momentum",
        "no-loss",
        "few-resamples",
        "no-clone-key",
        "no-section",
    ],
)
def test_bad_fig_data_settings_are_refused_with_key_value_and_fix(edit, expected):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    message = str(info.value)
    assert expected in message or re.search(expected, message), message


def test_the_cost_limit_names_the_steps_of_the_job_s_own_section():
    config = _config()
    validate_config(config, SCHEMA)
    job = TrainingJob.from_dict(any_data_job(config, "digits_3v8", "mse", "0", "real", 0)["train"])
    estimate = CostEstimate({"network": 1.0, "linearised": 2.0}, job.max_step, 0.0, 1, {"kernel_fit": 1.0})
    message = cost_limit_message(job, estimate, 0.1, "train_any_data")
    assert message.startswith("train_any_data fc on digits_3v8 (seed 0) would take about 50 min on this CPU")
    assert "more than config key models.max_cpu_hours = 0.1" in message
    assert "(fig_data.max_step, models.networks.fc.kwargs, models.networks.fc.linearise)" in message
