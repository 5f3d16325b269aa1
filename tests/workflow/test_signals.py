"""A signal always ends a run: SIGTERM (what `timeout` and a cluster's login node send) and
SIGINT (Ctrl-C), sent to a running preview at several moments (while the DAG is built and
the first jobs are picked, and while jobs run), end Snakemake within a bounded time, leave
no lock and no job process behind, and the next run resumes where the run stopped."""

from __future__ import annotations

import signal
import subprocess
import time

import psutil
import pytest
import torch
from workflow_runs import copy_workflow, planned_jobs, snakemake, snakemake_command

pytestmark = pytest.mark.workflow

# Seconds after the start at which the signal arrives: during parsing and job selection,
# as the first jobs start, and with several jobs running.
MOMENTS = (2.0, 6.0, 15.0)
# Snakemake asks its jobs to stop and waits for them; a deep training job first writes a
# checkpoint at its next step boundary.
BOUND = 60.0


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("signals"))


def _interrupt(work, sig, moment):
    cmd = snakemake_command("figures")
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(moment)
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(sig)
    start = time.monotonic()
    try:
        output, _ = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"{sig.name} at {moment} s: Snakemake still running {BOUND} s later:\n{output[-3000:]}")
    return proc.returncode, time.monotonic() - start, children, output


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_run_without_a_lock(work, sig, moment):
    code, seconds, children, output = _interrupt(work, sig, moment)
    assert code != 0 or "Nothing to be done" in output or "steps (100%) done" in output, output[-2000:]
    assert seconds < BOUND
    locks = work / ".snakemake" / "locks"
    assert not locks.exists() or not any(locks.iterdir()), f"lock left after {sig.name}"
    time.sleep(1.0)
    alive = [pid for pid in children if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, f"job processes {alive} survived {sig.name} at {moment} s"


def test_the_next_run_resumes(work, tmp_path):
    """After the interrupted runs, a plain rerun needs no --unlock, keeps what finished and
    completes (a cheap target here: Figure 2's chain)."""
    from_scratch = planned_jobs(snakemake(copy_workflow(tmp_path / "fresh"), "figures", "-n"))
    left = planned_jobs(snakemake(work, "figures", "-n"))
    assert 0 < sum(left.values()) < sum(from_scratch.values())
    snakemake(work, "fig2")
    assert planned_jobs(snakemake(work, "fig2", "-n")) == {}


def test_sigterm_ends_a_run_whose_job_trains_for_hours(work):
    """Snakemake alone would wait for a running job on SIGTERM ("will exit after finishing
    currently running jobs"): a deep training job of hours would keep the run alive. The
    signal reaches the job, which checkpoints at its next step and stops; the run ends at
    once, without a lock, and a rerun resumes from the checkpoint."""
    (work / "long.yaml").write_text("results_dir: results/long\ndeep: {max_step: 1000000, checkpoint_minutes: 60}\n")
    target = "results/long/deep/mnist01_7x7/fc_seed0_losses.parquet"
    cmd = snakemake_command(target, overlays=["long.yaml"])
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = work / "results" / "long" / "logs" / "train_deep" / "mnist01_7x7_fc_seed0.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and "SGD" in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, "the training job did not start"
        time.sleep(0.5)
    time.sleep(3.0)  # a few hundred steps into 10^6
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    output, _ = proc.communicate(timeout=BOUND)
    assert time.monotonic() - start < BOUND and proc.returncode != 0, output[-2000:]
    locks = work / ".snakemake" / "locks"
    assert not locks.exists() or not any(locks.iterdir())
    checkpoint = torch.load(
        work / "results" / "long" / "deep" / "mnist01_7x7" / "fc_seed0.checkpoint.pt", weights_only=True
    )
    assert checkpoint["kind"] == "in_progress" and 0 < checkpoint["step"] < 1_000_000
    assert "SIGTERM" in log.read_text()  # the job says why it stopped
