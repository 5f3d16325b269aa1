"""The SLURM profile against a real SLURM: a one-node cluster on this machine.

A small target of the preview configuration (Figure 1's chain for d = 10: data, network,
linear model, comparison) goes through ``profiles/slurm`` and Snakemake's SLURM executor
plugin; every job must have gone through ``sbatch`` and its tables must equal a local
run's. A job that fails on the cluster fails the run with its rule named, and an
interrupted run cancels its SLURM jobs.

Needs Debian's slurm-wlm and munge (``.ci/install-slurm``) and root; skipped otherwise.
The cluster has no slurmdbd, so the plugin queries ``squeue`` (``MinJobAge=600`` keeps
finished jobs visible to it) instead of ``sacct``. Every Snakemake call is bounded by a
timeout so that a hung status loop cannot eat CI's time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from slurm_cluster import one_node_cluster, unavailable_reason
from workflow_runs import copy_workflow, snakemake

pytestmark = pytest.mark.workflow

REASON = unavailable_reason()
if REASON:
    pytest.skip(f"real-SLURM test skipped: {REASON}", allow_module_level=True)
pytest.importorskip("snakemake_executor_plugin_slurm")

TARGET = "results/preview/fig1/discrepancy_d10_seed0.parquet"
# Training goes through sbatch; drawing the data and comparing are localrules (seconds of
# work each), which run where Snakemake runs.
RULES = {"train_two_layer"}  # the network and its linear model, in one job
LOCAL_RULES = {"teacher_data", "compare_fig1"}
# The test cluster has no GPU and no accounting database; everything else is the profile's.
CLUSTER_ARGS = (
    "--workflow-profile",
    "profiles/slurm",
    "--config",
    "device=cpu",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
)
TIMEOUT = 420


@pytest.fixture(scope="module")
def cluster_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("slurm")


@pytest.fixture(scope="module")
def cluster(cluster_dir):
    with one_node_cluster(cluster_dir) as env:
        yield env


@pytest.fixture(scope="module")
def cluster_run(cluster, tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("on_slurm"))
    proc = snakemake(
        work,
        *CLUSTER_ARGS,
        "--slurm-keep-successful-logs",
        "--verbose",
        TARGET,
        cores=None,
        env=cluster,
        timeout=TIMEOUT,
    )
    return work, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("local"))
    snakemake(work, TARGET, "--config", "device=cpu")
    return work


def submissions(text):
    """(Snakemake job id, SLURM job id, rule) of every job the plugin submitted."""
    pattern = r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: .*?/rule_(\w+)/"
    return [(int(a), int(b), rule) for a, b, rule in re.findall(pattern, text)]


def squeue(env, *args):
    return subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, env=env, check=True).stdout


def test_every_training_job_goes_through_sbatch_and_light_jobs_run_locally(cluster_run, cluster_dir):
    work, text = cluster_run
    jobs = submissions(text)
    assert {rule for _, _, rule in jobs} == RULES and len(jobs) == len(RULES), text[-3000:]
    assert set(re.findall(r"^localrule (\w+):", text, re.M)) == LOCAL_RULES
    total = len(RULES) + len(LOCAL_RULES)
    assert f"{total} of {total} steps (100%) done" in text
    controller_log = (cluster_dir / "slurmctld.log").read_text()
    accepted = {int(m) for m in re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", controller_log)}
    assert {slurm_id for _, slurm_id, _ in jobs} <= accepted, controller_log[-3000:]
    # The submitted resources are the rules': memory, runtime, the rule's threads as
    # CPUs, and no GPU on a CPU device.
    calls = dict(re.findall(r"sbatch call: sbatch .*?--comment rule_(\w+?)_wildcards\S* (.*?) --wrap", text))
    assert set(calls) == RULES
    threads = yaml.safe_load((work / "config" / "preview.yaml").read_text())["train_threads"]
    assert f"--cpus-per-task={threads}" in calls["train_two_layer"] and "--mem 4000" in calls["train_two_layer"]
    assert "-t 120" in calls["train_two_layer"]
    assert not any("--gpus" in call for call in calls.values())
    for _, slurm_id, rule in jobs:  # each job's SLURM log shows the rule ran on the node
        log = next((work / ".snakemake" / "slurm_logs" / f"rule_{rule}").rglob(f"{slurm_id}.log")).read_text()
        assert "Job is running on host" in log and f"rule {rule}:" in log


def test_outputs_equal_a_local_run(cluster_run, local_run):
    work, _ = cluster_run
    tables = sorted((local_run / "results" / "preview").rglob("*.parquet"))
    assert len(tables) == 6  # network losses/outputs, linear losses/outputs, discrepancy, logits
    for path in tables:
        on_cluster = work / path.relative_to(local_run)
        pd.testing.assert_frame_equal(pd.read_parquet(on_cluster), pd.read_parquet(path), check_exact=True)
    data = "results/preview/fig1/data_d10_seed0.npz"
    with np.load(work / data) as a, np.load(local_run / data) as b:
        assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)


def test_failed_cluster_job_fails_the_run_naming_the_rule(cluster_run, cluster):
    work, _ = cluster_run
    data = work / "results" / "preview" / "fig1" / "data_d10_seed0.npz"
    original, stat = data.read_bytes(), data.stat()
    try:
        data.write_bytes(b"not an npz archive")  # newer than the tables: the jobs rerun and fail
        proc = snakemake(work, *CLUSTER_ARGS, TARGET, cores=None, env=cluster, timeout=TIMEOUT, check=False)
        text = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert {rule for _, _, rule in submissions(text)} == RULES
        # The job that reads the file fails naming it and moves it aside (the next run
        # regenerates it and reruns every job that reads it).
        assert "Error in rule train_two_layer" in text and "SLURM-job" in text and "FAILED" in text
        assert "cannot read npz file results/preview/fig1/data_d10_seed0.npz" in text
        assert data.with_name(data.name + ".corrupt").exists()
        # A failed job leaves no half-written output behind.
        for table in ("network_losses", "linear_losses"):
            assert not (work / "results" / "preview" / "fig1" / f"{table}_d10_seed0.parquet").exists()
    finally:
        data.with_name(data.name + ".corrupt").unlink(missing_ok=True)
        data.write_bytes(original)
        os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_interrupted_run_cancels_its_slurm_jobs(cluster_run, cluster):
    work, _ = cluster_run
    (work / "long.yaml").write_text("fig1:\n  max_step: 100000000\n")  # hours of training
    output = "results/preview/fig1/network_losses_d10_seed0.parquet"
    cmd = [sys.executable, "-m", "snakemake", *CLUSTER_ARGS, output, "--configfile", "config/preview.yaml", "long.yaml"]
    # Ctrl-C reaches a Snakemake whose SIGINT has its default action, whatever this test
    # process inherited: an ignored SIGINT is passed on to children and Snakemake then never
    # sees the interrupt (as in the full test run on CI).
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=cluster,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 180
        while not re.search(r"rule_train_two_layer\S* RUNNING", squeue(cluster, "-o", "%k %T")):
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the training job never started on the cluster"
            time.sleep(1)
        time.sleep(3)  # the job's own Snakemake is up and training
        proc.send_signal(signal.SIGINT)
        # Snakemake notices the interrupt at its next pass over the cluster jobs, which
        # took from under a minute to two minutes on a 2-core CI machine.
        text, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    deadline = time.monotonic() + 30
    while squeue(cluster).strip() and time.monotonic() < deadline:
        time.sleep(1)
    assert squeue(cluster).strip() == "", "jobs still queued or running after the interrupt"
    states = squeue(cluster, "--states=all", "-o", "%k %T")
    assert re.search(r"rule_train_two_layer\S* CANCELLED", states), states
    assert not (work / output).exists()
