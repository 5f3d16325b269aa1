"""Every rule script and benchmark names package objects that exist, and the plot and
scorecard scripts stay free of torch (they read tables only)."""

import ast
import importlib
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
