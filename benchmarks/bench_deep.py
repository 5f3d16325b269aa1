"""Time SGD steps of the deep networks of Figures 3/4 at the configured scale, on random
data of the real shapes, and compare with the FLOP-count estimate the workflow prints.

    python benchmarks/bench_deep.py --threads 2 --steps 5
    python benchmarks/bench_deep.py --device cuda --steps 50

Prints, per (data set, architecture): seconds per step, the achieved FLOP rate, the
projected hours for deep.max_step steps, and the ratio measured / estimated time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from earlylin.cost import ASSUMED_CPU_FLOPS, cnn_forward_flops, fc_forward_flops
from earlylin.deep_training import build_deep_network, train_deep_sgd
from earlylin.training import resolve_device

SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28), "digits": (1, 8, 8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(Path(__file__).parents[1] / "config" / "config.yaml"))
    parser.add_argument("--steps", type=int, default=5, help="SGD steps timed per network (after one warm-up)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto")
    parser.add_argument("--datasets", nargs="*", help="names under deep.datasets (default: those of fig3 and fig4)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    deep = yaml.safe_load(open(args.config))["deep"]
    device = resolve_device(args.device)
    batch = deep["batch_size"]
    print(f"device {device}, threads {args.threads}, batch {batch}, {deep['dtype']}")
    for name in args.datasets or sorted(set(deep["fig3"]) | set(deep["fig4"])):
        spec = deep["datasets"][name]
        c, h, w = SHAPES[spec["source"]]
        shape = (c, h // spec["pool"], w // spec["pool"])
        d = shape[0] * shape[1] * shape[2]
        rng = np.random.default_rng(0)
        X = rng.standard_normal((batch * (args.steps + 1), d))
        y = np.sign(rng.standard_normal(len(X)))
        for arch in ("fc", "cnn"):
            width = deep["fc"]["width"] if arch == "fc" else deep["cnn"]["channels"]
            model, coefficients = build_deep_network(
                arch, d, shape, depth=deep[arch]["depth"], width=width, seed=0,
                activation=deep["activation"], filter_size=deep["cnn"]["filter_size"], dtype=deep["dtype"],
            )
            run = dict(lr=1e-3, seed=0, batch_size=batch, image_shape=shape, device=device, dtype=deep["dtype"],
                       progress=False)
            train_deep_sgd(model, coefficients, X, y, X[:batch], steps=[0, 1], **run)  # warm-up
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            train_deep_sgd(model, coefficients, X, y, X[:1], steps=[0, args.steps], **run)
            if device.type == "cuda":
                torch.cuda.synchronize()
            per_step = (time.perf_counter() - start) / args.steps
            flops = 4 * batch * (fc_forward_flops(d, deep["fc"]["depth"], width) if arch == "fc"
                                 else cnn_forward_flops(shape, deep["cnn"]["depth"], width, deep["cnn"]["filter_size"]))
            hours = per_step * deep["max_step"] / 3600
            ratio = per_step / (flops / ASSUMED_CPU_FLOPS)
            print(f"{name:12s} {arch:3s} d={d:5d}: {per_step * 1e3:9.1f} ms/step, {flops / per_step / 1e9:7.1f} GFLOP/s, "
                  f"{hours:7.2f} h for {deep['max_step']} steps; measured / estimated time = {ratio:.2f}")


if __name__ == "__main__":
    main()
