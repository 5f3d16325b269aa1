"""Time the empirical NTK against its floor, against the torch.func Jacobian it replaced, against
the Jacobian contraction of PyTorch's NTK tutorial and against each peer library installed
(the ``bench`` extra: BackPACK, opacus), with each one's error against a float64 reference.

    python benchmarks/bench_ntk.py --threads 2
    python benchmarks/bench_ntk.py --device cuda --points 200 1000
    python benchmarks/bench_ntk.py --threads 2 --networks --matrix-free 10000

One line per network and N on 3 x 32 x 32 random inputs, float32: the paper's FC 4 x 512 and
CNN 4 x 128 (circular padding), the residual CNN, and torchvision's ResNet-18 with GroupNorm:

* ntk: ``kernels.empirical.empirical_ntk`` (layer by layer, ``kernels.streaming``), its plan
  (which rule reads each parameter, checked against torch.func) made by the error check's call
  before: its own time, which a module's first call adds, is printed on the line;
* floor: what this method cannot avoid, each part timed alone in the same run on tensors of the
  same shapes: one forward and backward pass per chunk (the backward pass to the inputs: every
  layer's output gradient, no batched weight gradient), the per-example gradients of the layers
  kept as gradients (their einsum), and the Gram products (G G^T of those gradients, and for the
  layers kept as factors the per-layer Gram (A A^T) * (D D^T) summed over positions);
* peak: the largest resident memory above the start of the call (CPU, sampled every 5 ms) or
  ``torch.cuda.max_memory_allocated`` (GPU);
* old, tutorial, backpack, opacus: the same kernel by ``kernels.empirical.jacobian_ntk``, by
  ``vmap(jacrev)`` + ``einsum`` over the whole Jacobian, and by the libraries' per-example
  gradients (on twins of the built-ins made of torch's own Linear/Conv2d, the same weights), with
  the speed-up of ntk over each and each one's relative error (Frobenius) against the float64
  Jacobian of a subset of ``--check`` inputs. A method whose estimated time (from its time at the
  smaller N) or Jacobian (N x P floats) is over ``--max-seconds`` / ``--max-gib`` is skipped and
  says so;
* with ``--matrix-free N``: the FC net's kernel-fit residual norms at N inputs without forming
  Theta (``kernels.matrix_free.residual_norms``), timed.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import threading
import time
from collections.abc import Callable

import torch
from torch import nn

from earlylin.kernels import layer_rules as rules
from earlylin.kernels.empirical import empirical_ntk, jacobian_ntk, parameter_count
from earlylin.kernels.streaming import _checked_plan, describe_plan, plan_ntk
from earlylin.networks.layers import NTKConv2d, NTKLinear
from earlylin.networks.registry import ModelSpec, build_model

SHAPE = (3, 32, 32)
NETWORKS = ("fc 4 x 512", "cnn 4 x 128", "residual_cnn 2 x 64", "resnet18 groupnorm")


def build(name: str, dtype: torch.dtype) -> nn.Module:
    if name.startswith("resnet18"):
        import torchvision

        torch.manual_seed(0)
        norm = lambda c: nn.GroupNorm(min(32, c), c)  # noqa: E731
        return torchvision.models.resnet18(num_classes=1, norm_layer=norm).to(dtype)
    network, kwargs = {
        "fc 4 x 512": ("fc", {"depth": 4, "width": 512}),
        "cnn 4 x 128": ("cnn", {"depth": 4, "channels": 128}),
        "residual_cnn 2 x 64": ("residual_cnn", {"blocks": 2, "channels": 64}),
    }[name]
    return build_model(ModelSpec(network, network, kwargs), SHAPE, 0, dtype)


class _Scale(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def torch_twin(model: nn.Module) -> nn.Module:
    """The built-in with each NTK layer replaced by torch's Linear / Conv2d (circular padding)
    and a scale: what hook libraries know how to read. Same weights, same function."""
    twin = copy.deepcopy(model)
    for parent in list(twin.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, NTKLinear):
                layer = nn.Linear(child.weight.shape[1], child.weight.shape[0], bias=False).to(child.weight.dtype)
                layer.weight = nn.Parameter(child.weight.detach().clone())
                setattr(parent, name, nn.Sequential(layer, _Scale(child.scale)))
            elif isinstance(child, NTKConv2d):
                out_c, in_c, q, _ = child.weight.shape
                layer = nn.Conv2d(in_c, out_c, q, padding=q // 2, padding_mode="circular", bias=False)
                layer = layer.to(child.weight.dtype)
                layer.weight = nn.Parameter(child.weight.detach().clone())
                setattr(parent, name, nn.Sequential(layer, _Scale(child.scale)))
    return twin


def _gram_of(rows_of: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, chunk: int = 50) -> torch.Tensor:
    J = torch.cat([rows_of(X[lo : lo + chunk]) for lo in range(0, len(X), chunk)])
    return (J @ J.T).double()


def tutorial_ntk(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """PyTorch's NTK tutorial: vmap(jacrev) of the whole Jacobian, then einsum per parameter."""
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}

    def single(p, x):
        return torch.func.functional_call(model, p, (x.unsqueeze(0),)).reshape(())

    jac = torch.func.vmap(torch.func.jacrev(single), (None, 0))(params, X)
    return sum(torch.einsum("nf,mf->nm", j.flatten(1), j.flatten(1)) for j in jac.values()).double()


def backpack_ntk(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    from backpack import backpack, extend
    from backpack.extensions import BatchGrad

    twin = extend(torch_twin(model))
    params = [p for p in twin.parameters() if p.requires_grad]

    def rows_of(x):
        out = twin(x).reshape(len(x))
        with backpack(BatchGrad()):
            out.sum().backward()
        rows = torch.cat([p.grad_batch.reshape(len(x), -1) for p in params], 1)
        for p in params:
            p.grad = None
        return rows

    return _gram_of(rows_of, X)


def opacus_ntk(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    from opacus import GradSampleModule

    twin = GradSampleModule(torch_twin(model), loss_reduction="sum")
    params = [p for p in twin.parameters() if p.requires_grad]

    def rows_of(x):
        out = twin(x).reshape(len(x))
        out.sum().backward()
        rows = torch.cat([p.grad_sample.reshape(len(x), -1) for p in params], 1)
        for p in params:
            p.grad = None
            p.grad_sample = None
        return rows

    return _gram_of(rows_of, X)


class PeakMemory:
    """Largest resident memory (CPU, sampled) or allocated memory (GPU) during a block, in GiB."""

    def __init__(self, device: torch.device):
        self.device, self.peak, self._stop = device, 0.0, threading.Event()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
            self._start = torch.cuda.memory_allocated()
            return self
        self._start = self._rss()
        self._peak = self._start

        def sample():
            while not self._stop.wait(0.005):
                self._peak = max(self._peak, self._rss())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            self.peak = (torch.cuda.max_memory_allocated() - self._start) / 2**30
        else:
            self._stop.set()
            self._thread.join()
            self.peak = (max(self._peak, self._rss()) - self._start) / 2**30


def timed(fn: Callable[[], object], device: torch.device, repeats: int = 1) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def floor_seconds(model: nn.Module, X: torch.Tensor, device: torch.device) -> dict[str, float]:
    """The parts of the floor, each timed alone on tensors of the plan's shapes."""
    n = len(X)
    plan = plan_ntk(model, X[:8])
    units, rows = plan.units, plan.rows(n)

    def passes():  # to the inputs: every layer's D, no batched weight gradient
        for lo in range(0, n, rows):
            x = X[lo : lo + rows].detach().requires_grad_(True)
            out = model(x).reshape(-1)
            torch.autograd.grad(out.sum(), x)

    parts = {"forward+backward": timed(passes, device)[0]}
    gradients_columns = 0
    formation = products = 0.0
    make = lambda *shape: torch.randn(*shape, dtype=X.dtype, device=device)  # noqa: E731
    for unit in units:
        if unit.kind == "unused":
            continue
        if unit.shape is not None and unit.factors:
            s = unit.shape
            A, D = make(n, s.groups, s.positions, s.inputs), make(n, s.groups, s.positions, s.outputs)
            out = torch.zeros(n, n, dtype=X.dtype, device=device)
            products += timed(lambda A=A, D=D, out=out: rules.factor_gram(A, D, A, D, out), device)[0]
        elif unit.shape is not None and not unit.fallback:
            s = unit.shape
            for lo in range(0, n, rows):
                b = min(rows, n - lo)
                A, D = make(b, s.groups, s.positions, s.inputs), make(b, s.groups, s.positions, s.outputs)
                factors = rules.MatmulFactors(A, D)
                formation += timed(factors.per_example, device)[0]
            gradients_columns += unit.parameter.numel()
        else:
            gradients_columns += unit.parameter.numel()
    if gradients_columns:
        G = make(n, gradients_columns)
        products += timed(lambda: G @ G.T, device)[0]
    parts["per-example gradients"] = formation
    parts["Gram products"] = products
    return parts


def matrix_free_line(n: int, device: torch.device, probes: int) -> str:
    """The FC net 4 x 512 on n Gaussian inputs of d = 256: the simple kernel fitted on 200 inputs
    over 2 initialisations (float64), then the Lanczos and Hutchinson norms of offdiag(Theta -
    K_fit) and offdiag(Theta) without forming Theta, timed (float32)."""
    from earlylin.kernels.fit import fit_simple_kernel
    from earlylin.kernels.matrix_free import residual_norms

    spec = ModelSpec("fc", "fc", {"depth": 4, "width": 512})
    generator = torch.Generator().manual_seed(1)
    fit_inputs = torch.randn(200, 256, generator=generator, dtype=torch.float64)
    kernels = [empirical_ntk(build_model(spec, (256,), s, torch.float64), fit_inputs).numpy() for s in (0, 1)]
    coefficients = fit_simple_kernel(fit_inputs.numpy(), kernels).coefficients()
    model = build_model(spec, (256,), 0, torch.float32).to(device)
    X = torch.randn(n, 256, generator=generator).to(device)
    seconds, norms = timed(lambda: residual_norms(model, X, coefficients, probes=probes), device)
    return (
        f"matrix-free, fc 4 x 512, N = {n:,}, d = 256: {seconds:.1f} s for {norms.products} products Theta v; "
        f"||offdiag(Theta - K_fit)||_2 = {norms.residual.spectral:.4g} (ratio {norms.spectral_ratio:.3f}), "
        f"||.||_F = {norms.residual.frobenius.value:.4g} ± {norms.residual.frobenius.stderr:.2g} "
        f"(ratio {norms.frobenius_ratio:.3f}, {probes} probes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads on the CPU (0: torch's default)")
    parser.add_argument("--points", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--check", type=int, default=24, help="inputs of the float64 error check")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--max-gib", type=float, default=8.0)
    parser.add_argument("--methods", nargs="+", default=["old", "tutorial", "backpack", "opacus"])
    parser.add_argument("--matrix-free", type=int, default=0, help="N of the matrix-free line (0: none)")
    parser.add_argument("--probes", type=int, default=30)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"# bench_ntk on {name}, torch {torch.__version__}, float32, inputs {SHAPE}")
    if args.matrix_free:
        print(matrix_free_line(args.matrix_free, device, args.probes), flush=True)
    methods = {"old": jacobian_ntk, "tutorial": tutorial_ntk, "backpack": backpack_ntk, "opacus": opacus_ntk}
    for network in args.networks:
        model = build(network, torch.float32).to(device)
        reference_model = build(network, torch.float64).to(device)
        P = parameter_count(model)
        generator = torch.Generator().manual_seed(0)
        X_all = torch.randn(max(args.points), *SHAPE, generator=generator).to(device)
        check = X_all[: args.check]
        reference = jacobian_ntk(reference_model, check.double())

        def error(fn, model=model, check=check, reference=reference) -> float:
            got = fn(model, check)
            return float((got - reference).norm() / reference.norm())

        previous: dict[str, tuple[int, float]] = {}
        errors = {"ntk": error(empirical_ntk)}
        for method in args.methods:
            try:
                errors[method] = error(methods[method])
            except ImportError:
                errors[method] = "not installed"
            except Exception as failure:  # a library that refuses the module
                errors[method] = f"refused ({type(failure).__name__}: {str(failure).splitlines()[0][:80]})"
        for n in args.points:
            X = X_all[:n]
            with PeakMemory(device) as memory:
                seconds, _ = timed(lambda model=model, X=X: empirical_ntk(model, X), device)
            plan_seconds, plan = timed(lambda model=model, X=X: _checked_plan(model, X), device)
            passes = describe_plan(model, X)[0]["passes"]
            parts = floor_seconds(model, X, device)
            floor = sum(parts.values())
            line = (
                f"{network}, N = {n}: P = {P:,}, ntk {seconds:.3f} s, floor {floor:.3f} s "
                f"({', '.join(f'{k} {v:.3f}' for k, v in parts.items())}), ntk/floor {seconds / floor:.2f}, "
                f"peak {memory.peak:.2f} GiB, error {errors['ntk']:.1e}; {plan.rows(n)} inputs a chunk, {passes} "
                f"pass(es); the first call per module adds the rules' check, {plan_seconds:.3f} s"
            )
            print(line, flush=True)
            for method in args.methods:
                if isinstance(errors[method], str):
                    print(f"    {method}: {errors[method]}", flush=True)
                    continue
                jacobian_gib = n * P * 4 / 2**30
                if method in previous:
                    n0, t0 = previous[method]
                    estimate = t0 * (n / n0) ** 2
                    if estimate > args.max_seconds:
                        print(f"    {method}: skipped (about {estimate:.0f} s from N = {n0})", flush=True)
                        continue
                if method != "old" and jacobian_gib > args.max_gib:
                    print(f"    {method}: skipped (its Jacobian is {jacobian_gib:.1f} GiB)", flush=True)
                    continue
                t, _ = timed(lambda method=method, model=model, X=X: methods[method](model, X), device)
                previous[method] = (n, t)
                print(
                    f"    {method}: {t:.3f} s, ntk is {t / seconds:.1f}x faster; error {errors[method]:.1e}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
