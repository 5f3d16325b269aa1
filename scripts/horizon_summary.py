"""Rule horizon_summary: every horizon run in one table, the relative-discrepancy curves,
and the slopes of log(eta T) on log(d log d) (per seed; mean and sd over seeds)."""

import pandas as pd

from earlylin.runtime import rule_params, start_script
from earlylin.scales.slopes import horizon_slopes
from earlylin.tables import read_table, write_table

log = start_script(snakemake)
inp = snakemake.input
horizons = pd.concat([read_table(f) for f in inp.horizons], ignore_index=True)
curves = pd.concat([read_table(f) for f in inp.curves], ignore_index=True)
per_seed, fits = horizon_slopes(horizons)
meta = rule_params(snakemake)
write_table(horizons, snakemake.output.horizons, meta)
write_table(
    curves[curves["metric"].isin(["relative_mse", "linear_loss"])].reset_index(drop=True), snakemake.output.curves, meta
)
write_table(fits, snakemake.output.fits, meta)
write_table(per_seed, snakemake.output.seed_fits, meta)
log.info("\n%s", fits.to_string())
