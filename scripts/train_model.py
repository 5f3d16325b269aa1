"""Rule train_model: one network of models.networks on one data set and seed, beside its
linearised network, the linear model of its fitted NTK and (the FC net, the CNN) its exact-kernel
model; six tables (losses, outputs, discrepancy, kernel_fit, ntk_entries, movement)."""

from earlylin.data import Dataset
from earlylin.models.jobs import model_job
from earlylin.models.training import log_run, run_job
from earlylin.runtime import rule_params, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table

log = start_script(snakemake)
config = snakemake.config
columns = wildcard_columns(snakemake)
job = model_job(config, columns["dataset"], columns["net"])
if rule_params(snakemake) != job.params():
    raise RuntimeError(f"train_model params {rule_params(snakemake)} differ from the job's settings {job.params()}")
data = Dataset.load(snakemake.input.data)
seed = columns["seed"]
run, tables = run_job(data, job, seed, config, "train_model", log)
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"], job.max_step)
