"""Rules fig5, fig5_extra: norms of the kernel differences against d with their fits, for
the kernels and activations of the rule's job."""

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import read_table
from earlylin.plots.kernels import plot_kernel_norms
from earlylin.plots.style import save_figure

start_script(snakemake)
inp, p = snakemake.input, job(snakemake)
fig = plot_kernel_norms(
    read_table(inp.norms),
    read_table(inp.fits),
    read_table(inp.seed_fits),
    kernels=p["kernels"],
    activations=p["activations"],
    title=p["title"],
    identity_term=p["identity_term"],
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
