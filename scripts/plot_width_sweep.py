"""Rule fig_widths: each pair's relative MSE at the chosen steps against the width."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.style import save_figure
from earlylin.plots.width_sweep import plot_width_sweep

start_script(snakemake)
inp, p = snakemake.input, job(snakemake)
fig = plot_width_sweep(
    read_table(inp.relative),
    read_table(inp.fits),
    read_table(inp.kernel_fit),
    datasets=p["datasets"],
    networks=p["networks"],
    steps=p["steps"],
    title=p["title"],
    labels=p["labels"],
    network_labels=p["network_labels"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
