"""The downloaded image sources (``sources.DOWNLOADED_SOURCES``), read from disk by
torchvision's own classes, which verify the md5 checksums they know and download only when
asked: CIFAR-10 and MNIST (the paper's), and beyond the paper Fashion-MNIST, Kuzushiji-MNIST,
CIFAR-100 (100 classes) and SVHN (house-number digits, 32x32x3). A source's entry in
``sources.SOURCES`` names its torchvision class and one of the three file ``LAYOUTS`` here
(CIFAR's pickled batches, the idx files of the MNIST family, SVHN's .mat files), which say how
the class is called, how its arrays are laid out, which files it reads and where to get them.
Files that are missing or corrupt and not replaced raise ``DataUnavailableError`` naming the
folder, every expected file, what is wrong with each and where to get them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .sources import DOWNLOADED_SOURCES, SOURCES, Source

Split = tuple[np.ndarray, np.ndarray]
"""Images (N, C, H, W) and their labels (N,)."""


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
    how_to_get: Callable[[Source, Any, Path], str]  # (source, cls, folder) -> where to get them
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


LAYOUTS: dict[str, _Layout] = {}
LAYOUTS["cifar"] = _Layout(
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
LAYOUTS["idx"] = _Layout(
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
LAYOUTS["svhn"] = _Layout(
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


def load_torchvision_source(name: str, root: str | os.PathLike[str], train: bool, download: bool = False) -> Split:
    """Train or test split of the downloaded source ``name`` (``sources.SOURCES``),
    read from ``root`` by torchvision's own class: uint8 images (N, C, H, W) and int64
    labels (CIFAR-100: its 100 fine labels; SVHN: digit 0 is label 0).

    torchvision checks the md5 of CIFAR-10's, CIFAR-100's and SVHN's files before reading;
    it publishes none for the unpacked idx files of MNIST, Fashion-MNIST and KMNIST, so a
    damaged one is detected when it does not parse or when image and label counts differ.
    ``download=True`` fetches missing or corrupt files (needs internet). Files that are
    missing or corrupt and not replaced raise ``DataUnavailableError`` naming the folder,
    every expected file, what is wrong with each and where to get them.
    """
    if name not in DOWNLOADED_SOURCES:
        raise ValueError(
            f"image source {name!r} is not read by torchvision; those are: {', '.join(DOWNLOADED_SOURCES)}"
        )
    source = SOURCES[name]
    import torchvision.datasets

    cls = getattr(torchvision.datasets, source.torchvision_class)
    layout = LAYOUTS[source.layout]
    try:
        return layout.arrays(cls(root, **layout.split_kwargs(train), download=download))
    except layout.errors as err:
        raise DataUnavailableError(_torchvision_unavailable_message(source, cls, root, download, err)) from err


def _torchvision_unavailable_message(
    source: Source, cls: Any, root: str | os.PathLike[str], download: bool, err: BaseException
) -> str:
    folder = LAYOUTS[source.layout].folder(cls, Path(root).resolve())
    expected = LAYOUTS[source.layout].files(cls)
    problems = [_file_problem(folder / name, md5) for name, md5 in expected]
    return _unavailable_message(
        source.title,
        folder,
        [name for name, _ in expected],
        [p for p in problems if p],
        LAYOUTS[source.layout].how_to_get(source, cls, folder),
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
