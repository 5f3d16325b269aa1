"""Rule fig_data: render the any-data figure from the train_data tables."""

import pandas as pd

from earlylin.plots.data import plot_data
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
tables = {
    name: pd.concat([read_table(f) for f in inp[name]], ignore_index=True)
    for name in ("outputs", "discrepancy", "signs")
}
fig = plot_data(
    tables,
    datasets=list(p.datasets),
    labels=dict(p.labels),
    network=p.network,
    n_logit_samples=p.n_logit_samples,
    title=p.title,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
