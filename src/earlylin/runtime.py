"""What every rule's script does first: threads, logging, device."""

from __future__ import annotations

import logging
import sys
from typing import Any

import torch


def start_script(snakemake: Any) -> logging.Logger:
    """Set torch's threads to the rule's ``threads``; send logs and progress to its log.

    Several jobs run side by side under ``--cores``; a job that uses more threads than
    Snakemake granted it slows every other job down, so the rule's count is binding.
    """
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
    logger = logging.getLogger(f"earlylin.{snakemake.rule}")
    logger.info("rule %s, wildcards %s, threads %d", snakemake.rule, dict(snakemake.wildcards), snakemake.threads)
    return logger


def wildcard_columns(snakemake: Any) -> dict[str, Any]:
    """The job's wildcards as table columns (digit strings, e.g. d and seed, as ints)."""
    return {k: int(v) if str(v).isdigit() else str(v) for k, v in dict(snakemake.wildcards).items()}


def table_meta(snakemake: Any) -> dict[str, Any]:
    """What produced a table: the rule's params and wildcards (stored with it)."""
    return dict(snakemake.params.items(), **wildcard_columns(snakemake))
