"""Rule regime_horizons: discrepancy of every grid network to its linear model, and the
agreement horizon of each (activation, regime, seed)."""

import pandas as pd

from earlylin.runtime import rule_params, start_script
from earlylin.tables import OUTPUT_COLUMNS, read_meta, read_table, write_table
from earlylin.two_layer.comparisons import compare_outputs, regime_summary

log = start_script(snakemake)
p = snakemake.params
tables = []
for network_path, linear_path in zip(snakemake.input.network, snakemake.input.linear):
    job = {k: read_meta(network_path)[k] for k in ("activation", "regime", "seed")}
    discrepancy, _ = compare_outputs(
        read_table(network_path, OUTPUT_COLUMNS), read_table(linear_path, OUTPUT_COLUMNS), n_samples=1, seed=job["seed"]
    )
    tables.append(discrepancy.assign(**job))
discrepancy = pd.concat(tables, ignore_index=True)
horizons = regime_summary(discrepancy, p.threshold, p.lr)
meta = rule_params(snakemake)
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
