"""Rule width_summary: the width sweep in one table and the slopes of log(relative
discrepancy) on log m over m >= d^(1+alpha) (per seed; mean and sd over seeds)."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.experiments.scales.slopes import width_slopes

log = start_script(snakemake)
table = read_tables(snakemake.input)
per_seed, fits = width_slopes(table, job(snakemake)["alpha"])
meta = table_meta(snakemake)
write_table(table, snakemake.output.table, meta)
write_table(fits, snakemake.output.fits, meta)
write_table(per_seed, snakemake.output.seed_fits, meta)
log.info("\n%s", fits.to_string())
