"""Time the SGD step of the deep networks of Figures 3/4 against its floor, and check the
cost estimate the workflow uses, at the configured scale.

    python benchmarks/bench_deep.py --threads 2 --steps 20
    python benchmarks/bench_deep.py --configfile config/preview.yaml --steps 50
    python benchmarks/bench_deep.py --device cuda --steps 200

One line per (data set, architecture) of the config's figures (or --datasets), on random
inputs of the data set's real shape and sizes (the timings do not depend on the values):

* step: one SGD update of the network and its linear model as the training loop runs it
  (``DeepSGDRecord.seconds_per_step``: batch gather, forward, backward, update, the linear
  model's update; logging and checkpoints excluded), after a warm-up run;
* floor: three forward passes of the same batch through the same network, measured in the
  same run (a step is a forward and a backward pass, about three forwards of work);
* logging: one logged step's evaluation of every train and test image, both models;
* estimate: the hours ``earlylin.deep.cost`` predicts for the whole job from its probe, against
  the hours these measurements give;
* step/floor = R (the target: at most 1.3 for the CNN, 1.5 for the FC net on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from earlylin.data import Dataset
from earlylin.deep.cost import job_cost, measure_flop_rate
from earlylin.deep.jobs import ARCHITECTURES, deep_job, figure_datasets
from earlylin.deep.networks import build_deep_network
from earlylin.deep.training import DeepSGDSettings, train_deep_sgd
from earlylin.devices import resolve_device
from earlylin.metrics import logged_steps

ROOT = Path(__file__).resolve().parents[1]


def deep_section(configfiles: list[str]) -> dict:
    """The config's deep section with the overlays merged (as Snakemake merges them)."""
    deep: dict = {}
    for path in [ROOT / "config" / "config.yaml", *configfiles]:
        _merge(deep, yaml.safe_load(open(path)).get("deep", {}))
    return deep


def _merge(base: dict, overlay: dict) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def random_data(job, rng: np.random.Generator) -> Dataset:
    X = rng.standard_normal((job.n_train + job.n_test, job.input_dim))
    y = np.sign(rng.standard_normal(len(X)))
    return Dataset(X[: job.n_train], y[: job.n_train], X[job.n_train :], y[job.n_train :], job.image_shape)


def three_forwards(network: torch.nn.Module, x: torch.Tensor, device: torch.device, repeats: int = 5) -> float:
    """Seconds of three forward passes of ``x`` (minimum over ``repeats``)."""
    times = []
    with torch.no_grad():
        network(x)
        for _ in range(repeats):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            for _ in range(3):
                network(x)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
    return min(times)


def bench(deep: dict, dataset: str, arch: str, steps: int, device: torch.device) -> str:
    job = deep_job(deep, dataset, arch, gpu=device.type == "cuda")
    data = random_data(job, np.random.default_rng(0))
    settings = DeepSGDSettings(
        lr=1e-3,
        logged_steps=(0, 1),
        seed=0,
        batch_size=job.batch_size,
        dtype=job.dtype,
        allow_tf32=job.allow_tf32,
        device=str(device),
        progress=False,
    )
    warm, coefficients = build_deep_network(job.network, job.input_dim, job.image_shape, 0, job.dtype)
    train_deep_sgd(warm, coefficients, data, settings)  # warm-up: kernel choice, allocation
    model, coefficients = build_deep_network(job.network, job.input_dim, job.image_shape, 0, job.dtype)
    timed = DeepSGDSettings(**{**settings.__dict__, "logged_steps": (0, steps)})
    record = train_deep_sgd(model, coefficients, data, timed)
    x = torch.as_tensor(data.X_train[: job.batch_size], dtype=model.network.readout.weight.dtype, device=device)
    floor = three_forwards(model.network, x.reshape(job.batch_size, *job.image_shape), device)
    n_logged = len(logged_steps(job.max_step, job.steps_per_decade))
    measured_hours = (
        record.seconds_per_step * job.max_step
        + record.seconds_per_log * n_logged
        + record.seconds.get("initial_outputs", 0.0)
    ) / 3600
    rate = measure_flop_rate(job, str(device))
    estimated_hours = job_cost(job, n_logged).hours(rate)
    return (
        f"{dataset:18s} {arch:3s} d={job.input_dim:5d} width {job.width:4d}: "
        f"step {record.seconds_per_step * 1e3:9.2f} ms, 3 forwards {floor * 1e3:9.2f} ms, "
        f"logging {record.seconds_per_log:7.3f} s per logged step; job: measured {measured_hours:7.3f} h, "
        f"estimated {estimated_hours:7.3f} h ({rate / 1e9:.0f} GFLOP/s, x{estimated_hours / measured_hours:.2f}); "
        f"step/floor = {record.seconds_per_step / floor:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", nargs="*", default=[], help="overlays on config/config.yaml")
    parser.add_argument("--steps", type=int, default=10, help="SGD steps timed per network (after a warm-up run)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto")
    parser.add_argument("--datasets", nargs="*", help="names under deep.datasets (default: those of the figures)")
    parser.add_argument("--archs", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    deep = deep_section(args.configfile)
    device = resolve_device(args.device)
    print(f"device {device}, threads {args.threads}, {deep['dtype']}, batch {deep['batch_size']}")
    for dataset in args.datasets or figure_datasets(deep):
        for arch in args.archs:
            print(bench(deep, dataset, arch, args.steps, device), flush=True)


if __name__ == "__main__":
    main()
