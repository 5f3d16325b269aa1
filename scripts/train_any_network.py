"""Rule train_any_network: one network of models.networks on one data set and seed, beside its
linearised network, the linear model of its fitted NTK and (the FC net, the CNN) its
exact-kernel model; six tables (losses, outputs, discrepancy, kernel_fit, ntk_entries, movement)."""

from earlylin.core.runtime import checkpoint_path, job, start_script, table_meta, wildcard_columns
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.network_tables import log_run, run_job, run_options

log = start_script(snakemake)
p = job(snakemake)
options = run_options(snakemake.config, p, checkpoint_path(snakemake.output), snakemake.rule)
run, tables = run_job(p, Dataset.load(snakemake.input.data), options)
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**wildcard_columns(snakemake)), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"])
