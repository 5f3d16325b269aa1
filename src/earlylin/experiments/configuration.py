"""The config as the workflow checks it, before any job: the schema (``core.config``) and then
every experiment's checks across keys; the paper's own config (``config/config.yaml``), which
each run's size is measured against (``run_size``)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import yaml

from ..core.config import validate_config
from . import any_classes, any_data, any_network, deep, kernel_fit_norms, width_sweep


def cross_key_problems(config: Mapping[str, Any]) -> list[str]:
    """Every experiment's checks across keys (each a sentence naming the key, the value and the fix)."""
    return (
        deep.config_problems(config)
        + any_network.config_problems(config)
        + any_data.config_problems(config)
        + any_classes.config_problems(config)
        + kernel_fit_norms.config_problems(config)
        + width_sweep.config_problems(config)
    )


def check_config(config: MutableMapping[str, Any], schema: str | Path) -> None:
    """Coerce, fill defaults and validate ``config`` in place; ``core.config.ConfigError``
    naming every problem."""
    validate_config(config, schema, cross_key_problems)


def paper_config(path: str | Path, schema: str | Path) -> dict[str, Any]:
    """The paper's settings (config/config.yaml, defaults filled in and checked)."""
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    check_config(config, schema)
    return config
