"""The empirical NTK layer by layer: Theta = sum over parameter tensors l of G_l G_l^T, row i of
G_l the gradient of output i with respect to tensor l, without forming the whole Jacobian.

For each chunk of inputs the network runs one forward and one backward pass (the outputs of
different inputs are independent, which the front door checks). A ``TorchFunctionMode`` sees
every call of ``linear``, ``conv1d``/``conv2d``, ``layer_norm``, ``group_norm``, ``batch_norm``
(eval mode) and ``embedding`` whose weight or bias is a trainable parameter, keeps the call's
input and hooks its output for D, the output gradient; ``layer_rules`` turns them into each
input's gradient or, for weights, keeps the factors (A, D) when the factor form of the Gram is
cheaper (a dense layer applied once: (A A^T) * (D D^T)). Because the mode sees functions, not
module classes, a convolution with circular padding is read from its padded input, a layer used
twice is two calls of one weight, and a network's own layers (the built-ins' NTK layers) need no
rule of their own.

Checked, never trusted: before the first chunk each rule's per-example gradients of a few
inputs are compared with ``torch.func``'s; a parameter whose rule disagrees (used by an
operation the mode does not see: a weight tied into a matmul, attention's packed projection, a
custom ``autograd.Function``) or that no rule covers is differentiated by ``torch.func``
(``vmap`` over ``grad``) for that parameter alone.

Memory: what is kept for all N inputs (the per-example gradients of the Jacobian form, the
factors of the factor form) is split into passes of at most ``memory_bytes`` (default: a
quarter of the available memory, ``memory_budget``); a weight larger
than that is split into blocks of output channels. Each pass runs every chunk once; no chunk is
recomputed for another block of Theta.

Precision: per-example gradients and products are formed in the network's dtype. Float64 is
used only where sums are long: G G^T of the layers kept as gradients is summed over blocks of
4,096 columns, and every layer's block is added to Theta, in float64 (a float32 product over
all of a CNN's 10^5-10^6 columns would err by ~4e-5 relative; by blocks the error stays near the
float32 rounding of the gradients themselves, ~1e-6).
"""

from __future__ import annotations

import os
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from . import layer_rules as rules

Tensor = torch.Tensor

# Kept across a pass (per-example gradients and factors for all inputs), by default: a quarter of
# the memory available when the NTK is formed (a GPU's free memory), between 256 MiB and 16 GiB.
_MIN_BUDGET, _MAX_BUDGET = 1 << 28, 1 << 34


def memory_budget(device: torch.device) -> int:
    """The default ``memory_bytes``: a quarter of the available memory, clamped."""
    if device.type == "cuda":
        available = torch.cuda.mem_get_info(device)[0]
    else:
        available = _available_host_memory()
    return int(min(_MAX_BUDGET, max(_MIN_BUDGET, available // 4)))


def _available_host_memory() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2  # no /proc: half the memory


_CHUNK_ELEMENTS = 1 << 25  # a chunk's largest per-example gradient, rows x parameters
_MAX_CHUNK = 256
_CHUNK_ACTIVATIONS = 1 << 22
_PROBE_ROWS = 3
# A float32 product summed over k columns errs by about sqrt(k) x 6e-8 relative; blocks of
# 4,096 columns summed in float64 keep Theta's error near 4e-6 for any number of parameters.
_SUM_COLUMNS = 4096
# Relative difference between a rule's per-example gradients and torch.func's above which the
# rule is not used for that parameter.
_AGREEMENT = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 1e-2}

_KINDS = {
    F.linear: "linear",
    F.conv1d: "conv",
    F.conv2d: "conv",
    F.layer_norm: "layer_norm",
    F.group_norm: "group_norm",
    F.batch_norm: "batch_norm",
    F.embedding: "embedding",
}
# Where weight and bias sit in each function's arguments.
_SLOTS = {
    "linear": (1, 2),
    "conv": (1, 2),
    "layer_norm": (2, 3),
    "group_norm": (2, 3),
    "batch_norm": (3, 4),
    "embedding": (1, None),
}


@dataclass
class _Unit:
    """One trainable parameter: its rule (kind, role) or the torch.func fallback."""

    name: str
    parameter: Tensor
    kind: str | None = None
    role: str | None = None  # "weight" or "bias"
    fallback: bool = False
    shape: rules.MatmulShape | None = None
    off_input: bool = False  # on a branch a backward pass to the inputs does not reach

    @property
    def factors(self) -> bool:
        return self.role == "weight" and self.kind in ("linear", "conv") and self.shape.prefers_factors()

    def stored_elements(self) -> int:
        """Per input, kept across a pass."""
        return self.shape.factor_elements if self.factors else self.parameter.numel()


@dataclass
class _Piece:
    """What a pass keeps of one unit: all of it, or a block of a weight's output channels."""

    unit: _Unit
    channels: slice | None = None

    @property
    def columns(self) -> int:
        if self.channels is None:
            return 0 if self.unit.factors else self.unit.parameter.numel()
        return (self.channels.stop - self.channels.start) * self.unit.shape.inputs


@dataclass
class _Capture(TorchFunctionMode):
    """Records, for the watched parameters, what each call gives per example of a chunk."""

    watched: dict[int, list[tuple[_Unit, _Piece | None]]]
    rows: int
    gradients: dict[int, list[Tensor]] = field(default_factory=lambda: defaultdict(list))
    factor_calls: dict[int, list[rules.MatmulFactors]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[int, str] = field(default_factory=dict)
    largest_output: int = 0  # per input, of the calls the rules read

    def __post_init__(self) -> None:
        super().__init__()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        kind = _KINDS.get(func)
        if kind is None or not isinstance(output, Tensor) or not output.requires_grad:
            return output
        self.largest_output = max(self.largest_output, output.numel() // max(self.rows, 1))
        for slot, role in zip(_SLOTS[kind], ("weight", "bias")):
            if slot is None:
                continue
            tensor = args[slot] if len(args) > slot else kwargs.get(role)
            if tensor is None or id(tensor) not in self.watched:
                continue
            for unit, piece in self.watched[id(tensor)]:
                self._hook(unit, piece, kind, role, args, kwargs, output)
        return output

    def _hook(self, unit: _Unit, piece: _Piece | None, kind: str, role: str, args, kwargs, output: Tensor) -> None:
        key = id(piece) if piece is not None else id(unit)
        self.calls[key].append(f"{kind}.{role}")
        versions = [a._version for a in args if isinstance(a, Tensor)]
        xhat = None
        if role == "weight" and kind in ("layer_norm", "group_norm", "batch_norm"):
            try:
                with torch.no_grad():
                    xhat = rules.normalised_input(kind, args, kwargs)
            except rules.RuleMismatch as error:
                self.errors[key] = str(error)
                return

        def on_gradient(grad: Tensor) -> None:
            try:
                if [a._version for a in args if isinstance(a, Tensor)] != versions:
                    raise rules.RuleMismatch("its input was modified in place before the backward pass")
                self._record(key, unit, piece, kind, role, args, kwargs, grad, xhat)
            except rules.RuleMismatch as error:
                self.errors[key] = str(error)

        output.register_hook(on_gradient)

    def _record(self, key, unit, piece, kind, role, args, kwargs, grad, xhat) -> None:
        rows = self.rows
        args = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
        if role == "bias" and kind in ("linear", "conv"):
            self.gradients[key].append(rules.bias_gradient(grad, kind, rows))
        elif kind == "conv" and piece is not None and not piece.unit.factors:
            self.gradients[key].append(rules.conv_per_example(args, kwargs, grad, rows, piece.channels))
        elif kind in ("linear", "conv"):
            factors = rules.matmul_factors(kind, args, kwargs, grad, rows)
            if piece is None or piece.unit.factors:  # the plan's probe, or kept as factors
                self.factor_calls[key].append(factors)
            else:  # formed at once
                self.gradients[key].append(factors.per_example(piece.channels))
        elif kind == "embedding":
            self.gradients[key].append(rules.embedding_gradient(args, kwargs, unit.parameter, grad, rows))
        else:
            self.gradients[key].append(rules.affine_gradient(kind, unit.parameter, xhat, grad, rows))


def _trainable(model: nn.Module) -> list[_Unit]:
    return [_Unit(name, p) for name, p in model.named_parameters() if p.requires_grad]


def _outputs(model: nn.Module, x: Tensor) -> Tensor:
    return model(x).reshape(x.shape[0])


def _run_chunk(
    model: nn.Module, x: Tensor, watched, parameters: list[Tensor] | None = None, off_input: tuple = ()
) -> tuple[_Capture, list]:
    """One forward and one backward pass of a chunk with the watched calls recorded.

    With ``parameters``, the backward pass also returns their summed gradients (None for a
    parameter the outputs do not depend on: the plan's probe). Without, it runs to the inputs
    and to the ``off_input`` parameters only (those on a branch the input does not reach: a
    class token's embedding): the hooks get every layer's D while autograd forms no batched
    weight gradient, which the per-example gradients make unnecessary (a third of a CNN's
    backward pass)."""
    capture = _Capture(watched, x.shape[0])
    to_inputs = parameters is None and x.is_floating_point()
    if to_inputs:
        x = x.detach().requires_grad_(True)
        targets = [x, *off_input]
    else:
        targets = list(parameters or _watched_parameters(watched))
    with torch.enable_grad():
        with capture:
            out = _outputs(model, x)
        grads = torch.autograd.grad(out.sum(), targets, allow_unused=True) if targets and out.requires_grad else []
    return capture, [] if to_inputs else list(grads)


def _watched_parameters(watched) -> list[Tensor]:
    return list({id(unit.parameter): unit.parameter for entries in watched.values() for unit, _ in entries}.values())


def fallback_jacobian(model: nn.Module, names: list[str], x: Tensor) -> Tensor:
    """Per-example gradients (B, sum of sizes) of the named parameters by ``torch.func``."""
    params = {name: p.detach() for name, p in model.named_parameters() if name in names}

    def output(p: dict[str, Tensor], row: Tensor) -> Tensor:
        return torch.func.functional_call(model, p, (row.unsqueeze(0),)).reshape(())

    grads = torch.func.vmap(torch.func.grad(output), in_dims=(None, 0))(params, x)
    return torch.cat([grads[name].reshape(x.shape[0], -1) for name in names], dim=1)


def _rule_gradient(capture: _Capture, key: int, unit: _Unit, channels: slice | None = None) -> Tensor | None:
    """A unit's per-example gradients (B, columns) from a chunk's record, None if none."""
    calls = capture.factor_calls.get(key)
    if calls:
        return rules.MatmulFactors.join(calls).per_example(channels)
    grads = capture.gradients.get(key)
    if not grads:
        return None
    return grads[0] if len(grads) == 1 else torch.stack(grads).sum(0)


@dataclass
class Plan:
    """How each trainable parameter's block of Theta is formed, and the chunk size."""

    units: list[_Unit]
    activation_elements: int  # per input, the largest output of a layer the rules read

    @property
    def active(self) -> list[_Unit]:
        return [u for u in self.units if u.kind != "unused"]

    def rows(self, n: int) -> int:
        """Inputs per chunk: a chunk's largest per-example gradient under 2^25 elements and its
        largest activation under 2^22 (a CNN's backward pass is ~2x slower per input at 200
        inputs than at 32 on 2 cores, its activations falling out of cache)."""
        gradients = max([u.parameter.numel() for u in self.active if not u.factors] + [1])
        return max(
            1, min(n, _MAX_CHUNK, _CHUNK_ELEMENTS // gradients, _CHUNK_ACTIVATIONS // max(self.activation_elements, 1))
        )


# The plan of a module, while its parameters (identity, shape, dtype, trainable), its modules'
# train/eval modes and the input shape, dtype and device stay the same: a network whose NTK is
# measured at several steps (the kernel movement) is checked once. Weak keys: a plan never
# keeps its module alive.
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan_key(model: nn.Module, X: Tensor) -> tuple:
    parameters = tuple((name, id(p), tuple(p.shape), p.dtype, p.requires_grad) for name, p in model.named_parameters())
    modes = tuple(m.training for m in model.modules())
    return parameters, modes, tuple(X.shape[1:]), X.dtype, X.device


def plan_ntk(model: nn.Module, X: Tensor) -> Plan:
    """Each unit's rule, checked against torch.func on the first inputs; the rest fall back
    (kept for the module while nothing the check depends on changes)."""
    key = _plan_key(model, X)
    cached = _PLANS.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    plan = _checked_plan(model, X)
    _PLANS[model] = (key, plan)
    return plan


def _checked_plan(model: nn.Module, X: Tensor) -> Plan:
    units = _trainable(model)
    probe = X[: min(_PROBE_ROWS, X.shape[0])]
    watched = {id(u.parameter): [(u, None)] for u in units}
    capture, summed = _run_chunk(model, probe, watched, [u.parameter for u in units])
    reference = fallback_jacobian(model, [u.name for u in units], probe)
    tolerance = _AGREEMENT.get(probe.dtype, 1e-4)
    start = 0
    for unit, total in zip(units, summed):
        key = id(unit)
        expected = reference[:, start : start + unit.parameter.numel()]
        start += unit.parameter.numel()
        kinds = set(capture.calls.get(key, []))
        if total is None:  # the outputs do not depend on it: no block of Theta
            unit.kind = "unused"
            continue
        if len(kinds) != 1 or key in capture.errors:
            unit.fallback = True
            continue
        unit.kind, unit.role = next(iter(kinds)).split(".")
        try:
            got = _rule_gradient(capture, key, unit)
        except rules.RuleMismatch:
            got = None
        scale = float(expected.norm())
        if (
            got is None
            or got.shape != expected.shape
            or float((got - expected).norm()) > tolerance * max(scale, 1e-300)
        ):
            unit.fallback, unit.kind, unit.role = True, None, None
            continue
        if unit.role == "weight" and unit.kind in ("linear", "conv"):
            calls = capture.factor_calls[key]
            joined = rules.MatmulFactors.join(calls)
            G, T, a = joined.A.shape[1:]
            unit.shape = rules.MatmulShape(G, T, a, joined.D.shape[-1])
    ruled = [u for u in units if u.kind not in (None, "unused") and not u.fallback]
    if ruled and probe.is_floating_point():  # which layers a backward pass to the inputs misses
        reached, _ = _run_chunk(model, probe, {id(u.parameter): [(u, None)] for u in ruled})
        for unit in ruled:
            unit.off_input = id(unit) not in reached.factor_calls and id(unit) not in reached.gradients
    return Plan(units, capture.largest_output)


def _pieces(units: list[_Unit], n: int, budget_elements: int) -> list[_Piece]:
    """Units, with a weight kept as gradients split into blocks of output channels when one
    alone is over the budget."""
    pieces = []
    for unit in units:
        if unit.kind == "unused":
            continue
        splittable = (
            not unit.fallback and unit.role == "weight" and unit.kind in ("linear", "conv") and not unit.factors
        )
        if splittable and unit.shape.groups == 1 and n * unit.stored_elements() > budget_elements:
            per_channel = n * unit.shape.inputs
            step = max(1, budget_elements // per_channel)
            outputs = unit.shape.outputs
            pieces += [_Piece(unit, slice(lo, min(outputs, lo + step))) for lo in range(0, outputs, step)]
        else:
            pieces.append(_Piece(unit))
    return pieces


def _piece_elements(piece: _Piece) -> int:
    if piece.channels is not None:
        return piece.columns
    return piece.unit.stored_elements()


def _passes(pieces: list[_Piece], n: int, budget_elements: int) -> list[list[_Piece]]:
    passes: list[list[_Piece]] = [[]]
    used = 0
    for piece in pieces:
        size = n * _piece_elements(piece)
        if passes[-1] and used + size > budget_elements:
            passes.append([])
            used = 0
        passes[-1].append(piece)
        used += size
    return [p for p in passes if p]


def _run_pass(model, X, pieces: list[_Piece], rows: int, theta: Tensor) -> None:
    n = X.shape[0]
    jacobian = [p for p in pieces if not p.unit.fallback and not (p.unit.factors and p.channels is None)]
    factor = [p for p in pieces if not p.unit.fallback and p.unit.factors]
    fallback = [p.unit.name for p in pieces if p.unit.fallback]
    fallback_columns = sum(p.unit.parameter.numel() for p in pieces if p.unit.fallback)
    columns = sum(p.columns for p in jacobian) + fallback_columns
    G = torch.empty(n, columns, dtype=X.dtype, device=X.device) if columns else None
    kept: dict[int, list[rules.MatmulFactors]] = defaultdict(list)
    watched: dict[int, list] = defaultdict(list)
    for piece in jacobian + factor:
        watched[id(piece.unit.parameter)].append((piece.unit, piece))
    off_input = tuple({id(p.unit.parameter): p.unit.parameter for p in jacobian + factor if p.unit.off_input}.values())
    for lo in range(0, n, rows):
        x = X[lo : lo + rows]
        if watched:
            capture, _ = _run_chunk(model, x, watched, off_input=off_input)
            if capture.errors:
                raise RuntimeError(f"empirical NTK: a layer rule failed on a chunk: {capture.errors}")
            start = 0
            for piece in jacobian:
                grads = _rule_gradient(capture, id(piece), piece.unit, piece.channels)
                if grads is not None:
                    G[lo : lo + x.shape[0], start : start + piece.columns] = grads
                else:
                    G[lo : lo + x.shape[0], start : start + piece.columns] = 0
                start += piece.columns
            for piece in factor:
                calls = capture.factor_calls.get(id(piece))
                kept[id(piece)].append(rules.MatmulFactors.join(calls))
        if fallback:
            G[lo : lo + x.shape[0], columns - fallback_columns :] = fallback_jacobian(model, fallback, x)
    if G is not None:
        _add_gram(G, theta)
    for piece in factor:
        A = torch.cat([f.A for f in kept[id(piece)]])
        D = torch.cat([f.D for f in kept[id(piece)]])
        block = torch.zeros(n, n, dtype=X.dtype, device=X.device)
        rules.factor_gram(A, D, A, D, block)  # each product sums a + o + 1 <= a few thousand terms
        theta += block.to(theta.dtype)


def _add_gram(G: Tensor, theta: Tensor, columns: int = _SUM_COLUMNS) -> None:
    """theta += G G^T, the product in G's dtype over blocks of columns, their sum in theta's."""
    for lo in range(0, G.shape[1], columns):
        block = G[:, lo : lo + columns]
        theta += (block @ block.T).to(theta.dtype)


@torch.no_grad()  # only the chunks' own passes record a graph (``_run_chunk``)
def streaming_ntk(model: nn.Module, X: Tensor, memory_bytes: int | None = None) -> Tensor:
    """Theta(X, X), (n, n) in float64, for a module with one output per input; ``memory_bytes``
    kept across a pass (default ``memory_budget``)."""
    n = X.shape[0]
    theta = torch.zeros(n, n, dtype=torch.float64, device=X.device)
    plan = plan_ntk(model, X)
    budget = max(1, (memory_bytes or memory_budget(X.device)) // X.element_size())
    rows = plan.rows(n)
    for pieces in _passes(_pieces(plan.units, n, budget), n, budget):
        _run_pass(model, X, pieces, rows, theta)
    return theta


@torch.no_grad()
def ntk_diagonal(model: nn.Module, X: Tensor) -> Tensor:
    """diag Theta(X, X) = ||df(x_i)/dtheta||^2, (n,) in float64, one pass over the chunks."""
    n = X.shape[0]
    plan = plan_ntk(model, X)
    ruled = [u for u in plan.active if not u.fallback]
    fallback = [u.name for u in plan.units if u.fallback]
    watched = {id(u.parameter): [(u, None)] for u in ruled}
    rows = plan.rows(n)
    diagonal = torch.zeros(n, dtype=torch.float64, device=X.device)
    for lo in range(0, n, rows):
        x = X[lo : lo + rows]
        part = diagonal[lo : lo + x.shape[0]]
        if ruled:
            capture, _ = _run_chunk(model, x, watched, off_input=tuple(u.parameter for u in ruled if u.off_input))
            for unit in ruled:
                calls = capture.factor_calls.get(id(unit))
                if calls:
                    part += rules.MatmulFactors.join(calls).squared_norms().to(part.dtype)
                else:
                    grads = _rule_gradient(capture, id(unit), unit)
                    if grads is not None:
                        part += grads.square().sum(1).to(part.dtype)
        if fallback:
            part += fallback_jacobian(model, fallback, x).square().sum(1).to(part.dtype)
    return diagonal


@torch.no_grad()
def describe_plan(model: nn.Module, X: Tensor, memory_bytes: int | None = None) -> list[dict]:
    """How each parameter's block of Theta is formed (benchmark and logs)."""
    units = plan_ntk(model, X).units
    rows = []
    for unit in units:
        form = (
            "unused"
            if unit.kind == "unused"
            else "torch.func"
            if unit.fallback
            else ("factors" if unit.factors else "gradients")
        )
        rows.append({"parameter": unit.name, "size": unit.parameter.numel(), "rule": unit.kind, "form": form})
    budget = max(1, (memory_bytes or memory_budget(X.device)) // X.element_size())
    passes = _passes(_pieces(units, X.shape[0], budget), X.shape[0], budget)
    for row in rows:
        row["passes"] = len(passes)
    return rows
