"""Rule fig_regimes: render the regime x activation grid from the tidy tables."""

from earlylin.plots.style import save_figure
from earlylin.plots.two_layer import plot_regimes
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
fig = plot_regimes(
    read_table(snakemake.input.discrepancy, ("activation", "regime", "step", "metric", "value")),
    read_table(snakemake.input.horizons, ("activation", "regime", "horizon", "reached", "last_step")),
    threshold=snakemake.params.threshold,
    title=snakemake.params.title,
    activations=list(snakemake.params.activations),
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
