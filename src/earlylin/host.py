"""What the workflow asks of this machine and process while it parses the Snakefile,
without importing torch: whether a GPU is visible, and the search path its jobs inherit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, decided without importing torch:
    CUDA_VISIBLE_DEVICES does not hide every device, and the driver lists a GPU
    (/proc/driver/nvidia/gpus on Linux) or nvidia-smi is installed (e.g. under WSL)."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return False
    gpus = Path("/proc/driver/nvidia/gpus")
    if gpus.is_dir() and any(gpus.iterdir()):
        return True
    return shutil.which("nvidia-smi") is not None


def export_source_path(src: str) -> None:
    """Put ``src`` first on PYTHONPATH, which local jobs inherit and sbatch exports."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))


def training_on_gpu(device: str) -> bool:
    """Whether training jobs run on CUDA (config key ``device``: 'cuda', or 'auto' with a GPU
    visible), decided without importing torch."""
    return device == "cuda" or (device == "auto" and gpu_visible())
