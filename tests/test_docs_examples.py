"""Every Python example of the docs runs as a user would paste it: in a fresh interpreter, in a
scratch directory that holds the repository's `examples/` (the paths the examples name)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _examples() -> list:
    return [
        pytest.param(code, id=f"{page.name}:{n}")
        for page in PAGES
        for n, code in enumerate(_BLOCK.findall(page.read_text()), start=1)
    ]


def test_the_docs_have_python_examples():
    assert len(_examples()) >= 2


@pytest.mark.parametrize("code", _examples())
def test_a_docs_example_runs(code, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
