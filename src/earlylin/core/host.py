"""What the workflow asks of this machine and of its own process, without importing torch:
whether a GPU is visible, the search path its jobs inherit, and how a signal ends a run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

import psutil


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


def end_run_on_signals() -> None:
    """Make SIGTERM and SIGINT end a Snakemake run within seconds, in the process that runs
    the Snakefile (main thread only).

    Snakemake alone waits for every running job on SIGTERM ("will exit after finishing
    currently running jobs"), which for a deep training job of hours is a run that does not
    end; and a SIGINT sent to Snakemake's process alone (not to its process group, as
    Ctrl-C is) reaches no job either. Here both signals are passed on to every process the
    run started (a deep training job then checkpoints at its next step boundary and stops;
    the others stop at once) and then end the run as Ctrl-C does: Snakemake cancels what
    remains (``scancel`` on a cluster), removes the outputs of unfinished jobs and releases
    its lock, and the next run resumes. Call it while the Snakefile parses and again at
    ``onstart``: Snakemake installs its own SIGTERM handler between the two."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, _frame: Any) -> None:
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.send_signal(signum)
        raise KeyboardInterrupt(f"{signal.Signals(signum).name} received: ending the run")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
