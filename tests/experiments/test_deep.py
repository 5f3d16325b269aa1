"""The deep training jobs as the config defines them (plain dicts, the engine's jobs):
per-data-set overrides, and the checks across keys that the schema cannot make."""

import copy
import re

import pytest
import yaml
from workflow_runs import ROOT

from earlylin.core.config import ConfigError
from earlylin.experiments.configuration import check_config, paper_config
from earlylin.experiments.deep import (
    config_problems,
    figure_datasets,
    figure_title,
    job_seeds,
    network_settings,
    networks_text,
    training_job,
)
from earlylin.experiments.image_sets import (
    dataset_entry,
    dataset_label,
    image_data_job,
    named_dataset_problems,
    pooled_shape,
)
from earlylin.training.job import TrainingJob

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = paper_config(ROOT / "config" / "config.yaml", SCHEMA)
DEEP = CONFIG["deep"]


def test_paper_jobs_resolve_to_the_paper_s_networks_and_linear_model():
    fc, cnn = (training_job(CONFIG, "cifar10_8x8", arch, 0) for arch in ("fc", "cnn"))
    assert fc["network"] == {
        "name": "fc",
        "network": "fc",
        "kwargs": {"depth": 4, "activation": "erf", "width": 512},
        "key": "deep.fc",
        "init": "deep",
    }
    assert cnn["network"]["kwargs"] == {"depth": 4, "activation": "erf", "channels": 256, "filter_size": 3}
    assert fc["linear"] == {"coefficients": "recursion", "architecture": "fc", "activation": "erf", "depth": 4}
    assert fc["lr_match"] is None and cnn["lr_match"] == {"activation": "erf", "fc_depth": 4, "cnn_depth": 4}
    assert (fc["lr"], fc["batch_size"], fc["max_step"], fc["loss"] if "loss" in fc else "mse") == (
        1.0,
        500,
        10_000,
        "mse",
    )
    assert not fc["linearise"] and fc["exact_kernel"] is None and not fc["allow_tf32"]  # no GPU here
    TrainingJob.from_dict(fc)  # the engine reads it
    assert pooled_shape(dataset_entry(DEEP, "cifar10_8x8")) == (3, 8, 8)
    assert image_data_job(DEEP, "cifar10_8x8") == {
        "root": "resources",
        "source": "cifar10",
        "classes": [3, 7],
        "pool": 4,
        "n_train": 10_000,
        "n_test": 2000,
    }
    assert image_data_job(DEEP, "mnist_subset_7x7")["root"] is None  # bundled: data_root changes nothing


def test_the_linearised_network_and_the_exact_kernel_model_are_options():
    config = copy.deepcopy(CONFIG)
    config["deep"].update(linearise=True, exact_kernel=True)
    job = training_job(config, "mnist_subset_7x7", "cnn", 1)
    assert job["linearise"] and job["exact_kernel"] == {
        "kind": "cnn",
        "activation": "erf",
        "depth": 4,
        "filter_size": 3,
    }


def test_a_data_set_may_override_sizes_and_networks():
    subset = training_job(CONFIG, "mnist_subset_7x7", "cnn", 0)
    assert (
        subset["network"]["kwargs"]["channels"] == 128
        and subset["network"]["key"] == "deep.datasets.mnist_subset_7x7.cnn"
    )
    assert subset["network"]["kwargs"]["depth"] == DEEP["cnn"]["depth"]  # not overridden: the section's
    entry = dataset_entry(DEEP, "mnist_subset_7x7")
    assert (pooled_shape(entry), entry["n_train"], entry["n_test"]) == ((1, 7, 7), 700, 300)
    assert network_settings(DEEP, "mnist_subset_7x7", "fc") == {"depth": 4, "width": 512, "filter_size": None}
    assert dataset_entry(DEEP, "cifar10")["n_train"] == DEEP["n_train"]
    assert figure_datasets(DEEP) == ["cifar10", "cifar10_8x8", "mnist", "mnist_subset_7x7"]
    assert figure_datasets(DEEP, ["fig3_offline"]) == ["mnist_subset_7x7"]


def test_the_paper_config_has_no_problems():
    assert config_problems(CONFIG) == []


def _problems(change):
    config = copy.deepcopy(CONFIG)
    change(config["deep"])
    return config_problems(config)


def test_asking_the_bundled_mnist_subset_for_more_than_two_digits_hold_names_key_and_limit():
    (problem,) = _problems(lambda d: d["datasets"]["mnist_subset_7x7"].update(n_train=800, n_test=201))
    assert "'deep.datasets.mnist_subset_7x7'" in problem and "1000 images of classes 0 and 1 (500 + 500)" in problem
    assert "800 + 201 = 1001" in problem and "sum to at most 1000" in problem
    # Without its own sizes the data set takes the section's 10,000 / 2,000: said so.
    (problem,) = _problems(lambda d: [d["datasets"]["mnist_subset_7x7"].pop(k) for k in ("n_train", "n_test")])
    assert "10000 + 2000" in problem and "now from 'deep.n_train' and 'deep.n_test'" in problem


@pytest.mark.parametrize(
    "entry, expected",
    [
        # digits: classes of unequal size, no test split (183 threes + 174 eights)
        (
            {"source": "digits", "classes": [3, 8], "pool": 1, "n_train": 400, "n_test": 200},
            "source digits has 357 images of classes 3 and 8 (183 + 174)",
        ),
        # CIFAR-10: 5,000 training and 1,000 test images per class
        (
            {"source": "cifar10", "classes": [3, 7], "pool": 4, "n_train": 10_001, "n_test": 2000},
            "the train split of cifar10 has 10000 images of classes 3 and 7, but n_train = 10001",
        ),
        (
            {"source": "cifar10", "classes": [3, 7], "pool": 4, "n_train": 100, "n_test": 2001},
            "the test split of cifar10 has 2000 images of classes 3 and 7, but n_test = 2001",
        ),
        # MNIST: 980 test zeros and 1,135 test ones
        (
            {"source": "mnist", "classes": [0, 1], "pool": 1, "n_train": 100, "n_test": 2200},
            "the test split of mnist has 2115 images of classes 0 and 1, but n_test = 2200 (from "
            "'deep.datasets.probe.n_test'); lower it to at most 2115",
        ),
    ],
    ids=["digits", "cifar10-train", "cifar10-test", "mnist-test"],
)
def test_every_source_s_sizes_are_checked_before_any_job(entry, expected):
    problems = _problems(lambda d: d["datasets"].update(probe=dict(entry)))
    assert any(expected in p and "'deep.datasets.probe'" in p for p in problems), problems
    fitting = {**entry, "n_train": 300, "n_test": 50}
    assert _problems(lambda d: [d["datasets"].update(probe=fitting), d.update(batch_size=100)]) == []


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


def test_titles_say_what_each_data_set_trained():
    """Row titles, network texts and figure titles come from each data set's own settings:
    overrides of the CNN's channels or the FC net's depth show, both depths are named, and
    the image size is the pooled one."""
    deep = copy.deepcopy(DEEP)
    deep["datasets"]["small"] = {
        "source": "mnist_subset",
        "classes": [1, 7],
        "pool": 2,
        "n_train": 300,
        "n_test": 200,
        "fc": {"depth": 2},
        "cnn": {"channels": 16, "depth": 3},
    }
    assert dataset_label(deep, "small") == "small (mnist_subset 1 vs 7, 14x14, n = 300 / 200)"
    assert dataset_label(deep, "cifar10_8x8") == "cifar10_8x8 (cifar10 3 vs 7, 8x8x3, n = 10000 / 2000)"
    assert networks_text(deep, ["cifar10_8x8"]) == "FC 4 x 512 and CNN 4 x 256 channels (3x3)"
    assert networks_text(deep, ["cifar10_8x8", "small"]) == (
        "FC 4 x 512 on cifar10_8x8; 2 x 512 on small and CNN 4 x 256 channels (3x3) on cifar10_8x8; "
        "3 x 16 channels (3x3) on small"
    )
    deep["fig4"] = ["cifar10_8x8", "small"]
    title = figure_title(deep, "fig4")
    assert title.startswith("Figure 4 (Appendix A): FC 4 x 512 on cifar10_8x8; 2 x 512 on small and CNN")
    assert title.endswith("erf, batch 500, lr 1") and "[" not in title


def test_a_network_s_seeds_override_its_data_set_s_which_override_the_section_s():
    deep = copy.deepcopy(DEEP)
    deep["datasets"]["mnist_subset_7x7"].update(seeds=[0, 1, 2], cnn={"channels": 128, "seeds": [5]})
    assert job_seeds(deep, "mnist_subset_7x7", "fc") == [0, 1, 2]
    assert job_seeds(deep, "mnist_subset_7x7", "cnn") == [5]
    assert job_seeds(deep, "cifar10", "cnn") == deep["seeds"]


def test_batch_size_is_checked_only_where_a_deep_figure_trains():
    """deep.batch_size is train_deep's: a data set no deep figure trains on (fig_data's
    digits, say) may hold fewer training images; named by a figure, it is refused."""
    small = {"source": "digits", "classes": [3, 8], "pool": 1, "n_train": 250, "n_test": 100}
    assert _problems(lambda d: d["datasets"].update(small=small)) == []
    problems = _problems(lambda d: [d["datasets"].update(small=small), d.update(fig3_offline=["small"])])
    assert any("'deep.batch_size' = 500 exceeds the 250 training images of data set 'small'" in p for p in problems)


def test_labels_in_messages_are_written_as_ranges():
    from earlylin.experiments.image_sets import label_ranges

    assert label_ranges(range(100)) == "0..99"
    assert label_ranges([7, 0, 2, 5, 6]) == "0, 2, 5..7"
    assert label_ranges([3, 4]) == "3, 4"


# Data sets of k > 2 classes (labels 0..k-1, a class-balanced draw): their sizes are checked per
# class, and every section that trains on two classes (labels +-1) refuses them.

MNIST10 = {"source": "mnist_subset", "classes": list(range(10)), "pool": 4, "n_train": 2000, "n_test": 1000}


@pytest.mark.parametrize(
    "entry, expected",
    [
        # the bundled subset: 500 images of each digit for train and test together; shares 401 + 100
        (
            {**MNIST10, "n_train": 4001, "n_test": 1000},
            "config key 'deep.datasets.probe': class 0 of source mnist_subset holds 500 images, but a class-balanced "
            "draw of n_train + n_test = 5001 images over 10 classes takes 501 of it; lower n_train / n_test (now from "
            "'deep.datasets.probe.n_train' and 'deep.datasets.probe.n_test') so that each class's share is at most 500",
        ),
        # digits: 183 threes, 174 eights, 178 zeros; each class takes 120 + 60: the eights are shortest
        (
            {"source": "digits", "classes": [3, 8, 0], "pool": 1, "n_train": 360, "n_test": 180},
            "config key 'deep.datasets.probe': class 8 of source digits holds 174 images, but a class-balanced draw "
            "of n_train + n_test = 540 images over 3 classes takes 180 of it; lower n_train / n_test (now from "
            "'deep.datasets.probe.n_train' and 'deep.datasets.probe.n_test') so that each class's share is at most 174",
        ),
        # CIFAR-10: 5,000 training images per class; 50,001 takes 5,001 of the first class
        (
            {"source": "cifar10", "classes": list(range(10)), "pool": 4, "n_train": 50_001, "n_test": 2000},
            "config key 'deep.datasets.probe': class 0 of the train split of cifar10 holds 5000 images, but a "
            "class-balanced draw of n_train = 50001 images over 10 classes takes 5001 of it; lower n_train (now from "
            "'deep.datasets.probe.n_train') so that each class's share is at most 5000",
        ),
        # MNIST's test split: 1,135 ones, 892 fives, 980 zeros; 2,700 takes 900 of each
        (
            {"source": "mnist", "classes": [1, 5, 0], "pool": 1, "n_train": 300, "n_test": 2700},
            "config key 'deep.datasets.probe': class 5 of the test split of mnist holds 892 images, but a "
            "class-balanced draw of n_test = 2700 images over 3 classes takes 900 of it; lower n_test (now from "
            "'deep.datasets.probe.n_test') so that each class's share is at most 892",
        ),
        # a class the source lacks: as for two classes
        (
            {**MNIST10, "classes": [0, 1, 12]},
            "config key 'deep.datasets.probe.classes' = [0, 1, 12]: class 12 does not occur in source mnist_subset; "
            "its labels: 0..9",
        ),
    ],
    ids=["mnist_subset-pooled", "digits-pooled", "cifar10-train", "mnist-test", "absent"],
)
def test_each_of_k_classes_is_checked_against_its_share_before_any_job(entry, expected):
    assert _problems(lambda d: d["datasets"].update(probe=dict(entry))) == [expected]


def test_the_section_s_sizes_are_named_when_a_k_class_data_set_takes_them():
    entry = {key: value for key, value in MNIST10.items() if key not in ("n_train", "n_test")}
    (problem,) = _problems(lambda d: d["datasets"].update(probe=entry))  # 10,000 + 2,000 of 5,000 images
    assert "n_train + n_test = 12000 images over 10 classes takes 1200 of it" in problem
    assert "now from 'deep.n_train' and 'deep.n_test'" in problem


def test_k_classes_that_fit_their_shares_pass_and_are_titled_by_their_range():
    deep = copy.deepcopy(DEEP)
    deep["datasets"].update(
        mnist10=dict(MNIST10),
        cats=dict(source="cifar10", classes=[7, 3, 5], pool=4, n_train=15_000, n_test=3000),  # all of each
    )
    assert config_problems({**CONFIG, "deep": deep}) == []
    assert dataset_label(deep, "mnist10") == "mnist10 (mnist_subset digits 0..9 (10 classes), 7x7, n = 2000 / 1000)"
    assert dataset_label(deep, "cats") == "cats (cifar10 labels 3, 5, 7 (3 classes), 8x8x3, n = 15000 / 3000)"


def _raw_config():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["deep"]["datasets"]["mnist10"] = dict(MNIST10)
    return config


def test_the_schema_takes_two_or_more_distinct_classes():
    check_config(_raw_config(), SCHEMA)  # ten classes, named by no section: fine
    for classes, message in (([3], "is too short"), ([3, 5, 3], "has non-unique elements")):
        config = _raw_config()
        config["deep"]["datasets"]["mnist10"]["classes"] = classes
        with pytest.raises(ConfigError, match=re.escape(f"'deep.datasets.mnist10.classes' = {classes}")) as info:
            check_config(config, SCHEMA)
        assert message in str(info.value)


TWO_CLASS_REFUSAL = (
    "config key '{key}' names data set 'mnist10', which has 10 classes ('deep.datasets.mnist10.classes' = "
    "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); this section trains on two classes (labels +-1): name a data set with two classes"
)


@pytest.mark.parametrize(
    "key, edit",
    [
        ("deep.fig3", lambda c: c["deep"].update(fig3=["mnist10"])),
        ("deep.fig4", lambda c: c["deep"].update(fig4=["cifar10", "mnist10"])),
        ("deep.fig3_offline", lambda c: c["deep"].update(fig3_offline=["mnist10"])),
        ("models.datasets", lambda c: c["models"].update(datasets=["mnist10"])),
        ("models.widths.datasets", lambda c: c["models"]["widths"].update(datasets=["mnist10"])),
        ("fig_data.datasets", lambda c: c["fig_data"].update(datasets=["mnist_subset_7x7", "mnist10"])),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_section_that_trains_on_two_classes_refuses_a_ten_class_data_set(key, edit):
    config = _raw_config()
    edit(config)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    assert TWO_CLASS_REFUSAL.format(key=key) in str(info.value)
    assert str(info.value).count("which has 10 classes") == 1  # only the section that names it


def test_a_k_class_section_may_name_a_ten_class_data_set():
    deep = {**DEEP, "datasets": {**DEEP["datasets"], "mnist10": dict(MNIST10)}}
    limits = {"models.batch_size": 500}
    assert named_dataset_problems(deep, "some.datasets", ["mnist10"], limits, two_classes=False) == []
    assert named_dataset_problems(deep, "some.datasets", ["mnist10"], limits) == [
        TWO_CLASS_REFUSAL.format(key="some.datasets")
    ]
    assert named_dataset_problems(deep, "some.datasets", ["mnist_subset_7x7"], limits) == []


def test_the_two_class_deep_figures_are_all_the_deep_figures():
    from earlylin.experiments.deep import FIGURES
    from earlylin.experiments.image_sets import TWO_CLASS_DEEP_FIGURES

    assert TWO_CLASS_DEEP_FIGURES == tuple(FIGURES)
