"""Rule fig_width: the relative discrepancy at fixed early steps against the width."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.scales import plot_width
from earlylin.plots.style import save_figure

start_script(snakemake)
p = job(snakemake)
fig = plot_width(
    read_table(snakemake.input.table), read_table(snakemake.input.fits), alpha=p["alpha"], title=p["title"]
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
