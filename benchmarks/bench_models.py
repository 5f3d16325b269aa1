"""Time the empirical NTK and the linearised network against their floors: the empirical NTK
by torch.func, and the linearised network's SGD step against the network's own step.

    python benchmarks/bench_models.py --threads 2
    python benchmarks/bench_models.py --device cuda --points 512

One line per built-in network at the paper's sizes on 7x7 MNIST-shaped inputs (FC 4 x 512,
CNN 4 x 128 channels, the residual CNN, the standard-parameterisation FC), random inputs:

* ntk: ``kernels.empirical.empirical_ntk`` on ``--points`` inputs;
* floor: what any method that forms the Jacobian J must do, measured in the same run: one
  forward and backward pass of the whole batch (the work of the per-example backward passes,
  batched) plus the product J J^T as one matrix product of the same shape. The layer-by-layer
  NTK forms no J: for dense layers it falls far below this floor (``bench_ntk.py`` measures it
  against its own);
* loop: the per-example autograd loop a user would write (``autograd_loop_ntk`` here), and
  its ratio to torch.func;
* step: one network SGD step on a batch of ``--batch`` (``training.predictors.NetworkPredictor``)
  and one linearised-network step (``training.linearised.LinearisedNetwork.sgd_step``), and
  their ratio (the target: at most 2).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from earlylin.kernels.empirical import empirical_ntk, parameter_count
from earlylin.networks.registry import ModelSpec, build_model
from earlylin.training.linearised import LinearisedNetwork
from earlylin.training.predictors import NetworkPredictor

MODELS = {
    "fc 4 x 512": ("fc", {"depth": 4, "width": 512}),
    "cnn 4 x 128": ("cnn", {"depth": 4, "channels": 128}),
    "residual_cnn 2 x 64": ("residual_cnn", {"blocks": 2, "channels": 64}),
    "fc_standard 4 x 512": ("fc_standard", {"depth": 4, "width": 512}),
}
SHAPE = (1, 7, 7)


def autograd_loop_ntk(model: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The per-example loop: one backward pass per input, the gradients' Gram in float64."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(model(x[None]).sum(), params)]) for x in X]
    J = torch.stack(rows).double()
    return J @ J.T


def best_of(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Smallest wall time of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--points", type=int, default=128, help="inputs of the empirical NTK")
    parser.add_argument("--batch", type=int, default=500, help="SGD batch size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-points", type=int, default=32, help="inputs for the slow autograd loop")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    X = torch.randn((args.points, *SHAPE), generator=generator).to(device)
    batch = torch.randn((args.batch, *SHAPE), generator=generator).to(device)
    y = torch.randn(args.batch, generator=generator).to(device)
    print(f"device {device}, threads {torch.get_num_threads()}, {args.points} NTK points, batch {args.batch}, float32")
    header = "model | params | ntk | floor | ntk/floor | loop/ntk | net step | lin step | lin/net"
    print(header)
    print("-" * len(header))
    for label, (network, kwargs) in MODELS.items():
        model = build_model(ModelSpec(label, network, kwargs), SHAPE, 0, torch.float32).to(device)
        print(measure(label, model, X, batch, y, args, device))


def measure(label: str, model: torch.nn.Module, X, batch, y, args: argparse.Namespace, device: torch.device) -> str:
    """One line of the table for one network."""
    params = [p for p in model.parameters() if p.requires_grad]
    P = parameter_count(model)
    ntk = best_of(lambda: empirical_ntk(model, X), args.repeats, device)
    J = torch.randn(args.points, P, device=device, dtype=torch.float64)
    forward_backward = best_of(lambda: torch.autograd.grad(model(X).sum(), params), args.repeats, device)
    floor = forward_backward + best_of(lambda: J @ J.T, args.repeats, device)
    few = X[: args.loop_points]
    loop = best_of(lambda: autograd_loop_ntk(model, few), 1, device)
    ntk_few = best_of(lambda: empirical_ntk(model, few), 1, device)
    network = NetworkPredictor(model, batch, batch[:1], y, "mse", 0.0, len(batch))
    network.prepare()
    rows = torch.arange(len(batch), device=batch.device)
    net_step = best_of(lambda: network.step(rows.cpu().numpy(), rows, 1e-3), args.repeats, device)
    linearised = LinearisedNetwork(model)
    lin_step = best_of(lambda: linearised.sgd_step(batch, y, 1e-3), args.repeats, device)
    return (
        f"{label} | {P:,} | {ntk:.3f} s | {floor:.3f} s | {ntk / floor:.2f} | {loop / ntk_few:.1f} | "
        f"{net_step * 1e3:.1f} ms | {lin_step * 1e3:.1f} ms | {lin_step / net_step:.2f}"
    )


if __name__ == "__main__":
    main()
