"""docs/outputs.md names every table the workflow writes and every column of each: checked
against the tables of the preview run."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from workflow_runs import ROOT

pytestmark = pytest.mark.workflow

PAGE = ROOT / "docs" / "outputs.md"


def documented_tables() -> list[tuple[re.Pattern, set[str], str]]:
    """(path pattern, documented columns, heading) of each '### `path`, `path`' section."""
    sections = re.split(r"^### ", PAGE.read_text(encoding="utf-8"), flags=re.M)[1:]
    tables = []
    for section in sections:
        heading, _, body = section.partition("\n")
        columns = set()
        for line in body.splitlines():
            if line.startswith("| `"):
                columns |= set(re.findall(r"`([a-z_0-9]+)`", line.split("|")[1]))
        for path in re.findall(r"`([^`]+)`", heading):
            pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
            tables.append((re.compile("^" + re.sub(r"\{[a-z_]+\}", r"[^/]+", pattern) + "$"), columns, heading))
    return tables


def test_every_documented_pattern_is_a_path():
    tables = documented_tables()
    assert len(tables) > 30
    assert all(pattern.pattern.endswith(("parquet$", "npz$")) for pattern, _, _ in tables)


def test_every_table_of_the_preview_and_every_column_is_on_the_outputs_page(workdir):
    out = workdir / "results" / "preview"
    tables = documented_tables()
    files = sorted(out.rglob("*.parquet"))
    assert len(files) > 100
    seen = set()
    for path in files:
        relative = str(path.relative_to(out))
        matches = [(columns, heading) for pattern, columns, heading in tables if pattern.match(relative)]
        assert matches, f"{relative} is not on docs/outputs.md"
        columns, heading = matches[0]
        seen.add(heading)
        missing = set(pd.read_parquet(path).columns) - columns
        assert not missing, f"{relative}: columns {sorted(missing)} are not named under '{heading}'"
    parquet_headings = {heading for pattern, _, heading in tables if pattern.pattern.endswith("parquet$")}
    assert parquet_headings <= seen, f"documented but not written by the preview: {parquet_headings - seen}"
