"""fig_classes' jobs and config checks (earlylin.experiments.any_classes): the jobs a user's
config makes, and each bad input stopped by the config check (before any job) with its key,
its value and the fix."""

from __future__ import annotations

import pytest
import yaml
from workflow_runs import ROOT

from earlylin.core.config import ConfigError
from earlylin.experiments import any_classes, any_network
from earlylin.experiments.configuration import check_config

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _config():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    check_config(config, SCHEMA)
    return config


def test_the_default_jobs_train_ten_outputs_with_cross_entropy_and_momentum():
    config = _config()
    wildcards = any_classes.job_wildcards(config)
    assert {(w["net"], w["seed"]) for w in wildcards} == {("fc", 0), ("fc", 1), ("resnet18", 0), ("resnet18", 1)}
    fc = any_classes.job(config, "mnist_subset_10", "fc", "cross_entropy", 0)["train"]
    assert (fc["classes"], fc["outputs"], fc["loss"], fc["momentum"]) == (10, 10, "cross_entropy", 0.9)
    assert fc["network"]["kwargs"] == {"depth": 4, "width": 512, "outputs": 10}  # the built-in's argument
    assert fc["exact_kernel"] == {"kind": "fc", "activation": "erf", "depth": 4}  # Theta_inf (x) I_10
    assert fc["movement"] is None and fc["linear"]["points"] == 100 and fc["linear"]["initialisations"] == 2
    assert fc["keys"]["max_step"] == "fig_classes.max_step"
    resnet = any_classes.job(config, "mnist_subset_10", "resnet18", "cross_entropy", 1)["train"]
    assert resnet["network"]["kwargs"] == {"num_classes": 10}  # its outputs_argument
    assert resnet["network"]["network"] == "torchvision.models:resnet18"
    assert resnet["lr"] is None and resnet["lr_fraction"] == 0.5 and resnet["exact_kernel"] is None


def test_two_classes_with_the_square_loss_keep_one_output_and_the_binary_job():
    """A built-in on two classes gets no outputs argument: its fig_models job is unchanged."""
    config = _config()
    job = any_classes.job(config, "mnist_subset_7x7", "fc", "mse", 0)["train"]
    assert (job["classes"], job["outputs"]) == (2, 1)
    assert "outputs" not in job["network"]["kwargs"]
    assert any_network.training_job(config, "mnist_subset_7x7", "fc", 0)["network"]["kwargs"] == {
        "depth": 4,
        "width": 512,
    }
    two = any_classes.job(config, "mnist_subset_7x7", "fc", "cross_entropy", 0)["train"]
    assert (two["classes"], two["outputs"], two["network"]["kwargs"]["outputs"]) == (2, 2, 2)
    # an entry with an outputs argument has it set in every job, to 1 for two classes
    assert any_network.training_job(config, "mnist_subset_7x7", "resnet18", 0)["network"]["kwargs"] == {
        "num_classes": 1
    }


BAD = [
    (
        "logistic with ten classes",
        lambda c: c["fig_classes"].update(losses=["cross_entropy", "logistic"]),
        "config key 'fig_classes.losses' = ['cross_entropy', 'logistic']: data set 'mnist_subset_10' (named by "
        "'fig_classes.datasets'): loss logistic needs two classes (labels +-1), but the data set has 10; use mse or "
        "cross_entropy for k classes",
    ),
    (
        "a network models.networks does not define",
        lambda c: c["fig_classes"].update(networks=["fc", "vgg"]),
        "config key 'fig_classes.networks' names network 'vgg', which 'models.networks' does not define",
    ),
    (
        "k fixed in the kwargs of a built-in",
        lambda c: c["models"]["networks"]["fc"]["kwargs"].update(outputs=3),
        "config key 'models.networks.fc.kwargs.outputs' = 3 fixes the outputs per input, which fig_classes sets to "
        "each data set's number of classes (through the factory's argument 'outputs'); remove it from kwargs",
    ),
    (
        "k fixed in the kwargs of a factory with an outputs argument",
        lambda c: c["models"]["networks"]["resnet18"].update(kwargs={"num_classes": 1}),
        "config key 'models.networks.resnet18.kwargs.num_classes' = 1 fixes the outputs per input",
    ),
    (
        "a class with too few images",
        lambda c: c["deep"]["datasets"]["mnist_subset_10"].update(n_train=4500, n_test=1000),
        "config key 'deep.datasets.mnist_subset_10': class 0 of source mnist_subset holds 500 images, but a "
        "class-balanced draw of n_train + n_test = 5500 images over 10 classes takes 550 of it; lower n_train / "
        "n_test",
    ),
    (
        "a data set that does not exist",
        lambda c: c["fig_classes"].update(datasets=["cifar10_all"]),
        "config key 'fig_classes.datasets' names data set 'cifar10_all', which 'deep.datasets' does not define",
    ),
    (
        "a batch larger than the training set",
        lambda c: c["fig_classes"].update(batch_size=5000),
        "config key 'fig_classes.batch_size' = 5000 exceeds the 2000 training images of data set 'mnist_subset_10'",
    ),
    (
        "a ten-class data set in a two-class section",
        lambda c: c["fig_data"].update(datasets=["mnist_subset_10"]),
        "config key 'fig_data.datasets' names data set 'mnist_subset_10', which has 10 classes",
    ),
    (
        "cross-entropy in fig_data, whose measures read one output's sign",
        lambda c: c["fig_data"].update(losses=["cross_entropy"]),
        "'fig_data.losses.0' = 'cross_entropy' is not allowed; allowed values: mse, logistic",
    ),
    (
        "an outputs argument that is not a name",
        lambda c: c["models"]["networks"]["resnet18"].update(outputs_argument="num classes"),
        "models.networks.resnet18.outputs_argument",
    ),
]


@pytest.mark.parametrize(("case", "edit", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_inputs_stop_before_any_job_with_the_key_and_the_fix(case, edit, message):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    edit(config)
    with pytest.raises(ConfigError) as error:
        check_config(config, SCHEMA)
    assert message in str(error.value)
