"""The record every data set of the workflow is written as: inputs as rows, labels, and the
image shape that unflattens the rows (``.npz`` files, no pickle)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.tables import atomic_path, read_npz


@dataclass(frozen=True)
class Dataset:
    """Inputs as rows (n x d) and labels; ``image_shape`` (channels, height, width) when
    the rows are flattened images, so that convolutional networks can unflatten them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int, int] | None = None

    @property
    def input_dim(self) -> int:
        return self.X_train.shape[1]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input as a network sees it: the image shape, else (d,)."""
        return tuple(self.image_shape) if self.image_shape is not None else (self.input_dim,)

    def save(self, path: str) -> None:
        """Write as .npz (no pickle); atomically, so a failed job leaves no file, with the
        mode a plain ``open`` gives (0o666 less the umask)."""
        extra = {} if self.image_shape is None else {"image_shape": np.asarray(self.image_shape, dtype=np.int64)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh, X_train=self.X_train, y_train=self.y_train, X_test=self.X_test, y_test=self.y_test, **extra
                )

    @classmethod
    def load(cls, path: str) -> Dataset:
        """Read a file written by ``save``. Raises FileNotFoundError for a missing file and
        CorruptInputError (naming the file and the ``rm`` that lets snakemake regenerate
        it) for a truncated or damaged one."""
        z = read_npz(path, required=("X_train", "y_train", "X_test", "y_test"))
        shape = tuple(int(s) for s in z["image_shape"]) if "image_shape" in z else None
        return cls(z["X_train"], z["y_train"], z["X_test"], z["y_test"], shape)
