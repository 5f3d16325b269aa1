"""fig_data's comparisons across jobs, from their tables (used by the figure and the scorecard):
the network trained on the Gaussian clone against the one trained on the real images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.metrics import relative_mse


def outputs_by_step(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(steps, outputs (steps x samples)) of one model's output rows (model, step, sample, output)."""
    table = rows.pivot(index="step", columns="sample", values="output").sort_index()
    return table.index.to_numpy(), table.to_numpy()


def clone_discrepancy(outputs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, loss, momentum, seed, model) with a clone run: the relative MSE
    E(f_real - f_clone)^2 / E f_real^2 on the real test images at every logged step between
    the model trained on the real images and the one trained on their Gaussian clone (same
    seed: same initialisation and batches). Columns dataset, loss, momentum, seed, model,
    step, value."""
    keys = ["dataset", "loss", "momentum", "seed", "model"]
    clones = outputs[outputs["inputs"] == "clone"]
    parts = []
    for key, clone in clones.groupby(keys, sort=True):
        match = np.logical_and.reduce([outputs[k] == v for k, v in zip(keys, key)])
        real = outputs[match & (outputs["inputs"] == "real")]
        if real.empty:
            continue
        steps, real_values = outputs_by_step(real)
        clone_steps, clone_values = outputs_by_step(clone)
        if not np.array_equal(steps, clone_steps):
            raise ValueError(f"real and clone runs of {dict(zip(keys, key))} logged different steps")
        parts.append(
            pd.DataFrame({**dict(zip(keys, key)), "step": steps, "value": relative_mse(real_values, clone_values)})
        )
    columns = [*keys, "step", "value"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
