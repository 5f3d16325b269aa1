"""A signal always ends a run: SIGTERM (what `timeout` and a cluster's login node send) and
SIGINT (Ctrl-C), sent to a running preview at several moments (while the DAG is built and
the first jobs are picked, and while jobs run), end Snakemake within a bounded time, leave
no lock and no job process behind, and the next run resumes where the run stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest
from workflow_runs import copy_workflow, planned_jobs, snakemake

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
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "figures", "--configfile", "config/preview.yaml"]
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
