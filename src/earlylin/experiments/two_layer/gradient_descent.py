"""Full-batch gradient descent of the two-layer network (eq. 4) with logged steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from ...core.activations import Activation
from .networks import TwoLayerParams, two_layer_loss_and_gradients, two_layer_output


@dataclass
class TrainingRecord:
    """What a run logs at each logged step: train loss and every test output."""

    steps: np.ndarray  # (T,)
    train_loss: np.ndarray  # (T,)  (1/2n) sum (f - y)^2 on the training set
    test_outputs: np.ndarray  # (T, n_test)


def train_two_layer_gd(
    params: TwoLayerParams,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    activation: Activation,
    lr_first: float,
    lr_second: float,
    steps: Sequence[int],
    chunk_rows: int | None = None,
    progress: bool = True,
) -> TrainingRecord:
    """Run GD W <- W - eta1 dL/dW, v <- v - eta2 dL/dv up to max(steps), in place.

    At every step in ``steps`` (before that step's update) the training loss and the
    outputs on X_test are recorded. Raises FloatingPointError if the loss diverges.
    """
    steps = np.asarray(sorted(set(int(s) for s in steps)), dtype=np.int64)
    wanted = {int(s): i for i, s in enumerate(steps)}
    last = int(steps[-1])
    train_loss = np.empty(len(steps))
    test_outputs = np.empty((len(steps), X_test.shape[0]))
    bar = tqdm(total=last, disable=not progress, mininterval=2.0, unit="step", desc="GD")
    with torch.no_grad():
        for t in range(last + 1):
            i = wanted.get(t)
            if i is not None:
                test_outputs[i] = two_layer_output(params, X_test, activation, chunk_rows).double().cpu().numpy()
            loss, grad_W, grad_v = two_layer_loss_and_gradients(
                params,
                X_train,
                y_train,
                activation,
                chunk_rows,
                first=bool(lr_first),
                second=bool(lr_second),
            )
            if i is not None:
                train_loss[i] = float(loss)
                if not np.isfinite(train_loss[i]):
                    raise FloatingPointError(
                        f"training loss became {train_loss[i]} at step {t}: the learning rate is too large"
                    )
            if t == last:
                break
            if lr_first:
                params.W.sub_(grad_W, alpha=lr_first)
            if lr_second:
                params.v.sub_(grad_v, alpha=lr_second)
            bar.update(1)
    bar.close()
    return TrainingRecord(steps=steps, train_loss=train_loss, test_outputs=test_outputs)
