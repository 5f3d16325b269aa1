"""Rule compare_fig1: network-vs-linear output MSE per step, and logits of random test points."""

from earlylin.experiments import compare_outputs
from earlylin.runtime import start_script
from earlylin.tables import OUTPUT_COLUMNS, read_table, write_table

log = start_script(snakemake)
d, seed = int(snakemake.wildcards.d), int(snakemake.wildcards.seed)
discrepancy, logits = compare_outputs(
    read_table(snakemake.input.network, OUTPUT_COLUMNS),
    read_table(snakemake.input.linear, OUTPUT_COLUMNS),
    n_samples=snakemake.params.n_samples,
    seed=seed,
)
meta = dict(d=d, seed=seed, n_samples=snakemake.params.n_samples)
write_table(discrepancy.assign(d=d, seed=seed), snakemake.output.discrepancy, meta)
write_table(logits, snakemake.output.logits, meta)
log.info("max output MSE %.3g", discrepancy["value"].max())
