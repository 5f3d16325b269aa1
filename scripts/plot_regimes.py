"""Rule fig_regimes: render the regime x activation grid from the tidy tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.style import save_figure
from earlylin.plots.two_layer import plot_regimes

start_script(snakemake)
p = job(snakemake)
fig = plot_regimes(
    read_table(snakemake.input.discrepancy, ("activation", "regime", "step", "metric", "value")),
    read_table(snakemake.input.horizons, ("activation", "regime", "horizon", "reached", "last_step")),
    threshold=p["threshold"],
    title=p["title"],
    activations=p["activations"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
