"""Rule width_summary: the width sweep in one table and the slopes of log(relative
discrepancy) on log m over m >= d^(1+alpha) (per seed; mean and sd over seeds)."""

import pandas as pd

from earlylin.runtime import rule_params, start_script
from earlylin.scales.slopes import width_slopes
from earlylin.tables import read_table, write_table

log = start_script(snakemake)
table = pd.concat([read_table(f) for f in snakemake.input], ignore_index=True)
per_seed, fits = width_slopes(table, snakemake.params.alpha)
meta = rule_params(snakemake)
write_table(table, snakemake.output.table, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(per_seed, snakemake.output.seed_fits, meta)
log.info("\n%s", fits.to_string())
