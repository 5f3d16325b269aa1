"""A one-node SLURM cluster on localhost, for the workflow's real-SLURM test.

Debian's ``slurm-wlm`` and ``munge`` packages provide the daemons (``.ci/install-slurm``
installs them). There is no systemd on a CI machine, so the daemons are started
directly: ``munged`` as the munge user, then ``slurmctld`` and ``slurmd`` in the
foreground as child processes of the test. The configuration (free ports, state and logs
in a temporary directory) goes where every SLURM command looks for it,
``/etc/slurm/slurm.conf``: the executor plugin's job step drops ``SLURM_CONF`` from the
environment of its inner ``srun``. So the test runs only where no SLURM configuration
exists yet (a CI machine), and removes its own when done.

Choices that make a daemon-only cluster work without cgroups or accounting:
``proctrack/linuxproc`` with ``task/affinity`` (``task/none`` makes every job print a
CPU-binding warning); no slurmdbd, so ``sacct`` is unavailable and clients must query
``squeue``, which keeps finished jobs visible for ``MinJobAge`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")


SLURM_CONF = Path("/etc/slurm/slurm.conf")
OURS = "# one-node test cluster of the early-linear workflow tests (removed after the test)\n"


def unavailable_reason() -> str | None:
    """Why a one-node cluster cannot be started here (None when it can)."""
    missing = [name for name in DAEMONS if _which(name) is None]
    if missing:
        return (
            f"SLURM is not installed (missing: {', '.join(missing)}); install Debian's "
            "slurm-wlm and munge packages, e.g. with .ci/install-slurm (needs root)"
        )
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd/munged needs root (the CI machine runs as root)"
    if subprocess.run(["pgrep", "-x", "slurmctld"], capture_output=True).returncode == 0:
        return "a slurmctld is already running on this machine; not starting a second cluster"
    if SLURM_CONF.exists() and not SLURM_CONF.read_text().startswith(OURS):
        return f"{SLURM_CONF} exists (a configured SLURM); the test cluster would replace it"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _node_line() -> str:
    """This machine as a SLURM node (CPUs, sockets, cores, memory), from ``slurmd -C``."""
    out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].strip()


def write_config(directory: Path) -> Path:
    """slurm.conf for one node (this host) and one default partition ``debug``."""
    node = _node_line()
    host = node.split()[0].split("=", 1)[1]
    for sub in ("state", "spool"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(
        OURS
        + f"""\
ClusterName=earlylin-test
SlurmctldHost={host}
SlurmUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={directory}/state
SlurmdSpoolDir={directory}/spool
SlurmctldPidFile={directory}/slurmctld.pid
SlurmdPidFile={directory}/slurmd.pid
SlurmctldLogFile={directory}/slurmctld.log
SlurmdLogFile={directory}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
{node} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    )
    return SLURM_CONF


def ensure_munged() -> None:
    """Start munged as the munge user unless a working one answers already."""
    if _munge_works():
        return
    run_dir = Path("/run/munge")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(run_dir, "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", _which("munged")], check=True)
    for _ in range(50):
        if _munge_works():
            return
        time.sleep(0.1)
    raise RuntimeError("munged started but `munge -n | unmunge` still fails")


def _munge_works() -> bool:
    munge, unmunge = shutil.which("munge"), shutil.which("unmunge")
    if not (munge and unmunge):
        return False
    cred = subprocess.run([munge, "-n"], capture_output=True)
    return cred.returncode == 0 and subprocess.run([unmunge], input=cred.stdout, capture_output=True).returncode == 0


def _wait_for_idle_node(env: dict[str, str], timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env)
        state = proc.stdout.strip()
        if proc.returncode == 0 and state in ("idle", "mixed", "allocated"):
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {p}\n{p.read_text()[-3000:] if p.exists() else '(missing)'}" for p in logs)
    raise RuntimeError(f"the SLURM node did not come up within {timeout:.0f} s (sinfo: {state!r})\n{tails}")


@contextlib.contextmanager
def one_node_cluster(directory: Path, timeout: float = 60.0):
    """Run slurmctld + slurmd for the duration of the block; yields the client environment."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = write_config(directory)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    ensure_munged()
    daemons = []
    try:
        for name in ("slurmctld", "slurmd"):
            log = open(directory / f"{name}.stdout", "w")
            daemons.append(
                subprocess.Popen([_which(name), "-D", "-f", str(conf)], env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        _wait_for_idle_node(env, timeout, [directory / "slurmctld.log", directory / "slurmd.log"])
        yield env
    finally:
        subprocess.run(["scancel", "--full", "--user", "root"], env=env, capture_output=True)
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        conf.unlink(missing_ok=True)
