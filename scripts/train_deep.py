"""Rule train_deep: one deep network (FC or CNN) and the models beside it by SGD on the same
minibatches (Section 4.2); test losses (split onto V_lin), outputs and discrepancy."""

from earlylin.core.runtime import checkpoint_path, job, start_script, table_meta, wildcard_columns
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.deep_tables import log_run, run_job
from earlylin.experiments.network_tables import run_options

log = start_script(snakemake)
p = job(snakemake)
options = run_options(snakemake.config, p, checkpoint_path(snakemake.output), snakemake.rule)
run, tables = run_job(p, Dataset.load(snakemake.input.data), options)
meta = dict(table_meta(snakemake), lr_used=run.setup.lr)
for name, table in tables.items():
    write_table(table.assign(**wildcard_columns(snakemake)), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"], options.checkpoint_path)
