"""Rule fig2: render Figure 2 from the tidy tables."""

import pandas as pd

from earlylin.plots.style import save_figure
from earlylin.plots.two_layer import plot_fig2
from earlylin.runtime import start_script
from earlylin.tables import LOSS_COLUMNS, read_table

start_script(snakemake)
inp = snakemake.input
losses = pd.concat([read_table(f, LOSS_COLUMNS) for f in [*inp.network_losses, *inp.linear_losses]], ignore_index=True)
discrepancy = pd.concat([read_table(f) for f in inp.discrepancy], ignore_index=True)
logits = pd.concat([read_table(f) for f in inp.logits], ignore_index=True)
fig = plot_fig2(losses, discrepancy, logits, snakemake.params.title)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
