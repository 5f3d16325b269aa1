"""Rule fig_data: render the any-data figure from the train_any_data tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_tables
from earlylin.plots.any_data import plot_data
from earlylin.plots.style import save_figure

start_script(snakemake)
p = job(snakemake)
tables = {name: read_tables(snakemake.input[name]) for name in ("outputs", "discrepancy", "signs")}
fig = plot_data(
    tables,
    datasets=p["datasets"],
    labels=p["labels"],
    network=p["network"],
    n_logit_samples=p["n_logit_samples"],
    title=p["title"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
