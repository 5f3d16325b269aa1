"""Benchmark of the Figure 5 kernel formation against the GEMM floor.

Run by hand on a quiet machine:
    python benchmarks/bench_fig5_kernel.py [--n 10000] [--m 20000] [--d 100] [--threads 2]
        [--dtype float64] [--compute-dtype float32]

Prints the GEMM rate measured in this run (the peak of square products of the kernel's
slab sizes), the time to form sum_r phi'(z_r) phi'(z_r)^T (Theta1's Gram matrix, one
n x n symmetric product over m hidden units, activations included), the floor
n^2 m / peak (n^2 m flops: the symmetric half of the 2 n^2 m of a full product), their
ratio (target <= 2), and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from earlylin.core.activations import get_activation
from earlylin.core.seeds import rng_stream
from earlylin.experiments.two_layer.kernels import hidden_unit_grams
from earlylin.experiments.two_layer.networks import symmetric_init


def gemm_rate(n: int, chunk: int, dtype: torch.dtype, repeats: int = 3) -> float:
    """Best flop rate (2 k m n flops per product) of (b x chunk) @ (chunk x b) products."""
    b = min(n, 2048)
    A = torch.randn(b, chunk, dtype=dtype)
    B = torch.randn(chunk, b, dtype=dtype)
    C = torch.zeros(b, b, dtype=dtype)
    C.addmm_(A, B)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(4):
            C.addmm_(A, B)
        best = min(best, (time.perf_counter() - t0) / 4)
    return 2.0 * b * b * chunk / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--m", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="accumulation precision")
    parser.add_argument(
        "--compute-dtype", choices=["float32", "float64"], default="float32", help="precision of the slab products"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtypes = {"float32": torch.float32, "float64": torch.float64}
    dtype, compute_dtype = dtypes[args.dtype], dtypes[args.compute_dtype]

    X = torch.as_tensor(rng_stream(0, "kernel-inputs", args.d, args.n).standard_normal((args.n, args.d)), dtype=dtype)
    W, v = symmetric_init(args.m, args.d, rng_stream(0, "symmetric-init", args.d, args.m))
    W, v = torch.as_tensor(W, dtype=dtype), torch.as_tensor(v, dtype=dtype)
    act = get_activation("erf")

    peak = gemm_rate(args.n, args.chunk, compute_dtype)
    t0 = time.perf_counter()
    hidden_unit_grams(
        X, W, v, act, first=True, second=False, dtype=dtype, compute_dtype=compute_dtype, chunk_units=args.chunk
    )
    formation = time.perf_counter() - t0
    floor = args.n**2 * args.m / peak  # n^2 m flops: the symmetric half of 2 n^2 m
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"n={args.n}, m={args.m}, d={args.d}, accumulate {args.dtype}, products {args.compute_dtype}, "
        f"threads={args.threads}, chunk={args.chunk}"
    )
    print(f"  GEMM rate in this run ({args.compute_dtype}): {peak / 1e9:6.1f} GFLOP/s")
    print(
        f"  Theta1 Gram formation: {formation:7.2f} s | GEMM floor n^2 m / peak {floor:7.2f} s | "
        f"ratio {formation / floor:4.2f}  (target <= 2)"
    )
    print(f"  peak resident memory: {rss_gb:5.2f} GB")


if __name__ == "__main__":
    main()
