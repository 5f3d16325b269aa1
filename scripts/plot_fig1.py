"""Rule fig1: render Figure 1 from the tidy tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import LOSS_COLUMNS, read_table, read_tables
from earlylin.plots.style import save_figure
from earlylin.plots.two_layer import plot_fig1

start_script(snakemake)
inp = snakemake.input
losses = read_tables([*inp.network_losses, *inp.linear_losses], LOSS_COLUMNS)
fig = plot_fig1(losses, read_table(inp.logits[0]), read_tables(inp.discrepancy), job(snakemake)["title"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
