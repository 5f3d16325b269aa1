"""Time the one training engine on the jobs a config defines, against the floor of a step, and
check the cost probe's estimate (the one the CPU guard uses) against what the job measures.

    python benchmarks/bench_engine.py --threads 2 --steps 20                       # Figures 3/4's jobs
    python benchmarks/bench_engine.py --experiment any_network --configfile config/preview.yaml
    python benchmarks/bench_engine.py --device cuda --steps 200
    python benchmarks/bench_engine.py --threads 2 --estimate-only                  # the probe alone

One line per job (data set x architecture of the deep figures, or data set x network of
fig_models; seed 0), on random inputs of the data set's real shape and sizes (the timings do
not depend on the values), the job shortened to ``--steps`` steps after a warm-up run:

* step: one SGD step of each model as the engine runs it (per model on the CPU; together on
  CUDA, where the engine does not synchronise between logged steps);
* floor: three forward passes of the same batch through the same network, measured in the
  same run (a step is a forward and a backward pass, about three forwards of work), and
  step/floor of the network's step;
* logging: one logged step (every model's outputs on every training and test input);
* estimate / measured: the probe's hours for the whole job (``training.cost``) against the
  hours these measurements give for it (steps, logging, setup as measured here).

``--estimate-only`` prints the probe's estimate of each job and its parts, as the CPU guard
logs it, without timing the job (seconds per job, even for jobs of many hours).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import yaml

from earlylin.core.devices import resolve_device
from earlylin.data.dataset import Dataset
from earlylin.experiments import any_network, deep
from earlylin.experiments.configuration import check_config
from earlylin.experiments.image_sets import dataset_entry, pooled_shape
from earlylin.networks.registry import build_model
from earlylin.training.cost import ProbeInputs, estimate_cost
from earlylin.training.job import TrainingJob
from earlylin.training.run import RunOptions, as_inputs, default_eval_rows, run

ROOT = Path(__file__).resolve().parents[1]


def load_config(configfiles: list[str]) -> dict:
    """config/config.yaml with the overlays merged (as Snakemake merges them), checked."""
    config: dict = {}
    for path in [ROOT / "config" / "config.yaml", *configfiles]:
        _merge(config, yaml.safe_load(open(path)))
    check_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml")
    return config


def _merge(base: dict, overlay: dict) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def jobs(config: dict, experiment: str) -> list[dict]:
    if experiment == "deep":
        names = deep.figure_datasets(config["deep"])
        return [deep.training_job(config, name, arch, 0) for name in names for arch in deep.ARCHITECTURES]
    section = config["models"]
    return [any_network.training_job(config, name, net, 0) for name in section["datasets"] for net in section["train"]]


def random_data(config: dict, name: str) -> Dataset:
    entry = dataset_entry(config["deep"], name)
    shape = pooled_shape(entry)
    n, n_test = entry["n_train"], entry["n_test"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n + n_test, int(np.prod(shape))))
    X *= np.sqrt(X.shape[1] / np.sum(X * X, axis=1, keepdims=True))  # normalised, as the image data sets are
    y = np.sign(rng.standard_normal(len(X)))
    return Dataset(X[:n], y[:n], X[n:], y[n:], shape)


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


def probe(full: TrainingJob, data: Dataset, device: torch.device):
    """The cost probe's estimate of the whole job (``training.cost``), as the CPU guard makes it."""
    network = build_model(full.network.spec(), data.input_shape, 0, torch.float32).to(device)
    eval_rows = default_eval_rows(network, max(len(data.X_train), len(data.X_test)))
    f64 = build_model(full.network.spec(), data.input_shape, 0, torch.float64)
    inputs = ProbeInputs(
        network,
        as_inputs(data.X_train, data.input_shape, torch.float32, device),
        as_inputs(data.X_test, data.input_shape, torch.float32, device),
        torch.as_tensor(data.y_train, dtype=torch.float32, device=device),
        f64,
    )
    return estimate_cost(full, inputs, eval_rows, data.input_shape)


def estimate_line(config: dict, job_dict: dict, device: torch.device) -> str:
    full = TrainingJob.from_dict(job_dict)
    start = time.perf_counter()
    estimate = probe(full, random_data(config, full.dataset), device)
    return (
        f"{full.dataset:18s} {full.network.name:10s} estimated {estimate.hours:.3f} h "
        f"({estimate.line()}; probe {time.perf_counter() - start:.1f} s)"
    )


def bench(config: dict, job_dict: dict, steps: int, device: torch.device) -> str:
    full = TrainingJob.from_dict(job_dict)
    data = random_data(config, full.dataset)
    short = replace(full, max_step=steps, steps_per_decade=1)
    options = RunOptions(device=str(device), progress=False)
    run(replace(short, max_step=2), data, options)  # warm-up: kernel choice, allocation
    measured = run(short, data, options)
    network = build_model(full.network.spec(), data.input_shape, 0, torch.float32).to(device)
    batch = as_inputs(data.X_train[: full.batch_size], data.input_shape, torch.float32, device)
    floor = three_forwards(network, batch, device)
    estimate = probe(full, data, device)
    phases = [p for p in measured.seconds if p.startswith("step_")] or ["sgd"]
    step = {p.removeprefix("step_"): measured.per_step(p) for p in phases}
    setup = sum(measured.seconds.get(p, 0.0) for p in ("kernel_fit", "exact_kernel", "movement", "initial_outputs"))
    hours = (full.max_step * sum(step.values()) + len(full.logged_steps) * measured.per_step("logging") + setup) / 3600
    network_step = step.get("network", step.get("sgd"))
    return (
        f"{full.dataset:18s} {full.network.name:10s} "
        + ", ".join(f"{name} {seconds * 1e3:.2f} ms" for name, seconds in step.items())
        + f"; 3 forwards {floor * 1e3:.2f} ms, step/floor = {network_step / floor:.2f}; "
        f"logging {measured.per_step('logging'):.3f} s per logged step; "
        f"job: measured {hours:.3f} h, estimated {estimate.hours:.3f} h "
        f"(estimate/measured {estimate.hours / hours:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", nargs="*", default=[], help="overlays on config/config.yaml")
    parser.add_argument("--experiment", choices=["deep", "any_network"], default="deep")
    parser.add_argument("--steps", type=int, default=10, help="SGD steps timed per job (after a warm-up run)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto")
    parser.add_argument("--estimate-only", action="store_true", help="print the probe's estimates, time no job")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config(args.configfile)
    device = resolve_device(args.device)
    print(f"device {device}, threads {args.threads}, experiment {args.experiment}, {args.steps} steps timed")
    for job_dict in jobs(config, args.experiment):
        line = (
            estimate_line(config, job_dict, device)
            if args.estimate_only
            else bench(config, job_dict, args.steps, device)
        )
        print(line, flush=True)


if __name__ == "__main__":
    main()
