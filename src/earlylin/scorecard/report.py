"""The scorecard as a table and as a self-contained HTML page: every claim group's rows from
the run's tables (``claim_rows``), each with the size it was measured at."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..experiments.run_size import PAPER
from . import any_classes, any_data, any_network, kernel_fit, paper, scales
from .criteria import COLUMNS, FAILS, HOLDS, NOT_RUN


def claim_rows(tables: Mapping[str, pd.DataFrame | None], job: Mapping[str, Any]) -> pd.DataFrame:
    """The scorecard of a run from its tables (by input name; None or absent for a group in
    scorecard.skip, whose claims then read "not run") and the rule's job (``fig5_activation``,
    the run's ``sizes`` per claim group and ``dataset_sizes`` per deep data set)."""

    def table(name: str) -> pd.DataFrame | None:
        return tables.get(name)

    fig1 = None
    if table("fig1_network") is not None:
        fig1 = pd.concat([table("fig1_network"), table("fig1_linear")], ignore_index=True)
    groups = {  # each claim group's rows, then the size it was measured at
        "fig1": paper.fig1_rows(fig1, table("fig1_discrepancy")),
        "fig2": paper.fig2_rows(table("fig2_discrepancy")),
        "regimes": paper.regime_rows(table("regime_horizons")),
        "deep": paper.deep_rows(table("deep_discrepancy"), dict(job["dataset_sizes"])),
        "any_network": any_network.model_rows(table("any_network_fits"), table("any_network_discrepancy")),
        "any_data": any_data.data_rows(
            table("any_data_discrepancy"), table("any_data_signs"), table("any_data_outputs")
        ),
        "any_classes": any_classes.class_rows(
            table("any_classes_discrepancy"), table("any_classes_fits"), table("any_classes_classes")
        ),
        "fig5": paper.fig5_rows(table("fits"), job["fig5_activation"], table("fig5_seed_fits")),
        "fig5_models": kernel_fit.kernel_fit_rows(table("fig5_models_norms"), table("fig5_models_fits")),
        "horizon": scales.horizon_rows(table("horizons"), table("horizon_fits")),
        "width": scales.width_rows(table("width"), table("width_fits")),
    }
    return scorecard_table(r for group, rows in groups.items() for r in at_scale(rows, job["sizes"][group]))


def at_scale(rows: list[dict], scale: str) -> list[dict]:
    """The claim group's size against the paper's (``experiments.run_size.group_sizes``) on
    each of its rows, joined to a row's own (a deep data set's); a row that does not hold at a
    size other than the paper's says so first in its note."""
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
