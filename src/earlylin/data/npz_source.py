"""The user's own images as a data set source (``source: npz`` in ``deep.datasets``).

An ``.npz`` file (``np.savez``) holds

* ``images``: (N, C, H, W) images, (N, H, W) one-channel images or (N, d) flat vectors
  (taken as 1 x 1 x d images: pooling must be 1, and only fully connected networks apply);
  any real dtype, uint8 grey levels or floats;
* ``labels``: (N,) integer class labels (any non-negative integers);
* optionally ``test_images`` and ``test_labels`` of the same form: a test split of its own.
  Without them the train and test images are one seeded draw from the data set's classes,
  as for the bundled sources (``images.pooled_class_split``).

The classes (two, or more), pooling and per-image normalisation are those of every source
(``images.image_dataset``). ``npz_summary`` reads what the workflow needs before any job
(the image shape and the images per class) from the file's array headers and labels only,
so that a bad file is refused, naming the key, the value and the fix, while Snakemake parses;
``load_npz_images`` reads the images themselves and refuses non-finite values.
"""

from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REQUIRED = ("images", "labels")
TEST_ARRAYS = ("test_images", "test_labels")
FORMAT = (
    "np.savez(path, images=..., labels=...) with images (N, C, H, W), (N, H, W) or (N, d) and integer "
    "labels (N,), optionally test_images / test_labels of the same form"
)


class NpzSourceError(ValueError):
    """The user's .npz file cannot be a data set; the message says why and how to fix it."""


@dataclass(frozen=True)
class NpzSummary:
    """What the workflow knows of an npz source before reading its images."""

    image_shape: tuple[int, int, int]  # (C, H, W) of one image
    counts: dict[str, dict[int, int]]  # "pooled" (no test split) or "train" and "test" -> label -> images


def _array_header(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the array ``name`` from its .npy header, without reading its data."""
    with archive.open(f"{name}.npy") as handle:
        version = np.lib.format.read_magic(handle)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(handle)
    return tuple(int(s) for s in shape), dtype


def image_shape_of(shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(C, H, W) of one image of an array of ``shape`` (N, C, H, W), (N, H, W) or (N, d); None otherwise."""
    if len(shape) == 4:
        return shape[1], shape[2], shape[3]
    if len(shape) == 3:
        return 1, shape[1], shape[2]
    if len(shape) == 2:
        return 1, 1, shape[1]
    return None


def _check_images(path: Path, name: str, shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, int, int]:
    if dtype.hasobject:
        raise NpzSourceError(
            f"'{path}': array '{name}' holds Python objects (images of different shapes?); stack images of one "
            f"shape into one numeric array: {FORMAT}"
        )
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating) or dtype == np.bool_):
        raise NpzSourceError(f"'{path}': array '{name}' has dtype {dtype}; images need a real dtype (uint8, float32)")
    image_shape = image_shape_of(shape)
    if image_shape is None or shape[0] == 0 or 0 in image_shape:
        raise NpzSourceError(
            f"'{path}': array '{name}' has shape {shape}; expected non-empty (N, C, H, W), (N, H, W) or (N, d)"
        )
    return image_shape


def _labels(path: Path, data: np.lib.npyio.NpzFile, name: str, images: int, images_name: str) -> np.ndarray:
    labels = data[name]
    if labels.ndim != 1 or len(labels) != images:
        raise NpzSourceError(
            f"'{path}': array '{name}' has shape {labels.shape}, but '{images_name}' holds {images} images; "
            f"give one label per image, shape ({images},)"
        )
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise NpzSourceError(
            f"'{path}': array '{name}' must hold non-negative integer class labels, got dtype {labels.dtype}"
            + (f" with minimum {labels.min()}" if labels.size and np.issubdtype(labels.dtype, np.number) else "")
        )
    return labels


def npz_summary(path: str | os.PathLike[str]) -> NpzSummary:
    """The image shape and the images per class of an npz source (see the module docstring);
    NpzSourceError when the file cannot be a data set. Cached per file version."""
    path = Path(path)
    if not path.is_file():
        raise NpzSourceError(
            f"the file '{path}' does not exist (looked in {path.resolve().parent}); write it with {FORMAT}"
        )
    stat = path.stat()
    return _summary(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _summary(path: Path, mtime_ns: int, size: int) -> NpzSummary:
    if not zipfile.is_zipfile(path):
        raise NpzSourceError(f"'{path}' is not an .npz file (a zip archive of .npy arrays); write it with {FORMAT}")
    with zipfile.ZipFile(path) as archive:
        names = sorted(n.removesuffix(".npy") for n in archive.namelist() if n.endswith(".npy"))
        missing = [n for n in REQUIRED if n not in names]
        if missing:
            raise NpzSourceError(
                f"'{path}' has no array {' or '.join(repr(n) for n in missing)}; it holds "
                f"{', '.join(repr(n) for n in names) or 'no arrays'}. Write it with {FORMAT}"
            )
        test_present = [n for n in TEST_ARRAYS if n in names]
        if len(test_present) == 1:
            other = next(n for n in TEST_ARRAYS if n not in names)
            raise NpzSourceError(f"'{path}' has '{test_present[0]}' but no '{other}'; give both or neither")
        image_arrays = ["images"] + (["test_images"] if test_present else [])
        headers = {n: _array_header(archive, n) for n in image_arrays}
    shapes = {n: _check_images(path, n, *header) for n, header in headers.items()}
    if len(set(shapes.values())) > 1:
        raise NpzSourceError(
            f"'{path}': 'images' are {shapes['images']} (C, H, W) but 'test_images' are {shapes['test_images']}; "
            "images of different shapes cannot form one data set"
        )
    with np.load(path, allow_pickle=False) as data:
        splits = (
            {"pooled": ("images", "labels")}
            if not test_present
            else {
                "train": ("images", "labels"),
                "test": ("test_images", "test_labels"),
            }
        )
        counts = {}
        for split, (images, labels) in splits.items():
            values, numbers = np.unique(_labels(path, data, labels, headers[images][0][0], images), return_counts=True)
            counts[split] = {int(v): int(c) for v, c in zip(values, numbers)}
    if len(counts.get("pooled", counts.get("train", {}))) < 2:
        present = sorted(counts.get("pooled", counts.get("train", {})))
        raise NpzSourceError(
            f"'{path}': the labels hold fewer than two classes ({present}); a two-class data set needs two"
        )
    return NpzSummary(image_shape=shapes["images"], counts=counts)


def load_npz_images(path: str | os.PathLike[str]) -> tuple[tuple[np.ndarray, np.ndarray], tuple | None]:
    """(images (N, C, H, W), labels) of the file and, when it has one, its test split (else
    None); NpzSourceError for a file that ``npz_summary`` refuses or that holds non-finite values."""
    summary = npz_summary(path)
    with np.load(path, allow_pickle=False) as data:
        splits = [("images", "labels")] + ([TEST_ARRAYS] if "test" in summary.counts else [])
        loaded = []
        for images_name, labels_name in splits:
            images = data[images_name]
            images = images.reshape(len(images), *summary.image_shape)
            if np.issubdtype(images.dtype, np.floating):
                bad = np.flatnonzero(~np.isfinite(images.reshape(len(images), -1)).all(axis=1))
                if bad.size:
                    raise NpzSourceError(
                        f"'{path}': {bad.size} image(s) of '{images_name}' hold non-finite values (NaN or inf; "
                        f"indices {bad[:10].tolist()}); remove or repair them"
                    )
            loaded.append((images, data[labels_name].astype(np.int64)))
    return loaded[0], (loaded[1] if len(loaded) > 1 else None)
