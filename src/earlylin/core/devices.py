"""Where and in which precision the training code runs: the device (``device: auto`` picks
CUDA when present), the dtype of a config name, and the CUDA numerics of a training run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DTYPES = ("float32", "float64")


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config key device = 'cuda' but no CUDA device is visible; use 'auto' or 'cpu'")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"config key device = {name!r}; allowed values: auto, cpu, cuda")
    return torch.device(name)


def resolve_dtype(name: str | torch.dtype) -> torch.dtype:
    """The torch dtype of a config name ('float32', 'float64'); a torch dtype is returned as is."""
    if isinstance(name, torch.dtype):
        return name
    if name not in DTYPES:
        raise ValueError(f"dtype {name!r}; allowed values: {', '.join(DTYPES)}")
    return getattr(torch, name)


@contextlib.contextmanager
def cuda_numerics(allow_tf32: bool) -> Iterator[None]:
    """CUDA settings of a training run inside, the previous ones restored after.

    TF32 (Ampere and later GPUs) rounds the inputs of float32 matmuls and convolutions to
    10-bit mantissas, relative errors ~1e-3 that would blur the small early gaps between a
    network and its linear model (Figure 3c), so it is off unless ``allow_tf32``
    (``torch.backends.cuda.matmul.allow_tf32`` and ``torch.backends.cudnn.allow_tf32``; the
    latter is on in torch by default). cuDNN autotuning (``cudnn.benchmark``) is on: the
    shapes of an SGD run never change, so the fastest convolution algorithm is picked once.
    Neither setting changes anything on the CPU.
    """
    flags = (
        (torch.backends.cuda.matmul, "allow_tf32"),
        (torch.backends.cudnn, "allow_tf32"),
        (torch.backends.cudnn, "benchmark"),
    )
    saved = [getattr(owner, name) for owner, name in flags]
    for (owner, name), value in zip(flags, (allow_tf32, allow_tf32, True)):
        setattr(owner, name, value)
    try:
        yield
    finally:
        for (owner, name), value in zip(flags, saved):
            setattr(owner, name, value)
