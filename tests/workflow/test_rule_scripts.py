"""Every rule script and benchmark names package objects that exist; the plot and scorecard
scripts stay free of torch (they read tables only); a rule script runs the job its rule's
params carry and never rebuilds or re-checks it from the config; parsing the Snakefile
imports no torch."""

import ast
import importlib
import re
import subprocess
import sys

import pytest
from workflow_runs import ROOT

SCRIPTS = sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
# Scripts that read tables or draw data and never train: they must start without torch
# (about 2.5 s of a job's start-up here), the figures and the scorecard above all.
LIGHT_SCRIPTS = {
    "scorecard.py",
    "compare_outputs.py",
    "regime_horizons.py",
    "fit_ntk_slopes.py",
    "horizon_summary.py",
    "width_summary.py",
    "make_synthetic_data.py",
    "make_image_data.py",
}
TABLE_ONLY = [p for p in SCRIPTS if p.name.startswith("plot_") or p.name in LIGHT_SCRIPTS]


def _package_imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("earlylin"):
            yield node.module, [alias.name for alias in node.names]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_imports_resolve(path):
    for module, names in _package_imports(path):
        imported = importlib.import_module(module)
        missing = [name for name in names if not hasattr(imported, name) and not _is_submodule(module, name)]
        assert not missing, f"{path.name}: {module} has no {missing}"


def _is_submodule(module, name):
    try:
        importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return False
    return True


def test_light_scripts_import_no_torch():
    imports = sorted({f"{module}" for path in TABLE_ONLY for module, _ in _package_imports(path)})
    code = "import sys\n" + "".join(f"import {m}\n" for m in imports) + "print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", imports


# What only the Snakefile may do with a config: build a job, check the config.
JOB_BUILDERS = {"training_job", "job", "data_job", "horizon_job", "width_job", "kernel_norms_job", "image_data_job"}
CHECKS = {"check_config", "validate_config", "config_problems", "paper_config"}


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").glob("*.py")), ids=lambda p: p.name)
def test_a_rule_script_runs_the_job_of_its_params_and_rebuilds_nothing(path):
    imported = {name for module, names in _package_imports(path) for name in names if module != "earlylin.core.runtime"}
    assert not imported & (JOB_BUILDERS | CHECKS), f"{path.name} imports {sorted(imported & (JOB_BUILDERS | CHECKS))}"
    text = path.read_text()
    assert "snakemake.params." not in text.replace("snakemake.params.job", ""), "read the rule's job dict only"


def test_parsing_the_snakefile_imports_no_torch():
    """Every package module the rule files import, imported together, leaves torch (and its
    seconds of start-up) out of Snakemake's own process."""
    modules = set()
    for smk in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").rglob("*.smk"))]:
        modules |= set(re.findall(r"^\s*from (earlylin[\w.]*) import", smk.read_text(), re.M))
    assert modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in sorted(modules)) + "print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", sorted(modules)


def test_the_rules_conda_environment_installs_this_checkout():
    """`--sdm conda`: the rules' environment installs the package from this checkout (its pip
    entry, resolved from the environment file's folder, is the repository root), so the jobs
    import the same code, with pyproject.toml's dependencies, as a plain install."""
    import tomllib

    import yaml

    env_file = ROOT / "workflow" / "rules" / "../../envs/earlylin.yaml"
    env = yaml.safe_load(env_file.read_text())
    pip = next(entry["pip"] for entry in env["dependencies"] if isinstance(entry, dict))
    editable = [line.split(maxsplit=1)[1] for line in pip if line.startswith("-e ")]
    assert len(editable) == 1, pip
    root = (env_file.resolve().parent / editable[0]).resolve()
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["name"] == "earlylin"
    common = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    assert 'ENV = "../../envs/earlylin.yaml"' in common
