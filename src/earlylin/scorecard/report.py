"""The scorecard as a table and as a self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd

from .criteria import COLUMNS, FAILS, HOLDS, NOT_RUN
from .scale import PAPER


def at_scale(rows: list[dict], scale: str) -> list[dict]:
    """The claim group's scale (``scale.group_scales``) on each of its rows, joined to a
    row's own (a deep data set's); a row that does not hold at a scale other than the
    paper's says so first in its note."""
    for r in rows:
        own = r.get("scale") or PAPER
        r["scale"] = scale if own == PAPER else own if scale == PAPER else f"{scale}; {own.split(': ', 1)[-1]}"
        note = r.get("note", "")
        if r["verdict"] == FAILS and r["scale"] != PAPER:
            lead = "Measured at a reduced scale (see scale), not at the paper's settings"
            note = f"{lead}; {note}" if note else lead
        r["note"] = note
    return rows


def scorecard_table(rows: Iterable[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


VERDICT_COLOURS = {HOLDS: "#d8f0d8", FAILS: "#f6d5d5", NOT_RUN: "#e8e8e8"}


def scorecard_html(table: pd.DataFrame, title: str) -> str:
    """A self-contained HTML page with the scorecard table, verdicts coloured, and the
    count of each verdict and of the rows measured at the paper's scale."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for _, r in table.iterrows():
        colour = VERDICT_COLOURS.get(r.get("verdict", ""), "#ffffff")
        cells = "".join(
            f"<td style='background:{colour};font-weight:bold'>{html.escape(str(r[c]))}</td>"
            if c == "verdict"
            else f"<td>{html.escape(str(r[c]))}</td>"
            for c in table.columns
        )
        body.append(f"<tr>{cells}</tr>")
    counts = table["verdict"].value_counts() if "verdict" in table else pd.Series(dtype=int)
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in (HOLDS, FAILS, NOT_RUN))
    if "scale" in table:
        reduced = int((table["scale"] != PAPER).sum())
        summary += (
            f"; {reduced} of {len(table)} claims measured at another scale than the paper's (column scale): "
            "their verdicts speak of that scale"
            if reduced
            else "; every claim measured at the paper's settings"
        )
    style = (
        "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse} "
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1><p>{summary}. Each criterion is "
        f"stated in its row; values are means over seeds ± sample sd.</p>"
        f"<table class='scorecard'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"</body></html>"
    )
