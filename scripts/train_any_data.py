"""Rule train_any_data: fig_data's network on one data set with one loss and momentum, trained
on the real training images or on their Gaussian clone, beside its linearised network and the
linear model of its fitted NTK; five tables (losses, outputs, discrepancy, kernel_fit, signs)."""

from earlylin.core.runtime import checkpoint_path, job, start_script, table_meta, wildcard_columns
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.any_data_tables import run_job
from earlylin.experiments.network_tables import log_run, run_options

log = start_script(snakemake)
p = job(snakemake)
options = run_options(snakemake.config, p["train"], checkpoint_path(snakemake.output), snakemake.rule)
run, tables = run_job(p, Dataset.load(snakemake.input.data), options)
columns = dict(wildcard_columns(snakemake), momentum=float(snakemake.wildcards.momentum))  # one dtype in every table
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"])
