"""Rule scorecard: the paper's quantitative claims next to this run's values, from the tables."""

import pandas as pd

from earlylin import scorecard
from earlylin.runtime import start_script
from earlylin.tables import read_table, write_table

log = start_script(snakemake)
inp, p = snakemake.input, snakemake.params


def concat(paths):
    return pd.concat([read_table(f) for f in paths], ignore_index=True)


rows = [
    *scorecard.fig1_rows(concat([*inp.fig1_network, *inp.fig1_linear]), concat(inp.fig1_discrepancy)),
    *scorecard.fig2_rows(concat(inp.fig2_discrepancy)),
    *scorecard.regime_rows(read_table(inp.horizons)),
    *scorecard.deep_rows(concat(inp.deep_discrepancy)),
    *scorecard.fig5_rows(read_table(inp.fits), p.fig5_activation),
]
table = pd.DataFrame(rows, columns=["figure", "claim", "paper", "measured"])
write_table(table, snakemake.output.table, dict(snakemake.params.items()))
with open(snakemake.output.html, "w", encoding="utf-8") as fh:
    fh.write(scorecard.scorecard_html(table, p.title))
for row in table.itertuples():
    log.info("%s | %s | paper: %s | measured: %s", row.figure, row.claim, row.paper, row.measured)
