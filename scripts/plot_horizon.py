"""Rule fig_horizon: the agreement horizon and T_lin against d log d."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.scales import plot_horizon
from earlylin.plots.style import save_figure

start_script(snakemake)
inp, p = snakemake.input, job(snakemake)
fig = plot_horizon(
    read_table(inp.horizons),
    read_table(inp.curves),
    read_table(inp.fits),
    activations=p["activations"],
    thresholds=p["thresholds"],
    title=p["title"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
