"""Every random draw of the workflow comes from ``rng_stream(seed, purpose, *keys)``: one seed
from the config, a named purpose and the values that vary (e.g. d), so changing one setting
never changes the draws of another."""

from __future__ import annotations

import zlib

import numpy as np


def rng_stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """Independent numpy generator for (seed, purpose, keys); stable across runs."""
    tag = zlib.crc32(purpose.encode())
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag, *map(int, keys)]))
