"""Fault injection: the workflow broken the way users break it. Killed and interrupted runs
lose no finished work, corrupt intermediates are named and regenerated, and numbers in
every spelling a config can carry them work or are refused before any job starts."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from workflow_runs import copy_workflow, planned_jobs, snakemake, snakemake_command

pytestmark = pytest.mark.workflow

DEEP_TARGET = "results/{name}/deep/mnist01_7x7/fc_seed0_{table}.parquet"
TABLES = ("losses", "outputs", "discrepancy")
NETWORK_TARGET = "results/{name}/any_network/mnist01_7x7/fc_seed0_{table}.parquet"
NETWORK_TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")
# A preview FC job long enough to be interrupted (about 2,000 steps of a few ms), with a
# checkpoint every 0.3 s; and the same for fig_models' FC net beside its three models.
LONG_DEEP = "deep:\n  max_step: 2000\n  checkpoint_minutes: 0.005\n"
LONG_MODELS = "models:\n  max_step: 1500\n  checkpoint_minutes: 0.005\n  train: [fc]\n"
FIG1_D20 = "results/uninterrupted/fig1/discrepancy_d20_seed0.parquet"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("faults"))
    for name in ("uninterrupted", "killed", "orphan", "sigint", "network_killed"):
        (work / f"{name}.yaml").write_text(f"results_dir: results/{name}\n{LONG_DEEP}{LONG_MODELS}")
    targets = [*_deep_targets("uninterrupted"), *_network_targets("uninterrupted"), FIG1_D20]
    snakemake(work, *targets, overlays=["uninterrupted.yaml"])
    return work


def _deep_targets(name):
    return [DEEP_TARGET.format(name=name, table=table) for table in TABLES]


def _network_targets(name):
    return [NETWORK_TARGET.format(name=name, table=table) for table in NETWORK_TABLES]


def _start(work, name, targets=None):
    """Snakemake in its own session (a process group, as in a terminal) for the deep job."""
    cmd = snakemake_command(*(targets or _deep_targets(name)), overlays=[f"{name}.yaml"])
    return subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_for(predicate, timeout=240, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _checkpoint(work, name, stage="deep"):
    return work / "results" / name / stage / "mnist01_7x7" / "fc_seed0.checkpoint.pt"


def _in_progress(work, name, stage="deep"):
    import torch

    path = _checkpoint(work, name, stage)
    try:
        payload = torch.load(path, weights_only=True)
    except Exception:
        return False
    return payload["kind"] == "in_progress" and payload["step"] > 50


def _job_processes(work):
    """PIDs of train_deep script processes running in ``work``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        training = "train_deep" in cmdline or "train_any_network" in cmdline
        if cwd.startswith(str(work)) and training and "snakemake" not in cmdline.split("\0")[0]:
            found.append(int(pid))
    return found


def _assert_tables_equal_uninterrupted(work, name):
    for table in TABLES:
        got = pd.read_parquet(work / DEEP_TARGET.format(name=name, table=table))
        expected = pd.read_parquet(work / DEEP_TARGET.format(name="uninterrupted", table=table))
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def _log(work, name):
    return (work / "results" / name / "logs" / "train_deep" / "mnist01_7x7_fc_seed0.log").read_text()


def test_sigkill_of_snakemake_and_its_job_resumes_from_the_checkpoint(work):
    """kill -9 of the whole process group mid-training: the rerun (after --unlock) resumes
    from the last checkpoint, not from step 0, and ends with the uninterrupted tables."""
    proc = _start(work, "killed")
    _wait_for(lambda: _in_progress(work, "killed"), what="a checkpoint")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not _job_processes(work), what="the job to die")
    snakemake(work, "--unlock", *_deep_targets("killed"), overlays=["killed.yaml"])
    snakemake(work, *_deep_targets("killed"), overlays=["killed.yaml"])
    log = _log(work, "killed")
    assert "resuming from checkpoint" in log and "at step 0" not in log.split("resuming from checkpoint")[1][:200]
    _assert_tables_equal_uninterrupted(work, "killed")


def test_a_killed_fig_models_job_resumes_bitwise(work):
    """kill -9 of the whole process group while fig_models' FC net trains beside its
    linearised network, its fitted linear model and its exact-kernel model: the rerun resumes
    every model from the checkpoint and writes tables bitwise equal to an uninterrupted
    run's (the timing columns aside)."""
    targets = _network_targets("network_killed")
    proc = _start(work, "network_killed", targets)
    _wait_for(lambda: _in_progress(work, "network_killed", "any_network"), what="a checkpoint")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not _job_processes(work), what="the job to die")
    snakemake(work, "--unlock", *targets, overlays=["network_killed.yaml"])
    snakemake(work, *targets, overlays=["network_killed.yaml"])
    log = (work / "results" / "network_killed" / "logs" / "train_any_network" / "mnist01_7x7_fc_seed0.log").read_text()
    assert "resuming from checkpoint" in log
    for table in NETWORK_TABLES:
        got = pd.read_parquet(work / NETWORK_TARGET.format(name="network_killed", table=table))
        expected = pd.read_parquet(work / NETWORK_TARGET.format(name="uninterrupted", table=table))
        timing = [c for c in got.columns if c.startswith("seconds_")]
        pd.testing.assert_frame_equal(got.drop(columns=timing), expected.drop(columns=timing), check_exact=True)


def test_sigkill_of_snakemake_alone_lets_the_orphan_finish_and_the_rerun_reuses_it(work):
    """kill -9 of the snakemake process only: the job finishes as an orphan; Snakemake marks
    its outputs incomplete and the rerun deletes them, but the job rebuilds its tables from
    the finished record in seconds instead of training from step 0."""
    proc = _start(work, "orphan")
    _wait_for(lambda: _in_progress(work, "orphan"), what="a checkpoint")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not _job_processes(work), what="the orphaned job to finish")
    assert all((work / target).exists() for target in _deep_targets("orphan"))
    snakemake(work, "--unlock", *_deep_targets("orphan"), overlays=["orphan.yaml"])
    proc = snakemake(work, *_deep_targets("orphan"), overlays=["orphan.yaml"])
    assert "train_deep" in proc.stdout + proc.stderr  # it was rerun (outputs incomplete) ...
    log = _log(work, "orphan")
    assert "tables rebuilt from the finished run" in log and "SGD fc" not in log  # no training
    _assert_tables_equal_uninterrupted(work, "orphan")


def test_ctrl_c_saves_a_checkpoint_that_the_rerun_resumes(work):
    """SIGINT to the process group (Ctrl-C in a terminal): the job saves its state at the
    next step boundary and stops; the rerun continues from there."""
    proc = _start(work, "sigint")
    _wait_for(lambda: _in_progress(work, "sigint"), what="a checkpoint")
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    _wait_for(lambda: not _job_processes(work), what="the job to stop")
    log = _log(work, "sigint")
    assert "training stopped after step" in log and "(SIGINT)" in log
    snakemake(work, "--unlock", *_deep_targets("sigint"), overlays=["sigint.yaml"], check=False)
    snakemake(work, *_deep_targets("sigint"), overlays=["sigint.yaml"])
    assert "resuming from checkpoint" in _log(work, "sigint")
    _assert_tables_equal_uninterrupted(work, "sigint")


# What Figure 1 reads for d = 10: both models' losses and their discrepancy.
FIG1_CHAIN = [
    f"results/corrupt/fig1/{name}_d10_seed0.parquet" for name in ("network_losses", "linear_losses", "discrepancy")
]


@pytest.mark.parametrize(
    "victim, kind, reader",
    [
        ("fig1/data_d10_seed0.npz", "npz", "train_two_layer"),
        ("fig1/network_outputs_d10_seed0.parquet", "parquet", "compare_fig1"),
    ],
)
def test_a_corrupt_intermediate_is_named_and_regenerated_by_the_next_run(work, victim, kind, reader):
    # a small Figure 1 (the files' roles, not their size, matter here)
    (work / "corrupt.yaml").write_text(
        "results_dir: results/corrupt\nfig1: {n_train: 1000, n_test: 200, max_step: 100, d_sweep: [10]}\n"
    )
    snakemake(work, *FIG1_CHAIN, overlays=["corrupt.yaml"])
    path = work / "results" / "corrupt" / victim
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # outputs follow the umask
    proc = snakemake(work, *FIG1_CHAIN, "--forcerun", reader, overlays=["corrupt.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"cannot read {kind} file results/corrupt/{victim}" in text and "moved aside to" in text
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    snakemake(work, *FIG1_CHAIN, overlays=["corrupt.yaml"])  # regenerates the file, then the rest
    assert path.exists() and all((work / target).exists() for target in FIG1_CHAIN)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    "overlay, cli",
    [
        ("fig1:\n  width: 256.0\n  d: 50.0\n  d_sweep: [10.0, 20, 50]\n", ()),  # whole floats
        ("fig1:\n  lr: 5e-1\n", ()),  # YAML reads 5e-1 (no dot) as a string
        ("", ("--config", "fig1={lr: 0.5, width: 256}")),  # nested values arrive as strings
    ],
)
def test_numbers_in_any_spelling_mean_the_same_config(work, overlay, cli):
    """Each spelling equals the preview's own values: on finished results nothing is
    planned (same file names, d20 not d20.0; same params)."""
    (work / "numbers.yaml").write_text("results_dir: results/uninterrupted\n" + LONG_DEEP + overlay)
    proc = snakemake(work, *_deep_targets("uninterrupted"), FIG1_D20, "--dry-run", *cli, overlays=["numbers.yaml"])
    assert planned_jobs(proc) == {}, proc.stdout + proc.stderr
    assert "d20.0" not in proc.stdout + proc.stderr


def test_a_fractional_integer_is_refused_before_any_job(work):
    (work / "bad.yaml").write_text("fig1:\n  width: 256.5\n")
    proc = snakemake(work, "fig1", overlays=["bad.yaml"], check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "fig1.width" in text and "256.5" in text
    assert "rule " not in text  # nothing was scheduled


def test_the_uninterrupted_reference_is_deterministic(work):
    """The reference the fault tests compare with is itself reproducible: the same job in
    a fresh results folder gives the same tables."""
    (work / "again.yaml").write_text(f"results_dir: results/again\n{LONG_DEEP}")
    snakemake(work, *_deep_targets("again"), overlays=["again.yaml"])
    for table in TABLES:
        a = pd.read_parquet(work / DEEP_TARGET.format(name="again", table=table))
        b = pd.read_parquet(work / DEEP_TARGET.format(name="uninterrupted", table=table))
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert np.isnan(
        pd.read_parquet(work / DEEP_TARGET.format(name="again", table="discrepancy")).query(
            "metric == 'relative_mse' and step == 0"
        )["value"]
    ).all()
