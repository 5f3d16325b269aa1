"""Hand-made tables of the horizon sweep, for the tests of its fits and of its figure."""

import math

import numpy as np
import pandas as pd


def hand_made_horizons(slopes, noise=0.0, lr=(1.0, 2.0)):
    """horizons rows with eta T_agree = 3 (d log d)^slope[seed] exactly (train) and
    eta T_lin = 0.8 d log d; test never reached."""
    rng = np.random.default_rng(0)
    rows = []
    for seed, slope in enumerate(slopes):
        for eta in lr:
            for d in (8, 16, 32, 64, 128):
                x = d * math.log(d)
                t_lin = 0.8 * x / eta
                for split in ("train", "test"):
                    reached = split == "train"
                    horizon = 3 * x**slope * math.exp(noise * rng.standard_normal()) / eta if reached else np.nan
                    rows.append(
                        dict(
                            activation="erf",
                            lr=eta,
                            d=d,
                            seed=seed,
                            split=split,
                            threshold=0.1,
                            horizon=horizon,
                            reached=reached,
                            floor_limited=False,
                            t_lin=t_lin,
                        )
                    )
    return pd.DataFrame(rows)
