"""Benchmark of Figure 1's hot paths, at the Figure 1 size (n = 20,000, d = 50, m = 256).

Run by hand on a quiet machine:  python benchmarks/bench_fig1.py [--threads 2]

Prints, for float32 and float64:
  * the time of one full GD step (fused, chunked forward + backward + update) next to the
    time of the same step's matmuls alone (same shapes, same layouts, same chunks, same
    run, timed in turn with the step), and their ratio (target: <= 2); and, for
    reference, the activation's elementwise work alone (phi and phi' on the same chunks,
    plus a copy), the part of the step that is not matmuls;
  * the closed-form linear model (Claim C.1, every logged step at once) against plain
    GD iteration of the same linear model for 10^4 steps, and the speed-up
    (target: >= 20).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from earlylin.core.activations import gaussian_moments, get_activation
from earlylin.core.metrics import logged_steps
from earlylin.core.seeds import rng_stream
from earlylin.data.synthetic import teacher_dataset
from earlylin.experiments.two_layer.networks import (
    default_chunk_rows,
    make_params,
    symmetric_init,
    two_layer_loss_and_gradients,
)
from earlylin.experiments.two_layer.surrogates import gd_features, linear_gd_closed_form, linear_gd_iterate


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_of_interleaved(fns, repeats: int) -> list[float]:
    """The best time of each function, timed in turn within every repeat, so that all of
    them see the same load on a shared machine and their ratios stay meaningful."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, fn_times in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            fn_times.append(time.perf_counter() - t0)
    return [min(fn_times) for fn_times in times]


def bench_gd_step(data, width: int, dtype: torch.dtype, repeats: int) -> tuple[float, float, float]:
    act = get_activation("erf")
    n, d = data.X_train.shape
    W, v = symmetric_init(width, d, rng_stream(0, "symmetric-init", d, width))
    params = make_params(W, v, dtype, "cpu")
    X = torch.as_tensor(data.X_train, dtype=dtype)
    y = torch.as_tensor(data.y_train, dtype=dtype)
    lr = 0.5

    def step():
        _, gW, gv = two_layer_loss_and_gradients(params, X, y, act)
        params.W.sub_(gW, alpha=lr)
        params.v.sub_(gv, alpha=lr)

    # The step's matmuls alone, in its layouts and on the same chunks:
    # Z = X_c W^T, f = A v, A^T r, and dL/dW^T += (r X_c)^T D (d x m).
    chunk = default_chunk_rows(width)
    W_T = params.W.T
    A = torch.randn(chunk, width, dtype=dtype)
    D = torch.randn(chunk, width, dtype=dtype)
    r = torch.randn(chunk, dtype=dtype)
    gW_T = torch.zeros(d, width, dtype=dtype)
    gv = torch.zeros(width, dtype=dtype)

    def matmuls():
        for start in range(0, n, chunk):
            Xc = X[start : start + chunk]
            rows = Xc.shape[0]
            Xc @ W_T
            torch.mv(A[:rows], params.v)
            gv.addmv_(A[:rows].T, r[:rows])
            gW_T.addmm_(Xc.T, D[:rows])

    # The activation's elementwise work alone: phi and phi' of every chunk of Z (plus a
    # copy of Z per chunk, as both() overwrites its input: a slight overestimate).
    Z = (X[:chunk] @ W_T) / math.sqrt(d)
    Z_tmp = torch.empty_like(Z)

    def elementwise():
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            act.both(Z_tmp[:rows].copy_(Z[:rows]))

    step_time, matmuls_time, elementwise_time = best_of_interleaved((step, matmuls, elementwise), repeats)
    return step_time, matmuls_time, elementwise_time


def bench_linear(data, steps_max: int, repeats: int) -> tuple[float, float]:
    moments = gaussian_moments(get_activation("erf"))
    F = gd_features(data.X_train, moments, 0.5, 0.5)
    steps = logged_steps(steps_max, 12)
    closed = best_of(lambda: linear_gd_closed_form(F, data.y_train, steps), repeats)
    t0 = time.perf_counter()
    linear_gd_iterate(F, data.y_train, steps)
    iterate = time.perf_counter() - t0
    return closed, iterate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--width", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = teacher_dataset(args.d, args.n, 2000, 5, seed=0)
    flops = 4 * args.n * args.d * args.width  # the two n x d x m products
    print(f"Figure 1 size: n={args.n}, d={args.d}, m={args.width}, threads={args.threads}")
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        step, mm, elementwise = bench_gd_step(data, args.width, dtype, args.repeats)
        print(
            f"  {name}: GD step {step * 1e3:7.2f} ms | its matmuls alone {mm * 1e3:7.2f} ms "
            f"({flops / mm / 1e9:5.1f} GFLOP/s) | step / matmuls = {step / mm:4.2f}  (target <= 2)"
            f" | phi, phi' alone {elementwise * 1e3:6.2f} ms"
        )
    closed, iterate = bench_linear(data, 10_000, max(1, args.repeats // 2))
    print(
        f"  linear model, 10^4 GD steps: closed form {closed * 1e3:7.2f} ms | iteration "
        f"{iterate * 1e3:8.1f} ms | speed-up = {iterate / closed:6.1f}x  (target >= 20)"
    )


if __name__ == "__main__":
    main()
