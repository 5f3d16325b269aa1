"""The torchvision sources beyond the paper's CIFAR-10 and MNIST: Fashion-MNIST, KMNIST,
CIFAR-100 and SVHN, each faked in its real on-disk format and read by torchvision's own
class (md5 checks included); the config checks of their class sizes. No network: every
test runs with torchvision's downloader cut off."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torchvision.datasets.cifar
import torchvision.datasets.mnist
import torchvision.datasets.svhn
import torchvision.datasets.utils
import yaml
from fake_image_data import (
    IDX_FOLDERS,
    patch_cifar_checksums,
    patch_svhn_checksums,
    write_fake_cifar100,
    write_fake_idx,
    write_fake_svhn,
)
from torchvision.datasets import CIFAR100, KMNIST, SVHN, FashionMNIST
from workflow_runs import ROOT

from earlylin.core.config import ConfigError, load_schema
from earlylin.data.images import image_dataset, preprocess_images
from earlylin.data.sources import DOWNLOADED_SOURCES, SOURCES
from earlylin.data.torchvision_files import DataUnavailableError, load_torchvision_source, verify_source
from earlylin.experiments.configuration import check_config
from earlylin.experiments.image_sets import dataset_problems

FASHION_MNIST_HOME, KMNIST_HOME, SVHN_HOME = (SOURCES[s].home for s in ("fashion_mnist", "kmnist", "svhn"))
SOURCE_SHAPES = {name: source.image_shape for name, source in SOURCES.items() if source.image_shape}
CLASS_COUNTS = {name: source.class_counts for name, source in SOURCES.items() if source.class_counts}

NEW_SOURCES = ["fashion_mnist", "kmnist", "cifar100", "svhn"]
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
# What each source's message must name: its title, folder (relative to root), every file and where to get them.
EXPECTED = {
    "fashion_mnist": ("Fashion-MNIST", "FashionMNIST/raw", IDX_FILES, [FASHION_MNIST_HOME, FashionMNIST.mirrors[0]]),
    "kmnist": ("Kuzushiji-MNIST (KMNIST)", "KMNIST/raw", IDX_FILES, [KMNIST_HOME, KMNIST.mirrors[0]]),
    "cifar100": ("CIFAR-100", "cifar-100-python", ["train", "test", "meta"], [CIFAR100.url]),
    "svhn": (
        "SVHN",
        ".",
        ["train_32x32.mat", "test_32x32.mat"],
        [SVHN_HOME, SVHN.split_list["train"][0], SVHN.split_list["test"][0]],
    ),
}
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _no_network(*args, **kwargs):
    raise URLError("no network in tests")


@pytest.fixture(autouse=True)
def cut_off_network(monkeypatch):
    """Whatever a test asks, torchvision's downloader never reaches the network."""
    monkeypatch.setattr(torchvision.datasets.utils, "_get_redirect_url", _no_network)
    monkeypatch.setattr(torchvision.datasets.utils, "_urlretrieve", _no_network)


def write_fake(source: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The fake files of ``source`` under ``root``, with torchvision's checksums pointed at them."""
    if source in IDX_FOLDERS:
        return write_fake_idx(root, IDX_FOLDERS[source])
    if source == "cifar100":
        written = write_fake_cifar100(root)
        patch_cifar_checksums(monkeypatch, written["md5"], CIFAR100)
        return written
    written = write_fake_svhn(root)
    patch_svhn_checksums(monkeypatch, written["md5"])
    return written


@pytest.fixture(params=NEW_SOURCES)
def fake(request, tmp_path, monkeypatch) -> dict:
    return {**write_fake(request.param, tmp_path, monkeypatch), "root": tmp_path, "source": request.param}


def test_each_source_is_one_entry_of_the_registry_and_the_schema_takes_its_names_from_it():
    assert set(NEW_SOURCES) <= set(DOWNLOADED_SOURCES) <= set(SOURCES)
    # npz takes its shape from the files, gaussian from its d
    assert set(SOURCE_SHAPES) | {"npz", "gaussian"} == set(SOURCES) == set(CLASS_COUNTS) | {"npz", "gaussian"}
    assert all(SOURCES[name].torchvision_class and SOURCES[name].layout for name in DOWNLOADED_SOURCES)
    schema = load_schema(SCHEMA)["properties"]["deep"]["properties"]["datasets"]
    assert schema["additionalProperties"]["properties"]["source"]["enum"] == list(SOURCES)
    assert [SOURCE_SHAPES[s] for s in NEW_SOURCES] == [(1, 28, 28), (1, 28, 28), (3, 32, 32), (3, 32, 32)]
    assert [len(CLASS_COUNTS[s]["train"]) for s in NEW_SOURCES] == [10, 10, 100, 10]
    assert (sum(CLASS_COUNTS["svhn"]["train"]), sum(CLASS_COUNTS["svhn"]["test"])) == (73_257, 26_032)


def test_loading_reads_back_the_written_images_and_labels(fake):
    for split, train in (("train", True), ("test", False)):
        images, labels = load_torchvision_source(fake["source"], fake["root"], train)
        expected_images, expected_labels = fake[split]
        assert images.dtype == np.uint8 and images.shape == (len(expected_labels), *SOURCE_SHAPES[fake["source"]])
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize("source", ["cifar100", "svhn"])
def test_colour_pixels_keep_their_channel_row_and_column(source, tmp_path, monkeypatch):
    write_fake(source, tmp_path, monkeypatch)
    images, _ = load_torchvision_source(source, tmp_path, train=True)
    # Pixel (i=7, c=2, h=1, w=30) by the fakes' formula: 11*7 + 50*2 + 3*1 + 7*30 = 390 = 134 mod 256.
    assert images[7, 2, 1, 30] == 134 and images[7, 2, 30, 1] != 134


def test_svhn_digit_zero_stored_as_10_is_label_0(tmp_path, monkeypatch):
    import scipy.io

    write_fake("svhn", tmp_path, monkeypatch)
    stored = scipy.io.loadmat(tmp_path / "train_32x32.mat")["y"].ravel()
    _, labels = load_torchvision_source("svhn", tmp_path, train=True)
    assert 0 not in stored and set(stored[labels == 0]) == {10}
    np.testing.assert_array_equal(labels[labels > 0], stored[labels > 0])
    assert set(labels) == set(range(10))


def test_cifar100_labels_are_the_fine_labels(tmp_path, monkeypatch):
    write_fake("cifar100", tmp_path, monkeypatch)
    _, labels = load_torchvision_source("cifar100", tmp_path, train=True)
    assert set(labels) == set(range(100))


def test_image_dataset_builds_a_two_class_set(fake):
    source, pool = fake["source"], 4
    classes = (3, 7)
    data = image_dataset(source, fake["root"], classes, 6, 2, pool, np.random.default_rng(0))
    channels, height, width = SOURCE_SHAPES[source]
    assert data.image_shape == (channels, height // pool, width // pool)
    assert data.X_train.shape == (6, channels * (height // pool) * (width // pool)) and data.X_test.shape[0] == 2
    # Every row is one written image of the two classes, with +1 for classes[0] and -1 for classes[1].
    for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        images, labels = fake[split]
        rows, _ = preprocess_images(images, pool)
        for row, sign in zip(X, y, strict=True):
            (match,) = np.flatnonzero(np.all(np.isclose(rows, row, atol=1e-12), axis=1))
            assert labels[match] in classes and sign == (1.0 if labels[match] == classes[0] else -1.0)


@pytest.mark.parametrize("source", NEW_SOURCES)
def test_missing_files_name_the_folder_every_file_and_that_download_is_off(source, tmp_path):
    title, folder, files, urls = EXPECTED[source]
    with pytest.raises(DataUnavailableError) as info:
        load_torchvision_source(source, tmp_path, train=True, download=False)
    message = str(info.value)
    assert f"{title} is unavailable" in message
    assert f"files under {(tmp_path / folder).resolve()} " in message
    assert all(f"{name} is missing" in message for name in files), message
    assert f"torchvision expects these files in {(tmp_path / folder).resolve()}: {', '.join(files)}." in message
    assert all(url in message for url in urls), message
    assert "download is off (download=False)" in message and "deep.download: true" in message


@pytest.mark.parametrize("source, name, train", [("cifar100", "train", False), ("svhn", "test_32x32.mat", False)])
def test_a_corrupt_md5_checked_file_is_named_corrupt(source, name, train, tmp_path, monkeypatch):
    written = write_fake(source, tmp_path, monkeypatch)
    folder = tmp_path / EXPECTED[source][1]
    content = bytearray((folder / name).read_bytes())
    content[len(content) // 2] ^= 0xFF
    (folder / name).write_bytes(bytes(content))
    with pytest.raises(DataUnavailableError) as info:
        load_torchvision_source(source, tmp_path, train=train)
    message = str(info.value)
    assert f"{name} is corrupt (md5 differs from {written['md5'][name]})" in message
    assert "is missing" not in message  # the other files are intact


@pytest.mark.parametrize("source", ["fashion_mnist", "kmnist"])
def test_a_truncated_idx_file_is_reported(source, tmp_path, monkeypatch):
    write_fake(source, tmp_path, monkeypatch)
    path = tmp_path / IDX_FOLDERS[source] / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataUnavailableError, match=re.escape(f"{EXPECTED[source][0]} is unavailable")):
        load_torchvision_source(source, tmp_path, train=False)


def test_verify_source_counts_the_images_of_each_split(fake):
    counts = verify_source(fake["source"], fake["root"], download=False)
    assert counts == {"train": len(fake["train"][1]), "test": len(fake["test"][1])}


def test_intact_files_are_not_downloaded_again(fake):
    # The network is cut off (cut_off_network): any download attempt would fail.
    counts = verify_source(fake["source"], fake["root"], download=True)
    assert counts == {"train": len(fake["train"][1]), "test": len(fake["test"][1])}


@pytest.mark.parametrize(
    "source, module, function",
    [
        ("fashion_mnist", torchvision.datasets.mnist, "download_and_extract_archive"),
        ("kmnist", torchvision.datasets.mnist, "download_and_extract_archive"),
        ("cifar100", torchvision.datasets.cifar, "download_and_extract_archive"),
        ("svhn", torchvision.datasets.svhn, "download_url"),
    ],
)
def test_a_failed_download_is_reported(source, module, function, tmp_path, monkeypatch):
    monkeypatch.setattr(module, function, _no_network)
    with pytest.raises(DataUnavailableError) as info:
        verify_source(source, tmp_path, download=True)
    message = str(info.value)
    assert "the download failed" in message and "no network in tests" in message
    assert "check this machine's internet access" in message


def test_a_source_without_files_has_nothing_to_verify(tmp_path):
    with pytest.raises(ValueError, match="sources with files: cifar10, mnist, fashion_mnist, kmnist, cifar100, svhn"):
        verify_source("digits", tmp_path, download=False)


# The config checks, before any job: classes the source lacks, more images than two classes hold.


def _problems(entry: dict) -> list[str]:
    deep = copy.deepcopy(CONFIG["deep"])
    deep["datasets"]["probe"] = entry
    return dataset_problems(deep, "probe")


def test_a_cifar100_class_beyond_99_is_refused():
    (problem,) = _problems({"source": "cifar100", "classes": [3, 150], "pool": 4, "n_train": 1000, "n_test": 200})
    assert problem == (
        "config key 'deep.datasets.probe.classes' = [3, 150]: class 150 does not occur in source cifar100; "
        "its labels: 0..99"
    )


def test_cifar100_and_fashion_mnist_sizes_are_checked_per_class():
    # 500 train and 100 test images per CIFAR-100 class; 6,000 / 1,000 per Fashion-MNIST class.
    assert _problems({"source": "cifar100", "classes": [3, 97], "pool": 4, "n_train": 1000, "n_test": 200}) == []
    (problem,) = _problems({"source": "cifar100", "classes": [3, 97], "pool": 4, "n_train": 1000, "n_test": 201})
    assert "the test split of cifar100 has 200 images of classes 3 and 97, but n_test = 201" in problem
    (problem,) = _problems({"source": "fashion_mnist", "classes": [0, 9], "pool": 4, "n_train": 12_001, "n_test": 10})
    assert "the train split of fashion_mnist has 12000 images of classes 0 and 9, but n_train = 12001" in problem


def test_asking_svhn_for_more_images_than_its_classes_hold_is_refused():
    # SVHN: 4,948 train zeros and 13,861 train ones; 1,744 and 5,099 test.
    entry = {"source": "svhn", "classes": [0, 1], "pool": 4, "n_train": 20_000, "n_test": 7000}
    train, test = _problems(entry)
    assert train == (
        "config key 'deep.datasets.probe': the train split of svhn has 18809 images of classes 0 and 1, but "
        "n_train = 20000 (from 'deep.datasets.probe.n_train'); lower it to at most 18809"
    )
    assert "the test split of svhn has 6843 images of classes 0 and 1, but n_test = 7000" in test
    assert _problems({**entry, "n_train": 18_809, "n_test": 6843}) == []


def test_k_class_data_sets_are_checked_per_class_against_their_share_of_each_split():
    # All 100 CIFAR-100 classes: 500 / 100 each, so 50,000 / 10,000 take every image; one more test
    # image is a 101st of class 0 (the first n mod k classes take one more).
    entry = {"source": "cifar100", "classes": list(range(100)), "pool": 4, "n_train": 50_000, "n_test": 10_000}
    assert _problems(entry) == []
    assert _problems({**entry, "n_test": 10_001}) == [
        "config key 'deep.datasets.probe': class 0 of the test split of cifar100 holds 100 images, but a "
        "class-balanced draw of n_test = 10001 images over 100 classes takes 101 of it; lower n_test (now from "
        "'deep.datasets.probe.n_test') so that each class's share is at most 100"
    ]
    # SVHN's ten digits: the nines are fewest in both splits (4,659 train, 1,595 test).
    train, test = _problems(
        {"source": "svhn", "classes": list(range(10)), "pool": 4, "n_train": 46_600, "n_test": 16_000}
    )
    assert train == (
        "config key 'deep.datasets.probe': class 9 of the train split of svhn holds 4659 images, but a "
        "class-balanced draw of n_train = 46600 images over 10 classes takes 4660 of it; lower n_train (now from "
        "'deep.datasets.probe.n_train') so that each class's share is at most 4659"
    )
    assert test.startswith("config key 'deep.datasets.probe': class 9 of the test split of svhn holds 1595 images")
    assert "n_test = 16000 images over 10 classes takes 1600 of it" in test


def test_the_whole_config_check_refuses_a_missing_cifar100_class():
    config = copy.deepcopy(CONFIG)
    config["deep"]["datasets"]["probe"] = {"source": "cifar100", "classes": [3, 150], "pool": 4}
    with pytest.raises(ConfigError, match=r"'deep.datasets.probe.classes' = \[3, 150\]: class 150 does not occur"):
        check_config(config, SCHEMA)
