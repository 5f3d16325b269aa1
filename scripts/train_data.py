"""Rule train_data: fig_data's network on one data set with one loss and momentum, trained on
the real training images or on their Gaussian clone, beside its linearised network and the
linear model of its fitted NTK; five tables (losses, outputs, discrepancy, kernel_fit, signs)."""

import pandas as pd

from earlylin.data import Dataset, rng_stream
from earlylin.deep.gaussian_clone import gaussian_clone
from earlylin.information import sign_metric_rows
from earlylin.models.data_study import data_study_job
from earlylin.models.training import log_run, run_job
from earlylin.runtime import rule_params, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table

log = start_script(snakemake)
config = snakemake.config
columns = wildcard_columns(snakemake)
wc = snakemake.wildcards
job = data_study_job(config, wc.dataset, wc.loss, wc.momentum)
params = rule_params(snakemake)
expected = {**job.params(), "resamples": config["fig_data"]["resamples"]}
if params != expected:
    raise RuntimeError(f"train_data params {params} differ from the job's settings {expected}")
seed = columns["seed"]
columns["momentum"] = float(wc.momentum)  # one dtype in every table ("0" would read as an int)
data = Dataset.load(snakemake.input.data)
if wc.inputs == "clone":
    data = gaussian_clone(data, rng_stream(seed, "gaussian-clone"))
    log.info("training inputs: the Gaussian clone of the %d real ones (class means and covariances)", len(data.y_train))
run, tables = run_job(data, job, seed, config, "train_data", log)
tables = {name: tables[name] for name in ("losses", "outputs", "discrepancy", "kernel_fit")}
tables["signs"] = pd.DataFrame(
    sign_metric_rows(run.steps, run.test_outputs, data.y_test, rng_stream(seed, "bootstrap"), params["resamples"])
)
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
log_run(log, run, tables["discrepancy"], job.max_step)
