"""Rule fig5_extra: the Figure 5 sweep for every kernel and activation in the config."""

from earlylin.kernel_plots import plot_kernel_norms
from earlylin.plotting import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
fig = plot_kernel_norms(
    read_table(snakemake.input.norms),
    read_table(snakemake.input.fits),
    kernels=snakemake.params.kernels,
    activations=snakemake.params.activations,
    title=snakemake.params.title,
    identity_term=True,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
