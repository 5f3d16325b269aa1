"""A network named in the config, built from a seed.

A model is named by ``network``: a built-in (``catalogue.BUILTIN_NETWORKS``), an import path
``package.module:factory`` (``torchvision.models:resnet18``, ``timm:create_model`` with its
``model_name`` in kwargs) or a file ``path/to/file.py:factory`` (relative to the directory the
workflow runs in). The factory is called with the config's keyword arguments, plus
``input_shape`` (the shape of one input without the batch dimension: (d,) for vectors,
(C, H, W) for images) and ``generator`` (a ``torch.Generator`` seeded from the config), each by
keyword and only when the factory names it as a parameter, never positionally: a torchvision
model, whose first parameter is ``weights``, gets neither, and downloads no weights unless the
kwargs ask for them. It returns an ``nn.Module`` with one output per input (shape (batch,) or
(batch, 1)). It runs with torch's global seed set from the same seed and float64 as the default
dtype, so a factory that ignores the generator (``nn.Linear``'s own initialisation,
torchvision's) is deterministic too and one seed is one network in any training dtype.

Then, in this order: the entry's ``input`` adaptation becomes the module's first layer
(``inputs.AdaptedInput``); its BatchNorm layers become what ``batch_norm`` says
(``normalisation``: frozen statistics of the given inputs, or GroupNorm), and a network with a
batch-dependent BatchNorm and no choice is refused, naming both choices.

Every failure is a ``ModelError`` that names the model, the config key and the fix;
``ModelSpec.stage`` turns an error the module raises later (in the NTK, a training step, on any
device) into one that names the model, its key and the stage. ``front_door`` checks a module
before any of that.
"""

from __future__ import annotations

import contextlib
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

from ..core.errors import ExplainedError
from . import normalisation
from .catalogue import BATCH_NORM, BUILTIN_NETWORKS
from .inputs import AdaptedInput

Factory = Callable[..., nn.Module]


class ModelError(ExplainedError, ValueError):
    """A model of the config that cannot be built or used, with what to change."""


@dataclass(frozen=True)
class ModelSpec:
    """One model of the config: its ``name`` (a label), its ``network`` (built-in name,
    ``module:factory`` or ``file.py:factory``), the factory's keyword arguments, the config
    key that holds it (for messages), what its BatchNorm layers become (``batch_norm``:
    '' for no choice, or one of ``catalogue.BATCH_NORM``) and how its inputs are adapted
    (``input``: {channels, size, mode}, ``inputs.AdaptedInput``; None for none)."""

    name: str
    network: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    key: str = "models"
    batch_norm: str = ""
    input: Mapping[str, Any] | None = None

    def problem(self, what: str, fix: str) -> ModelError:
        return ModelError(f"model {self.name!r} ({self.key}.network = {self.network!r}): {what}. {fix}")

    @contextlib.contextmanager
    def stage(self, what: str, where: str = "") -> Iterator[None]:
        """Inside, an error that is not already explained (``ExplainedError``) becomes a
        ModelError naming this model, its key, the stage ``what`` and ``where`` it ran (device
        and dtype), with the module's own error."""
        try:
            yield
        except ExplainedError:
            raise
        except Exception as error:
            lines = str(error).strip().splitlines()
            own = f"{type(error).__name__}: {lines[0] if lines else 'no message'}"
            place = f" ({where})" if where else ""
            raise self.problem(
                f"{what}{place} raised {own}",
                f"The error is the module's own: fix the module or its arguments ({self.key}.kwargs); the "
                "traceback above shows the line that raised it",
            ) from error


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
    if spec.network in BUILTIN_NETWORKS:
        module, _, attribute = BUILTIN_NETWORKS[spec.network].factory.partition(":")
        return getattr(importlib.import_module(module), attribute)
    where, colon, attribute = spec.network.rpartition(":")
    if not colon or not where or not attribute:
        raise spec.problem(
            "not a built-in network and not of the form module:factory or file.py:factory",
            f"Use one of {', '.join(sorted(BUILTIN_NETWORKS))}, package.module:factory or path/to/file.py:factory.",
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


class FlatOutput(nn.Module):
    """A module whose outputs of shape (batch, 1) are read as (batch,): the one shape every
    part of the engine sees (``front_door.admit`` decides when a module needs it)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module
        self.activation_elements = getattr(module, "activation_elements", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x).reshape(x.shape[0])


def factory_arguments(
    spec: ModelSpec, factory: Factory, input_shape: tuple[int, ...], generator: torch.Generator
) -> dict[str, Any]:
    """The keyword arguments of the factory: the config's kwargs, plus ``input_shape`` and
    ``generator`` where the factory names them as parameters (never positionally); ModelError
    when a parameter the factory requires has no value."""
    arguments = dict(spec.kwargs)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature: the config's kwargs only
        return arguments
    given = {"input_shape": tuple(input_shape), "generator": generator}
    for name, value in given.items():
        if name in parameters and name not in arguments:
            arguments[name] = value
    missing = [
        name
        for name, parameter in parameters.items()
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and name not in arguments
    ]
    if missing:
        raise spec.problem(
            f"the factory requires {', '.join(map(repr, missing))}, which {spec.key}.kwargs does not give",
            f"Give {'them' if len(missing) > 1 else 'it'} in {spec.key}.kwargs; the workflow passes the input shape "
            "and the seeded generator by keyword to a factory whose parameters are named input_shape and generator",
        )
    return arguments


def _call_factory(spec: ModelSpec, input_shape: tuple[int, ...], seed: int) -> nn.Module:
    """The factory's module for ``seed`` (its arguments: ``factory_arguments``), checked to be a
    module with parameters to train."""
    factory = resolve_factory(spec)
    arguments = factory_arguments(spec, factory, input_shape, torch.Generator().manual_seed(int(seed)))
    try:
        with _seeded_float64(int(seed)):
            model = factory(**arguments)
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
    return model


def check_argument(spec: ModelSpec, argument: str, key: str) -> None:
    """ModelError naming ``key`` when the factory has no parameter ``argument`` (a factory
    with ``**kwargs`` may take any: the factory itself says so when it is called)."""
    factory = resolve_factory(spec)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    if argument in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    named = [name for name in parameters if name not in ("input_shape", "generator")]
    raise spec.problem(
        f"{key} = {argument!r}, but its factory has no argument {argument!r}",
        f"Name the factory argument that sets the width in {key}; its arguments: {', '.join(named) or '(none)'}",
    )


def batch_norm_problem(spec: ModelSpec, layers: list[str]) -> ModelError:
    """The refusal of a network with batch-dependent BatchNorm ``layers`` and no choice."""
    shown = ", ".join(layers[:4]) + (f" and {len(layers) - 4} more" if len(layers) > 4 else "")
    return spec.problem(
        f"it has {len(layers)} BatchNorm layer{'s' if len(layers) > 1 else ''} ({shown}) whose outputs depend on the "
        "rest of the batch, so the network has no per-example NTK, linearisation or linear model",
        f"Choose what they become: {spec.key}.batch_norm: frozen (the statistics of the initial network on the "
        "training inputs, then fixed: each input alone) or group (each BatchNorm replaced by a GroupNorm)",
    )


def _apply_batch_norm(spec: ModelSpec, model: nn.Module, statistics: torch.Tensor | None) -> nn.Module:
    """The module's BatchNorm layers as ``spec.batch_norm`` says (``normalisation``)."""
    if spec.batch_norm not in ("", *BATCH_NORM):
        raise spec.problem(
            f"{spec.key}.batch_norm = {spec.batch_norm!r} is not a choice", f"Use one of {', '.join(BATCH_NORM)}"
        )
    if spec.batch_norm == "group":
        return normalisation.replace_with_group_norm(model)
    layers = normalisation.batch_dependent(model)
    if spec.batch_norm == "frozen" and layers:
        if statistics is None:
            raise ValueError("a frozen BatchNorm needs the inputs of its statistics")
        with spec.stage("the BatchNorm statistics of the initial network", "on cpu, float64"):
            return normalisation.freeze_batch_norm(model, statistics.detach().to("cpu"))
    if layers:
        raise batch_norm_problem(spec, layers)
    return model


def build_model(
    spec: ModelSpec,
    input_shape: tuple[int, ...],
    seed: int,
    dtype: torch.dtype = torch.float32,
    flat_output: bool = False,
    statistics: torch.Tensor | None = None,
) -> nn.Module:
    """The network of ``spec`` for inputs of ``input_shape``, drawn from ``seed``, in ``dtype``
    (see the module docstring): adapted inputs, BatchNorm as chosen (``statistics``: the
    training inputs of a frozen BatchNorm, (n, *input_shape)), wrapped in ``FlatOutput`` when
    ``flat_output`` (a module that returns (batch, 1))."""
    model = _call_factory(spec, tuple(input_shape), seed)
    if spec.input:
        model = AdaptedInput(model, spec.input)
    model = _apply_batch_norm(spec, model, statistics)
    model = model.to(dtype)
    return FlatOutput(model) if flat_output else model
