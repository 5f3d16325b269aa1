"""Rules compare_fig1, compare_fig2: network-vs-linear discrepancy per
logged step on test data, and the outputs of randomly drawn test points."""

from earlylin.runtime import start_script, table_meta, wildcard_columns
from earlylin.tables import OUTPUT_COLUMNS, read_table, write_table
from earlylin.two_layer.comparisons import compare_outputs

log = start_script(snakemake)
columns = wildcard_columns(snakemake)
discrepancy, logits = compare_outputs(
    read_table(snakemake.input.network, OUTPUT_COLUMNS),
    read_table(snakemake.input.linear, OUTPUT_COLUMNS),
    n_samples=snakemake.params.n_samples,
    seed=columns["seed"],
)
write_table(
    discrepancy.assign(**{k: v for k, v in columns.items() if k != "model"}),
    snakemake.output.discrepancy,
    table_meta(snakemake),
)
write_table(logits, snakemake.output.logits, table_meta(snakemake))
log.info("max output MSE %.3g", discrepancy.query("metric == 'output_mse'")["value"].max())
