"""Rule fig_models: render the any-network figure from the train_model tables."""

import pandas as pd

from earlylin.plots.models import plot_models
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
names = ("losses", "discrepancy", "kernel_fit", "ntk_entries", "movement")
tables = {name: pd.concat([read_table(f) for f in inp[name]], ignore_index=True) for name in names}
fig = plot_models(
    tables,
    datasets=list(p.datasets),
    networks=list(p.networks),
    labels=dict(p.labels),
    network_labels=dict(p.network_labels),
    title=p.title,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
