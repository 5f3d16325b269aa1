"""Rule fit_width_slopes: gather fig_widths' relative MSE at the chosen steps and fit log
relative MSE against log width per data set, network, pair and step."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.experiments.width_sweep import fit_slopes, gather

log = start_script(snakemake)
relative = gather(read_tables(snakemake.input.discrepancy), job(snakemake)["steps"])
fits = fit_slopes(relative)
log.info("\n%s", fits.to_string())
meta = table_meta(snakemake)
write_table(relative, snakemake.output.relative, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(read_tables(snakemake.input.kernel_fit), snakemake.output.kernel_fit, meta)
