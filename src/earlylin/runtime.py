"""What every rule's script does first (threads, logging), and the device settings of the
training code (which device, CUDA numerics).

torch is imported inside the functions that need it: the workflow imports this module
when it parses the Snakefile, which must stay fast.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def start_script(snakemake: Any) -> logging.Logger:
    """Set torch's threads to the rule's ``threads``; send logs and progress to its log.

    Several jobs run side by side under ``--cores``; a job that uses more threads than
    Snakemake granted it slows every other job down, so the rule's count is binding.
    """
    import torch

    torch.set_num_threads(max(1, int(snakemake.threads)))
    package_logger = logging.getLogger("earlylin")  # the package's modules log here too
    package_logger.setLevel(logging.INFO)
    log_files = list(snakemake.log)
    if log_files:
        stream = open(log_files[0], "w", buffering=1, encoding="utf-8")
        sys.stderr = stream  # tqdm progress bars and warnings land in the rule's log
    else:
        stream = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    package_logger.handlers[:] = [handler]
    sys.excepthook = _set_corrupt_input_aside(sys.excepthook)
    logger = logging.getLogger(f"earlylin.{snakemake.rule}")
    logger.info(
        "rule %s, wildcards %s, threads %d; earlylin from %s",
        snakemake.rule,
        dict(snakemake.wildcards),
        snakemake.threads,
        os.path.dirname(__file__),
    )
    return logger


def _set_corrupt_input_aside(previous: Any) -> Any:
    """An excepthook for rule scripts: when a job dies on a corrupt input (a truncated or
    damaged intermediate, ``tables.CorruptInputError``), the file is renamed to
    ``<name>.corrupt`` before the error is reported. Snakemake then sees the input missing
    and the next run regenerates it with the rule that made it, instead of failing on the
    same file forever; the damaged copy stays for inspection."""

    def hook(kind: type[BaseException], error: BaseException, traceback: Any) -> None:
        from .tables import CorruptInputError

        if isinstance(error, CorruptInputError) and os.path.exists(error.path):
            aside = error.path + ".corrupt"
            os.replace(error.path, aside)
            note = (
                f"{error.path} was moved aside to {aside}; run snakemake again and it "
                f"regenerates the file with the rule that makes it"
            )
            error.add_note(note)
            logging.getLogger("earlylin").error(note)
        previous(kind, error, traceback)

    return hook


def run_options(snakemake: Any, section: str) -> dict[str, Any]:
    """How a two-layer training job runs, from the config rather than from rule params
    (changing them reruns nothing): the device, and the rows per fused GD chunk of the
    config section ``section``."""
    return {"device": snakemake.config["device"], "chunk_rows": snakemake.config[section].get("chunk_rows")}


def wildcard_columns(snakemake: Any) -> dict[str, Any]:
    """The job's wildcards as table columns (digit strings, e.g. d and seed, as ints)."""
    return {k: int(v) if str(v).isdigit() else str(v) for k, v in dict(snakemake.wildcards).items()}


def rule_params(snakemake: Any) -> dict[str, Any]:
    """The job's params by name, without ``named`` (their record for Snakemake's rerun
    check, see ``named_params`` in workflow/rules/common.smk)."""
    return {key: value for key, value in snakemake.params.items() if key != "named"}


def table_meta(snakemake: Any) -> dict[str, Any]:
    """What produced a table: the rule's params and wildcards (stored with it)."""
    return dict(rule_params(snakemake), **wildcard_columns(snakemake))


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
    import torch

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


def export_source_path(src: str) -> None:
    """Put ``src`` first on PYTHONPATH, which local jobs inherit and sbatch exports."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))


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


DTYPES = ("float32", "float64")


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cuda' without a GPU is an error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config key device = 'cuda' but no CUDA device is visible; use 'auto' or 'cpu'")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"config key device = {name!r}; allowed values: auto, cpu, cuda")
    return torch.device(name)


def resolve_dtype(name: str) -> torch.dtype:
    """The torch dtype of a config name ('float32', 'float64')."""
    import torch

    if name not in DTYPES:
        raise ValueError(f"dtype {name!r}; allowed values: {', '.join(DTYPES)}")
    return getattr(torch, name)
