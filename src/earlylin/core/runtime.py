"""What every rule's script does first: threads, logging, the corrupt-input hook, and the
job's params, wildcards and config-only options as the script reads them.

torch is not imported here: a script that trains imports it through the package before it
starts, and ``start_script`` then binds torch's threads to the rule's; a script that only
reads tables and draws (figures, the scorecard) never pays for importing torch.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from .tables import CorruptInputError


def start_script(snakemake: Any) -> logging.Logger:
    """Set torch's threads to the rule's ``threads`` (when the script uses torch); send logs
    and progress to its log.

    Several jobs run side by side under ``--cores``; a job that uses more threads than
    Snakemake granted it slows every other job down, so the rule's count is binding.
    """
    torch = sys.modules.get("torch")  # imported by the package modules the script uses, if any
    if torch is not None:
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
    # torch.func's forward mode scripts a decomposition of its own the first time it runs,
    # and torch warns that scripting is deprecated: nothing the user's module or the
    # workflow does, so the job's log leaves it out.
    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    logger = logging.getLogger(f"earlylin.{snakemake.rule}")
    logger.info(
        "rule %s, wildcards %s, threads %d; earlylin from %s",
        snakemake.rule,
        dict(snakemake.wildcards),
        snakemake.threads,
        os.path.dirname(os.path.dirname(__file__)),
    )
    return logger


def _set_corrupt_input_aside(previous: Any) -> Any:
    """An excepthook for rule scripts: when a job dies on a corrupt input (a truncated or
    damaged intermediate, ``tables.CorruptInputError``), the file is renamed to
    ``<name>.corrupt`` before the error is reported. Snakemake then sees the input missing
    and the next run regenerates it with the rule that made it, instead of failing on the
    same file forever; the damaged copy stays for inspection."""

    def hook(kind: type[BaseException], error: BaseException, traceback: Any) -> None:
        if isinstance(error, CorruptInputError) and os.path.exists(error.path):
            aside = error.path + ".corrupt"
            os.replace(error.path, aside)
            # One instruction, not two: the file is gone already, so the error's own advice
            # to delete it gives way to what the next run does.
            error.args = (
                f"cannot read {error.kind} file {error.path} ({error.reason}): it is truncated or damaged. "
                f"It was moved aside to {aside}; run snakemake again and it regenerates the file with the "
                f"rule that makes it",
            )
            logging.getLogger("earlylin").error(error.args[0])
        previous(kind, error, traceback)

    return hook


def run_options(snakemake: Any, section: str) -> dict[str, Any]:
    """How a two-layer training job runs, from the config rather than from the rule's job
    (changing them reruns nothing): the device, and the rows per fused GD chunk of the
    config section ``section``."""
    return {"device": snakemake.config["device"], "chunk_rows": snakemake.config[section].get("chunk_rows")}


def wildcard_columns(snakemake: Any) -> dict[str, Any]:
    """The job's wildcards as table columns (digit strings, e.g. d and seed, as ints)."""
    return {k: int(v) if str(v).isdigit() else str(v) for k, v in dict(snakemake.wildcards).items()}


def job(snakemake: Any) -> dict[str, Any]:
    """The rule's job: its one param, a plain dict."""
    return dict(snakemake.params.job)


def table_meta(snakemake: Any) -> dict[str, Any]:
    """What produced a table: the rule's job and wildcards (stored with it)."""
    return dict(job=job(snakemake), **wildcard_columns(snakemake))


def checkpoint_path(outputs: Any) -> str:
    """Where a training job keeps its checkpoint: beside its outputs, named by their common
    prefix ('<folder>/fc_seed0_losses.parquet', ... -> '<folder>/fc_seed0.checkpoint.pt')."""
    prefix = os.path.commonprefix([str(path) for path in outputs])
    return prefix.rstrip("_") + ".checkpoint.pt"
