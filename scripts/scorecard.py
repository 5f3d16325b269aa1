"""Rule scorecard: each claim, its criterion, this run's value and a verdict, from the tables.
Inputs of a group in scorecard.skip are absent: its claims read "not run"."""

import pandas as pd

from earlylin.runtime import rule_params, start_script
from earlylin.scorecard import data, models, paper, scales
from earlylin.scorecard.report import at_scale, scorecard_html, scorecard_table
from earlylin.tables import read_table, write_table

log = start_script(snakemake)
inp, p = snakemake.input, snakemake.params
given = dict(inp.items())  # name -> file or list of files


def table(name):
    """The named input (several files concatenated), or None when the rule has none."""
    if name not in given:
        return None
    files = given[name]
    files = [files] if isinstance(files, str) else list(files)
    return pd.concat([read_table(f) for f in files], ignore_index=True) if files else None


fig1_losses = (
    None if "fig1_network" not in given else pd.concat([table("fig1_network"), table("fig1_linear")], ignore_index=True)
)
groups = {  # each claim group's rows, then the scale it was measured at
    "fig1": paper.fig1_rows(fig1_losses, table("fig1_discrepancy")),
    "fig2": paper.fig2_rows(table("fig2_discrepancy")),
    "regimes": paper.regime_rows(table("regime_horizons")),
    "deep": paper.deep_rows(table("deep_discrepancy"), dict(p.dataset_scales)),
    "models": models.model_rows(table("model_fits"), table("model_discrepancy")),
    "data": data.data_rows(table("data_discrepancy"), table("data_signs"), table("data_outputs")),
    "fig5": paper.fig5_rows(table("fits"), p.fig5_activation, table("fig5_seed_fits")),
    "horizon": scales.horizon_rows(table("scale_horizons"), table("scale_horizon_fits")),
    "width": scales.width_rows(table("scale_width"), table("scale_width_fits")),
}
rows = [r for group, group_rows in groups.items() for r in at_scale(group_rows, p.scales[group])]
result = scorecard_table(rows)
write_table(result, snakemake.output.table, rule_params(snakemake))
with open(snakemake.output.html, "w", encoding="utf-8") as fh:
    fh.write(scorecard_html(result, p.title))
for row in result.itertuples():
    log.info(
        "%s | %s | %s | criterion: %s | measured: %s | scale: %s%s",
        row.verdict.upper(),
        row.figure,
        row.claim,
        row.criterion,
        row.measured,
        row.scale,
        f" | {row.note}" if row.note else "",
    )
