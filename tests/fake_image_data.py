"""Tiny stand-ins for CIFAR-10 and MNIST, written in the files' real on-disk formats so
that torchvision's own loaders read them (no network).

CIFAR-10: ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``, each a
pickled dict; a batch holds "data", uint8 (N, 3072) rows of 1024 red, 1024 green, 1024
blue values in row-major order, and "labels", a list of ints. The real files were
pickled by Python 2, so torchvision's ``pickle.load(f, encoding="latin1")`` gives str keys
(``encoding="bytes"`` would give b"data"); str keys reproduce that. torchvision rejects
files whose md5 differs from ``CIFAR10.train_list`` / ``test_list`` / ``meta``:
``patch_cifar10_checksums`` points those at the fakes' md5, so the check still runs.

CIFAR-100: ``root/cifar-100-python/{train, test, meta}``, pickled like CIFAR-10's batches
but with "fine_labels" (0..99, the labels torchvision returns) and "coarse_labels" (0..19);
meta holds "fine_label_names" and "coarse_label_names". ``patch_cifar_checksums(...,
CIFAR100)`` points its md5 lists at the fakes.

MNIST: ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` in the idx format:
big-endian int32 magic (2051 images, 2049 labels), int32 dimensions, uint8 payload.
Fashion-MNIST and KMNIST are the same files under ``root/FashionMNIST/raw`` and
``root/KMNIST/raw`` (``write_fake_idx``).

SVHN: ``root/train_32x32.mat`` and ``root/test_32x32.mat`` (in root itself), MATLAB files
holding "X", uint8 (32, 32, 3, N) = (H, W, C, N), and "y", uint8 (N, 1) with 10 for the
digit 0 (torchvision maps it to 0); ``patch_svhn_checksums`` points ``SVHN.split_list`` at
the fakes' md5.

Pixels follow ``fake_pixels`` (a distinct coefficient per axis, so a transposed or
reordered load shows up) and labels cycle 0..9 (CIFAR-100: 0..99).
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from torchvision.datasets import CIFAR10, CIFAR100, SVHN

CIFAR10_BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10_LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# The idx sources: source name -> torchvision's folder under root (its class name).
IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}


def fake_pixels(n: int, channels: int, height: int, width: int, offset: int = 0) -> np.ndarray:
    """uint8 images (n, C, H, W) with pixel (i, c, h, w) = (11 (i + offset) + 50 c + 3 h + 7 w) mod 256."""
    i, c, h, w = np.meshgrid(
        np.arange(n) + offset, np.arange(channels), np.arange(height), np.arange(width), indexing="ij"
    )
    return ((11 * i + 50 * c + 3 * h + 7 * w) % 256).astype(np.uint8)


def fake_labels(n: int, offset: int = 0, classes: int = 10) -> np.ndarray:
    return (np.arange(n) + offset) % classes


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_pickle(path: Path, obj: dict) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def write_fake_cifar10(root: Path, per_batch: int = 10, n_test: int = 20) -> dict:
    """Write the five train batches (``per_batch`` images each), the test batch and
    batches.meta under ``root/cifar-10-batches-py``. Returns the written train and test
    images as (N, 3, 32, 32) uint8 and labels, and the md5 of every file by name."""
    folder = Path(root) / CIFAR10.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    n_train = 5 * per_batch
    train_images, train_labels = fake_pixels(n_train, 3, 32, 32), fake_labels(n_train)
    test_images, test_labels = fake_pixels(n_test, 3, 32, 32, offset=n_train), fake_labels(n_test, offset=3)
    batches = {
        name: (train_images[k * per_batch : (k + 1) * per_batch], train_labels[k * per_batch : (k + 1) * per_batch])
        for k, name in enumerate(CIFAR10_BATCH_NAMES)
    }
    batches["test_batch"] = (test_images, test_labels)
    for name, (images, labels) in batches.items():
        _write_pickle(
            folder / name,
            {
                "batch_label": name,
                "labels": [int(v) for v in labels],
                "data": images.reshape(len(images), -1),
                "filenames": [f"{name}_{i}.png" for i in range(len(images))],
            },
        )
    _write_pickle(
        folder / "batches.meta",
        {
            "num_cases_per_batch": per_batch,
            "label_names": CIFAR10_LABEL_NAMES,
            "num_vis": 3072,
        },
    )
    return {
        "train": (train_images, train_labels),
        "test": (test_images, test_labels),
        "md5": {path.name: md5_of(path) for path in folder.iterdir()},
    }


def write_fake_cifar100(root: Path, n_train: int = 250, n_test: int = 120) -> dict:
    """Write train, test and meta under ``root/cifar-100-python`` (fine labels cycle 0..99,
    so every class occurs at least twice in the default train split and once in the test
    split). Returns the written images (N, 3, 32, 32) uint8, fine labels and md5s, as
    ``write_fake_cifar10``."""
    folder = Path(root) / CIFAR100.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    splits = {
        "train": (fake_pixels(n_train, 3, 32, 32), fake_labels(n_train, classes=100)),
        "test": (fake_pixels(n_test, 3, 32, 32, offset=n_train), fake_labels(n_test, offset=41, classes=100)),
    }
    for name, (images, labels) in splits.items():
        _write_pickle(
            folder / name,
            {
                "filenames": [f"{name}_{i}.png" for i in range(len(images))],
                "batch_label": f"{name}ing batch 1 of 1",
                "fine_labels": [int(v) for v in labels],
                "coarse_labels": [int(v) // 5 for v in labels],
                "data": images.reshape(len(images), -1),
            },
        )
    _write_pickle(
        folder / "meta",
        {
            "fine_label_names": [f"fine_{k}" for k in range(100)],
            "coarse_label_names": [f"coarse_{k}" for k in range(20)],
        },
    )
    return {**splits, "md5": {path.name: md5_of(path) for path in folder.iterdir()}}


def patch_cifar_checksums(monkeypatch: pytest.MonkeyPatch, md5: dict[str, str], cls: type = CIFAR10) -> None:
    """Make torchvision's ``cls`` (CIFAR10 or CIFAR100) expect the fakes' checksums for the
    rest of the test; its md5 check still runs."""
    monkeypatch.setattr(cls, "train_list", [[name, md5[name]] for name, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[name, md5[name]] for name, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5[cls.meta["filename"]]})


def patch_cifar10_checksums(monkeypatch: pytest.MonkeyPatch, md5: dict[str, str]) -> None:
    """Make torchvision's CIFAR10 expect the fakes' checksums for the rest of the test."""
    patch_cifar_checksums(monkeypatch, md5, CIFAR10)


def _write_idx(path: Path, magic: int, array: np.ndarray) -> None:
    header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_fake_idx(root: Path, folder_name: str, n_train: int = 40, n_test: int = 20) -> dict:
    """Write the four idx files under ``root/<folder_name>/raw`` (``IDX_FOLDERS``: MNIST,
    FashionMNIST, KMNIST); returns the written train and test images as (N, 1, 28, 28)
    uint8 and labels."""
    folder = Path(root) / folder_name / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    splits = {
        "train": (fake_pixels(n_train, 1, 28, 28), fake_labels(n_train)),
        "t10k": (fake_pixels(n_test, 1, 28, 28, offset=n_train), fake_labels(n_test, offset=5)),
    }
    for prefix, (images, labels) in splits.items():
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", 2051, images[:, 0])
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", 2049, labels)
    return {"train": splits["train"], "test": splits["t10k"]}


def write_fake_mnist(root: Path, n_train: int = 40, n_test: int = 20) -> dict:
    """``write_fake_idx`` under ``root/MNIST/raw``."""
    return write_fake_idx(root, "MNIST", n_train, n_test)


def write_fake_svhn(root: Path, n_train: int = 40, n_test: int = 20) -> dict:
    """Write train_32x32.mat and test_32x32.mat in ``root`` in SVHN's layout (X (32, 32, 3, N),
    y (N, 1) with 10 for the digit 0). Returns the written images as (N, 3, 32, 32) uint8,
    the labels as torchvision gives them (0..9) and the md5 of each file."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    splits = {
        "train": (fake_pixels(n_train, 3, 32, 32), fake_labels(n_train)),
        "test": (fake_pixels(n_test, 3, 32, 32, offset=n_train), fake_labels(n_test, offset=7)),
    }
    md5 = {}
    for split, (images, labels) in splits.items():
        path = root / SVHN.split_list[split][1]
        X = np.ascontiguousarray(images.transpose(2, 3, 1, 0))  # (N, C, H, W) -> (H, W, C, N)
        y = np.where(labels == 0, 10, labels).astype(np.uint8)[:, None]
        scipy.io.savemat(path, {"X": X, "y": y})
        md5[path.name] = md5_of(path)
    return {**splits, "md5": md5}


def patch_svhn_checksums(monkeypatch: pytest.MonkeyPatch, md5: dict[str, str]) -> None:
    """Make torchvision's SVHN expect the fakes' checksums (``SVHN.split_list``) for the rest of the test."""
    patched = {
        split: [url, filename, md5.get(filename, checksum)]
        for split, (url, filename, checksum) in SVHN.split_list.items()
    }
    monkeypatch.setattr(SVHN, "split_list", patched)
