"""Rule fig_width: the relative discrepancy at fixed early steps against the width."""

from earlylin.plots.scales import plot_width
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
fig = plot_width(read_table(inp.table), read_table(inp.fits), alpha=p.alpha, title=p.title)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
