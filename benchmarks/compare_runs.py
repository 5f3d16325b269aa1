"""Run the workflow at two revisions on the same config and compare every table they write.

    python benchmarks/compare_runs.py --old <revision> [--configfile config/preview.yaml] [targets ...]
    python benchmarks/compare_runs.py --compare OLD_RESULTS NEW_RESULTS [--exclude '^preview/']

The first form checks the old revision out with ``git worktree`` (its own Snakefile and
package), copies this checkout's workflow beside it, runs Snakemake in both with the same
config files and targets, and compares; the second compares two result folders already
written. Every parquet table (and every .npz data set) of the old run is matched to the new
run's file of the same content (``RENAMED``: result folders renamed since), and each is
reported as

* ``bitwise``: the same columns, rows and values, bit for bit;
* ``rounding``: numbers differ, by at most the stated absolute and relative difference;
* ``differs``: other columns, rows or non-numeric values (named).

Columns of wall-clock time (``seconds_*``) are not compared. Exit status 1 when a table is
missing or differs beyond rounding (relative difference above ``--rtol``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "scripts", "config", "src", "envs", "examples")
# (old path pattern, new path): result files whose folder or name changed.
RENAMED = (
    (r"^data/teacher_d(\d+)_seed(\d+)\.npz$", r"fig1/data_d\1_seed\2.npz"),
    (r"^deep/data/(.+)\.npz$", r"images/\1.npz"),
    (r"^models/(.+)$", r"any_network/\1"),
    (r"^data/(.+\.parquet)$", r"any_data/\1"),
)
IGNORED_COLUMNS = re.compile(r"^seconds_")


PREVIEW = "preview/"


def new_name(relative: str) -> str:
    """The new path of an old result file; the preview's folders (``preview/...``) moved alike."""
    prefix = PREVIEW if relative.startswith(PREVIEW) else ""
    rest = relative[len(prefix) :]
    for pattern, replacement in RENAMED:
        if re.match(pattern, rest):
            return prefix + re.sub(pattern, replacement, rest)
    return relative


def _frames(old: Path, new: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    if old.suffix == ".npz":
        with np.load(old) as a, np.load(new) as b:
            return {k: a[k] for k in a.files}, {k: b[k] for k in b.files}
    a, b = pd.read_parquet(old), pd.read_parquet(new)
    keep = [c for c in a.columns if not IGNORED_COLUMNS.match(c)]
    return {c: a[c].to_numpy() for c in keep}, {c: b[c].to_numpy() for c in b.columns if not IGNORED_COLUMNS.match(c)}


def compare_file(old: Path, new: Path) -> tuple[str, float, float, str]:
    """(verdict, largest absolute difference, largest relative difference, detail)."""
    a, b = _frames(old, new)
    if set(a) != set(b):
        return "differs", np.nan, np.nan, f"columns {sorted(set(a) ^ set(b))} in one only"
    worst_abs = worst_rel = 0.0
    for name in a:
        x, y = a[name], b[name]
        if x.shape != y.shape:
            return "differs", np.nan, np.nan, f"{name}: shape {x.shape} vs {y.shape}"
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            same_nan = np.array_equal(np.isnan(x), np.isnan(y))
            if not same_nan:
                return "differs", np.nan, np.nan, f"{name}: NaN in other places"
            finite = ~np.isnan(x)
            diff = np.abs(x[finite] - y[finite])
            if diff.size:
                worst_abs = max(worst_abs, float(diff.max()))
                scale = np.maximum(np.abs(x[finite]), np.abs(y[finite]))
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(scale > 0, diff / scale, 0.0)
                worst_rel = max(worst_rel, float(rel.max()))
        elif not np.array_equal(x, y):
            return "differs", np.nan, np.nan, f"{name}: values differ"
    return ("bitwise" if worst_abs == 0.0 else "rounding"), worst_abs, worst_rel, ""


def compare(old_root: Path, new_root: Path, rtol: float, exclude: str | None = None) -> int:
    """Compare every table of ``old_root`` (less the paths matching ``exclude``, a regular
    expression) with its counterpart in ``new_root``; print one line each and a summary."""
    files = sorted(p for p in old_root.rglob("*") if p.suffix in (".parquet", ".npz"))
    if exclude:
        files = [p for p in files if not re.search(exclude, str(p.relative_to(old_root)))]
    if not files:
        print(f"no table under {old_root} to compare")
        return 1
    status, counts = 0, {"bitwise": 0, "rounding": 0, "differs": 0, "missing": 0}
    print(f"{'table (old path)':<80} {'verdict':<9} {'max |diff|':>11} {'max rel':>10}")
    for old in files:
        relative = str(old.relative_to(old_root))
        new = new_root / new_name(relative)
        if not new.exists():
            counts["missing"] += 1
            status = 1
            print(f"{relative:<80} missing   (no {new.relative_to(new_root)})")
            continue
        verdict, worst_abs, worst_rel, detail = compare_file(old, new)
        counts[verdict] += 1
        if verdict == "differs" or worst_rel > rtol:
            status = 1
        print(f"{relative:<80} {verdict:<9} {worst_abs:>11.3g} {worst_rel:>10.3g} {detail}")
    print(", ".join(f"{n} {k}" for k, n in counts.items()), f"of {len(files)} files")
    return status


def run_revision(revision: str | None, folder: Path, configfiles: list[str], targets: list[str], cores: str) -> Path:
    """Check ``revision`` out into ``folder`` (None: copy this checkout) and run Snakemake there."""
    if folder.exists():
        shutil.rmtree(folder)
    if revision is None:
        folder.mkdir(parents=True)
        for name in WORKFLOW_FILES:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
        shutil.copytree(ROOT / "workflow" / "profiles", folder / "profiles")
    else:
        subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], cwd=ROOT, check=True)
    args = [sys.executable, "-m", "snakemake", "--cores", cores, *targets]
    for configfile in configfiles:
        args += ["--configfile", configfile]
    args += ["--config", "results_dir=results/compared"]
    subprocess.run(args, cwd=folder, check=True)
    return folder / "results" / "compared"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", default=["figures"])
    parser.add_argument("--old", help="the revision to compare this checkout with")
    parser.add_argument("--configfile", action="append", default=[], help="config overlays, as for snakemake")
    parser.add_argument("--workdir", default="/tmp/early-linear-compare", type=Path)
    parser.add_argument("--cores", default="all")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two result folders")
    parser.add_argument("--rtol", type=float, default=1e-6, help="largest relative difference counted as rounding")
    parser.add_argument("--exclude", help="skip old tables whose path matches this regular expression")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare, args.rtol, args.exclude)
    if not args.old:
        parser.error("give --old REVISION or --compare OLD NEW")
    old = run_revision(args.old, args.workdir / "old", args.configfile, args.targets, args.cores)
    new = run_revision(None, args.workdir / "new", args.configfile, args.targets, args.cores)
    return compare(old, new, args.rtol)


if __name__ == "__main__":
    sys.exit(main())
