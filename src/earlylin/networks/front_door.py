"""The front door: every network enters the engine once, through ``admit``, before any cost
probe, kernel or training. It checks the module on a float64 copy and says what is wrong in
the user's terms (the model's name, its config key, the real cause and the fix), in this
order:

1. a TorchScript module (``torch.jit.script`` / ``trace``): ``torch.func`` cannot transform it;
2. the module fails on a batch of the data set's inputs;
3. its output is not one tensor (a tuple, a dict);
4. its output is not one value per input: shape (batch,) or (batch, 1) are accepted, and
   (batch, 1) is read as (batch,) everywhere after (``registry.FlatOutput``); for a job of k
   outputs per input (k classes; ``core.losses.output_count``), exactly (batch, k);
5. its outputs at initialisation are not all finite;
6. its outputs are random: two evaluations of the same batch differ (Dropout in training
   mode), which is not the same as depending on the batch;
7. an input's output depends on the rest of its batch (BatchNorm in training mode): the
   batch's outputs against the same inputs one by one;
8. ``torch.func`` cannot transform it (per-example gradients by ``vmap`` over ``grad``): an
   ``autograd.Function`` without ``setup_context``, ``.item()`` in ``forward``, Python control
   flow on a tensor's value;
9. when its linearised network is trained: an operation without forward-mode derivatives
   (``jvp``; PyTorch's fused attention on the CPU, say), with the key that turns it off.

An error the module raises later, in any stage on any device, is named by
``registry.ModelSpec.stage``.
"""

from __future__ import annotations

import copy
import traceback
from pathlib import Path

import torch
from torch import nn

from .registry import FlatOutput, ModelError, ModelSpec

Tensor = torch.Tensor

# Relative difference between two evaluations above which outputs differ (float64: rounding
# is ~1e-15).
_TOLERANCE = 1e-8
# Inputs the transform check differentiates per example.
_TRANSFORM_ROWS = 2

_BATCH_FIX = (
    "Remove statistics over the batch (a mean over the batch dimension, a normalisation layer in training mode; "
    "a BatchNorm is frozen or replaced by the network's batch_norm key): the NTK and the linear model need the "
    "output of one input alone"
)
_RANDOM_FIX = (
    "Remove the randomness (Dropout, stochastic depth, noise layers) or put those layers in eval mode in the "
    "factory: the NTK, the linearised network and the linear model need a deterministic function of the parameters"
)
# What torch.func says -> (the cause in the user's terms, the fix). vmap words .item() and a
# Python branch on a tensor's value alike; the line of the module that did it tells them apart.
_TRANSFORM_CAUSES = (
    (
        "setup_context",
        "it uses a torch.autograd.Function without a setup_context staticmethod",
        "Give the Function a setup_context staticmethod (forward without ctx) and generate_vmap_rule = True, as "
        "PyTorch's page 'Extending torch.func with autograd.Function' shows, or write the operation in plain torch",
    ),
    (
        "calling .item() on a Tensor",
        "its forward turns a tensor into a Python value: .item(), float(tensor), or an if/while on a tensor's value",
        "Keep values as tensors in forward: x.sum() instead of x.sum().item(), torch.where(condition, a, b) "
        "instead of an if on a tensor",
    ),
)


def _outputs(spec: ModelSpec, model: nn.Module, x: Tensor, outputs: int = 1, why: str = "") -> tuple[Tensor, bool]:
    """The module's outputs on ``x`` as a vector (batch,), and whether they came as (batch, 1);
    for ``outputs`` = k > 1, as (batch, k) (``why``: where k comes from, for the message)."""
    out = model(x)
    if isinstance(out, (tuple, list, dict)):
        kind = type(out).__name__
        raise spec.problem(
            f"the module returns a {kind} of {len(out)} entries, not one tensor",
            "Return one tensor of shape (batch,) or (batch, 1): the output to train (e.g. the first entry)",
        )
    if not isinstance(out, Tensor):
        raise spec.problem(
            f"the module returns a {type(out).__name__}, not a tensor", "Return one tensor of shape (batch,)"
        )
    if outputs > 1:
        if out.shape != (x.shape[0], outputs):
            raise spec.problem(
                f"the module returns outputs of shape {tuple(out.shape)} for a batch of {x.shape[0]} inputs, but the "
                f"job needs {outputs} outputs per input" + (f" ({why})" if why else ""),
                f"Return shape (batch, {outputs}): a readout nn.Linear(features, {outputs}); a built-in network "
                f"takes outputs: {outputs} in its kwargs, a torchvision model num_classes: {outputs}",
            )
        return out, False
    flat = out.ndim == 2 and out.shape[1] == 1
    if flat:
        out = out[:, 0]
    if out.shape != (x.shape[0],):
        raise spec.problem(
            f"the module returns outputs of shape {tuple(out.shape)} for a batch of {x.shape[0]} inputs, "
            f"not one output per input{f' ({why})' if why else ''}",
            "Return one scalar per input, shape (batch,) or (batch, 1) (e.g. a readout nn.Linear(features, 1))",
        )
    return out, flat


def _gap(a: Tensor, b: Tensor) -> float:
    return float((a - b).abs().max() / a.abs().max().clamp_min(1e-300))


def _user_line(error: Exception) -> str:
    """' (<file>, line <n>: <code>)': the innermost line of the user's code the error passed
    through (not torch's, not this package's); '' when there is none."""
    package = Path(__file__).resolve().parents[1]
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if "torch" in path.parts or package in path.resolve().parents or frame.filename.startswith("<"):
            continue
        return f" ({path.name}, line {frame.lineno}: {(frame.line or '').strip()})"
    return ""


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no message'}"


def _check_transforms(
    spec: ModelSpec, model: nn.Module, x: Tensor, linearise_key: str | None, outputs: int = 1
) -> None:
    """Per-example gradients by vmap over grad (as the NTK takes them; of the sum of an input's
    outputs when it has k) and, when the linearised network is trained (``linearise_key``: its
    config key), one jvp (forward mode) on a few inputs."""
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}

    def output(p: dict[str, Tensor], row: Tensor) -> Tensor:
        value = torch.func.functional_call(model, p, (row.unsqueeze(0),))
        return value.reshape(()) if outputs == 1 else value.sum()

    try:
        torch.func.vmap(torch.func.grad(output), in_dims=(None, 0))(params, x[:_TRANSFORM_ROWS])
    except Exception as error:
        text = str(error)
        for marker, cause, fix in _TRANSFORM_CAUSES:
            if marker.lower() in text.lower():
                raise spec.problem(
                    f"torch.func cannot differentiate it per example: {cause}{_user_line(error)}", fix
                ) from error
        raise spec.problem(
            f"torch.func cannot differentiate it per example ({_first_line(error)})",
            "The NTK and the linearised network differentiate the module with torch.func (vmap, grad, jvp); "
            "make its forward a function of its inputs and parameters in plain torch operations",
        ) from error
    if linearise_key is None:
        return
    tangents = {name: torch.ones_like(p) for name, p in params.items()}
    try:
        torch.func.jvp(lambda p: torch.func.functional_call(model, p, (x[:1],)), (params,), (tangents,))
    except Exception as error:
        raise spec.problem(
            "its linearised network needs forward-mode derivatives (torch.func.jvp), which an operation of its "
            f"forward does not have ({_first_line(error)})",
            f"Set {linearise_key}: false to train it without its linearised network, or use an operation with "
            "forward-mode support (e.g. attention written as softmax(q k^T) v)",
        ) from error


def admit(
    spec: ModelSpec,
    model: nn.Module,
    x: Tensor,
    linearise_key: str | None = "linearise",
    outputs: int = 1,
    why: str = "",
) -> bool:
    """Check ``model`` on the batch ``x`` (see the module docstring) before any other use;
    ModelError naming the cause and the fix. Returns whether its outputs come as (batch, 1)
    (then ``registry.build_model(..., flat_output=True)`` gives the engine's shape).
    ``linearise_key``: the config key that trains the linearised network (it needs ``jvp``),
    None when it is not trained. ``outputs``: the outputs per input the job trains (k for k
    classes), ``why`` where that number comes from (named in the message)."""
    if isinstance(model, torch.jit.ScriptModule):
        raise spec.problem(
            "it is a TorchScript module (torch.jit.script or trace), which torch.func cannot differentiate per example",
            "Return the plain nn.Module from the factory (do not script or trace it)",
        )
    probe = copy.deepcopy(model).to(torch.float64)
    x = x.detach().to("cpu", torch.float64)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        try:
            together, flat = _outputs(spec, probe, x, outputs, why)
            again, _ = _outputs(spec, probe, x, outputs, why)
        except ModelError:
            raise
        except Exception as error:
            raise spec.problem(
                f"the module raised {type(error).__name__} on a batch of inputs of shape {tuple(x.shape)}: {error}",
                "Make it accept a batch of inputs of the data set's shape",
            ) from error
        if not torch.isfinite(together).all():
            raise spec.problem("the module's outputs at initialisation are not all finite", "Check its initialisation")
        if _gap(together, again) > _TOLERANCE:
            raise spec.problem(
                f"its outputs are random: two evaluations of the same batch differ (relative difference "
                f"{_gap(together, again):.2e}), e.g. Dropout in training mode",
                _RANDOM_FIX,
            )
        try:
            alone = torch.cat([_outputs(spec, probe, x[i : i + 1], outputs, why)[0] for i in range(x.shape[0])])
        except ModelError:
            raise
        except Exception as error:
            raise spec.problem(
                f"an input's output depends on the rest of its batch (one input alone raised "
                f"{type(error).__name__}: {error})",
                _BATCH_FIX,
            ) from error
    if _gap(together, alone) > _TOLERANCE:
        raise spec.problem(
            f"an input's output depends on the rest of its batch (relative difference {_gap(together, alone):.2e} "
            "between a batch and its inputs one by one)",
            _BATCH_FIX,
        )
    _check_transforms(spec, FlatOutput(probe) if flat else probe, x, linearise_key, outputs)
    return flat
