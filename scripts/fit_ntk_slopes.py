"""Rule fit_ntk_slopes: gather the norms and fit log norm against log d, on the mean over
seeds and per seed."""

from earlylin.core.runtime import start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.experiments.two_layer.comparisons import fit_power_laws, fit_power_laws_per_seed

log = start_script(snakemake)
norms = read_tables(snakemake.input)
fits = fit_power_laws(norms)
log.info("\n%s", fits.to_string())
meta = table_meta(snakemake)
write_table(norms, snakemake.output.norms, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(fit_power_laws_per_seed(norms), snakemake.output.seed_fits, meta)
