"""Rule fig_models: render the any-network figure from the train_any_network tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_tables
from earlylin.plots.any_network import plot_models
from earlylin.plots.style import save_figure

start_script(snakemake)
p = job(snakemake)
names = ("losses", "discrepancy", "kernel_fit", "ntk_entries", "movement")
tables = {name: read_tables(snakemake.input[name]) for name in names}
fig = plot_models(
    tables,
    datasets=p["datasets"],
    networks=p["networks"],
    labels=p["labels"],
    network_labels=p["network_labels"],
    title=p["title"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
