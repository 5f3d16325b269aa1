"""Rule fit_ntk_slopes: gather the norms and fit log norm against log d, on the mean over
seeds and per seed."""

import pandas as pd

from earlylin.runtime import rule_params, start_script
from earlylin.tables import read_table, write_table
from earlylin.two_layer.comparisons import fit_power_laws, fit_power_laws_per_seed

log = start_script(snakemake)
norms = pd.concat([read_table(f) for f in snakemake.input], ignore_index=True)
fits = fit_power_laws(norms)
log.info("\n%s", fits.to_string())
meta = rule_params(snakemake)
write_table(norms, snakemake.output.norms, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(fit_power_laws_per_seed(norms), snakemake.output.seed_fits, meta)
