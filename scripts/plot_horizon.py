"""Rule fig_horizon: the agreement horizon and T_lin against d log d."""

from earlylin.plots.scales import plot_horizon
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
fig = plot_horizon(
    read_table(inp.horizons),
    read_table(inp.curves),
    read_table(inp.fits),
    activations=list(p.activations),
    thresholds=list(p.thresholds),
    title=p.title,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
