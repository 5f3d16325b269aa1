"""Tidy tables of one deep-network run (Figures 3 and 4): its losses (with the test loss
split onto V_lin, Figure 3a), outputs (Figure 3b) and discrepancy (Figure 3c)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import half_mse, input_span_basis, vlin_loss_parts
from ..tables import discrepancy_rows, loss_rows, output_rows
from .sgd_state import DeepSGDRecord

LOSS_PART_COLUMNS = ("model", "step", "split", "part", "metric", "value")


def loss_part_rows(
    model: str,
    steps: np.ndarray,
    train_loss: np.ndarray,
    test_outputs: np.ndarray,
    y_test: np.ndarray,
    X_test: np.ndarray,
) -> pd.DataFrame:
    """Rows (model, step, split, part, metric='loss', value) of one model (Figure 3a): part
    'total' for the train and the test loss; for the test split also 'v_lin' and
    'complement' (``metrics.vlin_loss_parts``) when d < n_test, with ``vlin_rank``, the
    dimension of V_lin as measured (the rank of the test inputs)."""

    def with_part(rows: pd.DataFrame, part: str) -> pd.DataFrame:
        return rows.assign(part=part)[list(LOSS_PART_COLUMNS)]

    frames = [
        with_part(loss_rows(model, steps, "train", train_loss), "total"),
        with_part(loss_rows(model, steps, "test", half_mse(test_outputs, y_test)), "total"),
    ]
    parts = vlin_loss_parts(test_outputs, y_test, X_test)
    if parts is not None:
        rank = input_span_basis(X_test).shape[1]  # dim V_lin: below d where pixels are constant or tied
        frames += [
            with_part(loss_rows(model, steps, "test", parts[0]), "v_lin").assign(vlin_rank=rank),
            with_part(loss_rows(model, steps, "test", parts[1]), "complement").assign(vlin_rank=rank),
        ]
    return pd.concat(frames, ignore_index=True)


def deep_sgd_tables(
    record: DeepSGDRecord, y_test: np.ndarray, X_test: np.ndarray, network_model: str, linear_model: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(losses, outputs, discrepancy) tables of one run, both models (Figure 3a, b, c)."""
    losses = pd.concat(
        [
            loss_part_rows(
                network_model, record.steps, record.network_train_loss, record.network_test_outputs, y_test, X_test
            ),
            loss_part_rows(
                linear_model, record.steps, record.linear_train_loss, record.linear_test_outputs, y_test, X_test
            ),
        ],
        ignore_index=True,
    )
    outputs = pd.concat(
        [
            output_rows(network_model, record.steps, record.network_test_outputs),
            output_rows(linear_model, record.steps, record.linear_test_outputs),
        ],
        ignore_index=True,
    )
    discrepancy = discrepancy_rows(linear_model, record.steps, record.network_test_outputs, record.linear_test_outputs)
    return losses, outputs, discrepancy
