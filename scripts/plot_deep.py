"""Rules fig3, fig4: render Figure 3 or 4 from the train_deep tables."""

import pandas as pd

from earlylin.plots.deep import deep_figure_tables, plot_deep
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
tables = [
    pd.concat([read_table(f) for f in inp[name]], ignore_index=True) for name in ("losses", "outputs", "discrepancy")
]
losses, relative, logits = deep_figure_tables(*tables, n_samples=p.n_samples)
fig = plot_deep(losses, relative, logits, datasets=list(p.datasets), labels=dict(p.labels), title=p.title)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
