"""Rule train_any_classes: a network with k outputs on a data set of k classes with one loss,
beside its linearised network, the k-head linear model of its fitted NTK and (FC net, CNN)
Theta_inf (x) I_k; five tables (losses, outputs, discrepancy, kernel_fit, classes)."""

from earlylin.core.runtime import checkpoint_path, job, start_script, table_meta, wildcard_columns
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.any_classes_tables import run_job
from earlylin.experiments.network_tables import log_run, run_options

log = start_script(snakemake)
p = job(snakemake)
options = run_options(snakemake.config, p["train"], checkpoint_path(snakemake.output), snakemake.rule)
run, tables = run_job(p, Dataset.load(snakemake.input.data), options)
columns = wildcard_columns(snakemake)
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"])
