"""Rules fig3, fig4, fig3_offline: render a deep figure from the train_deep tables."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_tables
from earlylin.plots.deep import deep_figure_tables, plot_deep
from earlylin.plots.style import save_figure

start_script(snakemake)
p = job(snakemake)
tables = [read_tables(snakemake.input[name]) for name in ("losses", "outputs", "discrepancy")]
losses, relative, logits = deep_figure_tables(*tables, n_samples=p["n_samples"])
fig = plot_deep(losses, relative, logits, datasets=p["datasets"], labels=p["labels"], title=p["title"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
