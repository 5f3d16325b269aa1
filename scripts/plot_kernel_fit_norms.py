"""Rule fig5_models: the fitted kernel's residual against d for every network."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.kernel_fit import plot_kernel_fit_norms
from earlylin.plots.style import save_figure

start_script(snakemake)
inp, p = snakemake.input, job(snakemake)
fig = plot_kernel_fit_norms(read_table(inp.norms), read_table(inp.fits), networks=p["networks"], title=p["title"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
