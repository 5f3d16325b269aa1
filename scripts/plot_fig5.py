"""Rule fig5: render Figure 5 from the norms and fits tables."""

from earlylin.kernel_plots import plot_kernel_norms
from earlylin.plotting import save_figure
from earlylin.runtime import start_script
from earlylin.tables import read_table

start_script(snakemake)
fig = plot_kernel_norms(
    read_table(snakemake.input.norms),
    read_table(snakemake.input.fits),
    kernels=["theta1"],
    activations=[snakemake.params.activation],
    title=snakemake.params.title,
    identity_term=False,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
