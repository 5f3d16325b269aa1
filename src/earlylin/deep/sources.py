"""The image sources of Figures 3 and 4 and what the workflow knows of them before reading
any file: their names, which are downloaded, their image shapes and class sizes. Light (no
numpy): the Snakefile reads it while it parses."""

IMAGE_SOURCES = ("cifar10", "mnist", "mnist_subset", "digits")
DOWNLOADED_SOURCES = ("cifar10", "mnist")
# Images per class of a bundled source whose classes all have the same size: two classes
# of the MNIST subset hold 1,000 images for train and test together.
BUNDLED_CLASS_SIZES = {"mnist_subset": 500}
# Image shape (C, H, W) of each source before pooling.
SOURCE_SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28), "mnist_subset": (1, 28, 28), "digits": (1, 8, 8)}
