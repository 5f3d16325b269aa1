"""Rule fit_kernel_fit_slopes: gather the norms and fit log norm against log d per network."""

from earlylin.core.runtime import start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.experiments.kernel_fit_norms import fit_slopes

log = start_script(snakemake)
norms = read_tables(snakemake.input)
fits = fit_slopes(norms)
log.info("\n%s", fits.to_string())
meta = table_meta(snakemake)
write_table(norms, snakemake.output.norms, meta)
write_table(fits, snakemake.output.fits, meta)
