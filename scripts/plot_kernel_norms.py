"""Rules fig5, fig5_extra: norms of the kernel differences against d with their fits, for
the kernels and activations of the rule's params."""

from earlylin.plots.kernels import plot_kernel_norms
from earlylin.plots.style import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
inp, p = snakemake.input, snakemake.params
fig = plot_kernel_norms(
    read_table(inp.norms),
    read_table(inp.fits),
    read_table(inp.seed_fits),
    kernels=list(p.kernels),
    activations=list(p.activations),
    title=p.title,
    identity_term=p.identity_term,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
