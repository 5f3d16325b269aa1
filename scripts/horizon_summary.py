"""Rule horizon_summary: every horizon run in one table, the relative-discrepancy curves,
and the slopes of log(eta T) on log(d log d) (per seed; mean and sd over seeds)."""

from earlylin.core.runtime import start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.experiments.scales.slopes import horizon_curves, horizon_slopes

log = start_script(snakemake)
horizons = read_tables(snakemake.input.horizons)
per_seed, fits = horizon_slopes(horizons)
meta = table_meta(snakemake)
write_table(horizons, snakemake.output.horizons, meta)
write_table(horizon_curves(read_tables(snakemake.input.curves)), snakemake.output.curves, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(per_seed, snakemake.output.seed_fits, meta)
log.info("\n%s", fits.to_string())
