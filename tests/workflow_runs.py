"""Running the workflow from tests: a copy of the repository's workflow in a temporary
directory, and Snakemake on the preview config (plus overlay files) in it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a user's checkout holds for a run (`profiles` is the link through which Snakemake
# finds the default workflow profile; copied as a folder).
WORKFLOW_FILES = ("Snakefile", "workflow", "profiles", "scripts", "config", "src", "envs")


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def snakemake_command(*args, overlays=(), cores="2"):
    """The command line of Snakemake on the preview config (plus overlay files)."""
    cores_args = ["--cores", cores] if cores else []
    return [sys.executable, "-m", "snakemake", *cores_args, *args, "--configfile", "config/preview.yaml", *overlays]


def snakemake(workdir, *args, overlays=(), check=True, env=None, cores="2", timeout=1200):
    """Run snakemake on the preview config (plus overlay files) in ``workdir``."""
    cmd = snakemake_command(*args, overlays=overlays, cores=cores)
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def planned_jobs(proc):
    """Rule -> job count from the 'Job stats' table of a dry run."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    block = text.split("Job stats:")[1]
    return {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M) if m.group(1) != "total"
    }
