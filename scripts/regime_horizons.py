"""Rule regime_horizons: discrepancy of every grid network to its linear model, and the
agreement horizon of each (activation, regime, seed)."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import write_table
from earlylin.experiments.two_layer.comparisons import grid_discrepancy, regime_summary

log = start_script(snakemake)
p = job(snakemake)
discrepancy = grid_discrepancy(snakemake.input.network, snakemake.input.linear)
horizons = regime_summary(discrepancy, p["threshold"], p["lr"])
meta = table_meta(snakemake)
write_table(discrepancy, snakemake.output.discrepancy, meta)
write_table(horizons, snakemake.output.horizons, meta)
for row in horizons.itertuples():
    log.info(
        "%-10s %-6s seed %d: horizon %s (relative MSE %.3g at step 1, %.3g at step %d)",
        row.activation,
        row.regime,
        row.seed,
        int(row.horizon) if row.reached else f"> {row.last_step}",
        row.relative_mse_first,
        row.relative_mse_last,
        row.last_step,
    )
