"""Rule fig_classes: render the k-class figure from the train_any_classes tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_tables
from earlylin.plots.any_classes import plot_classes
from earlylin.plots.style import save_figure

start_script(snakemake)
p = job(snakemake)
tables = {name: read_tables(snakemake.input[name]) for name in ("discrepancy", "kernel_fit", "classes")}
fig = plot_classes(
    tables,
    datasets=p["datasets"],
    networks=p["networks"],
    labels=p["labels"],
    network_labels=p["network_labels"],
    momentum=p["momentum"],
    title=p["title"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
