"""Rule fig2: render Figure 2 from the tidy tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import LOSS_COLUMNS, read_tables
from earlylin.plots.style import save_figure
from earlylin.plots.two_layer import plot_fig2

start_script(snakemake)
inp = snakemake.input
losses = read_tables([*inp.network_losses, *inp.linear_losses], LOSS_COLUMNS)
fig = plot_fig2(losses, read_tables(inp.discrepancy), read_tables(inp.logits), job(snakemake)["title"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
