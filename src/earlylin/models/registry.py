"""A network named in the config, built from a seed and checked before any training.

A model is named by ``network``: a built-in (``fc``, ``cnn``, ``residual_cnn``,
``fc_standard``), an import path ``package.module:factory`` or a file
``path/to/file.py:factory`` (relative to the directory the workflow runs in). The factory is
called as ``factory(input_shape, generator, **kwargs)`` with the input shape without the batch
dimension ((d,) for vectors, (C, H, W) for images) and a ``torch.Generator`` seeded from the
config, and returns an ``nn.Module`` with one output per input (shape (batch,) or (batch, 1)).
It runs with torch's global seed set from the same seed and float64 as the default dtype, so
a factory that ignores the generator (``nn.Linear``'s own initialisation) is deterministic too
and one seed is one network in any training dtype. Every failure is a ``ModelError`` that
names the model, the config key and the fix.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .builtin import BUILTIN_FACTORIES

Factory = Callable[..., nn.Module]

# Relative difference between a batch's outputs and the same inputs one by one above which
# an output depends on the rest of the batch (float64 evaluation: rounding is ~1e-15).
_BATCH_TOLERANCE = 1e-8


class ModelError(ValueError):
    """A model of the config that cannot be built or used, with what to change."""


@dataclass(frozen=True)
class ModelSpec:
    """One model of the config: its ``name`` (a label), its ``network`` (built-in name,
    ``module:factory`` or ``file.py:factory``), the factory's keyword arguments and the config
    key that holds it (for messages)."""

    name: str
    network: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    key: str = "models"

    def problem(self, what: str, fix: str) -> ModelError:
        return ModelError(f"model {self.name!r} ({self.key}.network = {self.network!r}): {what}. {fix}")


def _load_file(spec: ModelSpec, file: str) -> Any:
    path = Path(file).expanduser()
    if not path.is_file():
        raise spec.problem(
            f"the file {str(path)!r} does not exist (looked in {Path.cwd()})",
            "Give the path of a Python file, relative to the workflow's directory or absolute.",
        )
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"earlylin_user_model_{digest}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise spec.problem(
            f"importing {str(path)!r} raised {type(error).__name__}: {error}", "Fix the file so that it imports."
        ) from error
    return module


def _load_module(spec: ModelSpec, name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise spec.problem(
            f"no module named {error.name!r} can be imported",
            "Install the package that holds it, put it on PYTHONPATH, or name a file as path/to/file.py:factory.",
        ) from error
    except Exception as error:
        raise spec.problem(
            f"importing {name!r} raised {type(error).__name__}: {error}", "Fix the module so that it imports."
        ) from error


def resolve_factory(spec: ModelSpec) -> Factory:
    """The factory that ``spec.network`` names."""
    if spec.network in BUILTIN_FACTORIES:
        return BUILTIN_FACTORIES[spec.network]
    where, colon, attribute = spec.network.rpartition(":")
    if not colon or not where or not attribute:
        raise spec.problem(
            "not a built-in network and not of the form module:factory or file.py:factory",
            f"Use one of {', '.join(sorted(BUILTIN_FACTORIES))}, package.module:factory or path/to/file.py:factory.",
        )
    module = _load_file(spec, where) if where.endswith(".py") else _load_module(spec, where)
    factory = getattr(module, attribute, None)
    if factory is None or not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise spec.problem(
            f"{where!r} has no callable {attribute!r}",
            f"Name one of its callables: {', '.join(found) or '(none)'}.",
        )
    return factory


@contextlib.contextmanager
def _seeded_float64(seed: int) -> Iterator[None]:
    """torch's global RNG seeded and float64 as the default dtype, both restored afterwards."""
    default = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_default_dtype(torch.float64)
        try:
            yield
        finally:
            torch.set_default_dtype(default)


def build_model(
    spec: ModelSpec, input_shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float32
) -> nn.Module:
    """The network of ``spec`` for inputs of ``input_shape``, drawn from ``seed``, in ``dtype``."""
    factory = resolve_factory(spec)
    generator = torch.Generator().manual_seed(int(seed))
    try:
        with _seeded_float64(int(seed)):
            model = factory(tuple(input_shape), generator, **dict(spec.kwargs))
    except Exception as error:
        accepted = ""
        with contextlib.suppress(TypeError, ValueError):
            accepted = f" (it accepts {inspect.signature(factory)})"
        raise spec.problem(
            f"the factory raised {type(error).__name__}: {error}",
            f"Check {spec.key}.kwargs{accepted}.",
        ) from error
    if not isinstance(model, nn.Module):
        raise spec.problem(
            f"the factory returned a {type(model).__name__}, not a torch.nn.Module", "Return an nn.Module."
        )
    if not any(p.requires_grad for p in model.parameters()):
        raise spec.problem("the module has no trainable parameters", "Return a module with parameters to train.")
    return model.to(dtype)


def model_outputs(spec: ModelSpec, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The module's outputs on a batch as a vector (batch,), accepting (batch, 1)."""
    out = model(x)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (x.shape[0],):
        raise spec.problem(
            f"the module returns outputs of shape {tuple(out.shape)} for a batch of {x.shape[0]} inputs, "
            "not one output per input",
            "Return one scalar per input, shape (batch,) or (batch, 1) (e.g. a readout nn.Linear(features, 1)).",
        )
    return out


def check_model(spec: ModelSpec, model: nn.Module, x: torch.Tensor) -> None:
    """Fail before training when the module does not give one finite output per input, or
    when an input's output depends on the rest of its batch (BatchNorm in training mode, say):
    the batch's outputs against the same inputs one by one, in float64 on a copy."""
    probe = _float64_copy(model)
    x = x.to(torch.float64)
    fix = (
        "Remove batch statistics (BatchNorm in training mode): use GroupNorm/LayerNorm or none; "
        "the NTK and the linear model need the output of one input alone."
    )
    with torch.no_grad():
        try:
            together = model_outputs(spec, probe, x)
        except ModelError:
            raise
        except Exception as error:
            raise spec.problem(
                f"the module raised {type(error).__name__} on a batch of inputs of shape {tuple(x.shape)}: {error}",
                "Make it accept a batch of inputs of the data set's shape.",
            ) from error
        try:
            alone = torch.cat([model_outputs(spec, probe, x[i : i + 1]) for i in range(x.shape[0])])
        except ModelError:
            raise
        except Exception as error:
            raise spec.problem(
                f"an input's output depends on the rest of its batch (one input alone raised "
                f"{type(error).__name__}: {error})",
                fix,
            ) from error
    if not torch.isfinite(together).all():
        raise spec.problem("the module's outputs at initialisation are not all finite", "Check its initialisation.")
    scale = together.abs().max().clamp_min(1e-300)
    gap = float((together - alone).abs().max() / scale)
    if gap > _BATCH_TOLERANCE:
        raise spec.problem(
            f"an input's output depends on the rest of its batch (relative difference {gap:.2e} between a batch "
            "and its inputs one by one)",
            fix,
        )


def _float64_copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).to(torch.float64)
