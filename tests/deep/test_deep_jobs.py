"""The deep training jobs as the config defines them: per-data-set overrides, and the
checks across keys that the schema cannot make."""

import copy

import pytest
import yaml
from workflow_runs import ROOT

from earlylin.deep.jobs import config_problems, dataset_entry, deep_job, figure_datasets, network_settings

DEEP = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["deep"]


def test_paper_jobs_resolve_to_the_paper_s_networks():
    fc, cnn = deep_job(DEEP, "cifar10_8x8", "fc"), deep_job(DEEP, "cifar10_8x8", "cnn")
    assert (fc.image_shape, fc.input_dim, fc.n_train, fc.n_test) == ((3, 8, 8), 192, 10_000, 2000)
    assert (fc.depth, fc.width, cnn.depth, cnn.width, cnn.filter_size) == (4, 512, 4, 256, 3)
    assert deep_job(DEEP, "mnist", "cnn").image_shape == (1, 28, 28)


def test_a_data_set_may_override_sizes_and_networks():
    subset = deep_job(DEEP, "mnist_subset_7x7", "cnn")
    assert (subset.image_shape, subset.n_train, subset.n_test, subset.width) == ((1, 7, 7), 700, 300, 128)
    assert subset.depth == DEEP["cnn"]["depth"]  # not overridden: the section's
    assert network_settings(DEEP, "mnist_subset_7x7", "fc") == {"depth": 4, "width": 512, "filter_size": None}
    assert dataset_entry(DEEP, "cifar10")["n_train"] == DEEP["n_train"]
    assert figure_datasets(DEEP) == ["cifar10", "cifar10_8x8", "mnist", "mnist_subset_7x7"]
    assert figure_datasets(DEEP, ["fig3_offline"]) == ["mnist_subset_7x7"]


def test_the_paper_config_has_no_problems():
    assert config_problems(DEEP) == []


def _problems(change):
    deep = copy.deepcopy(DEEP)
    change(deep)
    return config_problems(deep)


def test_asking_the_bundled_mnist_subset_for_more_than_two_digits_hold_names_key_and_limit():
    (problem,) = _problems(lambda d: d["datasets"]["mnist_subset_7x7"].update(n_train=800, n_test=201))
    assert "'deep.datasets.mnist_subset_7x7'" in problem and "500 images per class" in problem
    assert "800 + 201 = 1001" in problem and "sum to at most 1000" in problem
    # Without its own sizes the data set takes the section's 10,000 / 2,000: said so.
    (problem,) = _problems(lambda d: [d["datasets"]["mnist_subset_7x7"].pop(k) for k in ("n_train", "n_test")])
    assert "10000 + 2000" in problem and "now from deep.n_train" in problem


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d.update(fig3_offline=["svhn"]), "'deep.fig3_offline' names data set 'svhn'"),
        (lambda d: d["datasets"]["mnist"].update(pool=3), "'deep.datasets.mnist.pool' = 3 does not divide the 28 x 28"),
        (lambda d: d.update(batch_size=800), "'deep.batch_size' = 800 exceeds the 700 training images"),
    ],
)
def test_other_problems_across_keys(change, expected):
    problems = _problems(change)
    assert any(expected in p for p in problems), problems
