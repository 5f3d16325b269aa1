"""Rules compare_fig1, compare_fig2: network-vs-linear discrepancy per logged step on test
data, and the outputs of randomly drawn test points."""

from earlylin.core.runtime import job, start_script, table_meta, wildcard_columns
from earlylin.core.tables import OUTPUT_COLUMNS, read_table, write_table
from earlylin.experiments.two_layer.comparisons import compare_outputs

log = start_script(snakemake)
columns = wildcard_columns(snakemake)
discrepancy, logits = compare_outputs(
    read_table(snakemake.input.network, OUTPUT_COLUMNS),
    read_table(snakemake.input.linear, OUTPUT_COLUMNS),
    n_samples=job(snakemake)["n_samples"],
    seed=columns["seed"],
)
meta = table_meta(snakemake)
write_table(
    discrepancy.assign(**{k: v for k, v in columns.items() if k != "surrogate"}), snakemake.output.discrepancy, meta
)
write_table(logits, snakemake.output.logits, meta)
log.info("max output MSE %.3g", discrepancy.query("metric == 'output_mse'")["value"].max())
