"""Rule train_model: one network of models.networks on one data set and seed, beside its
linearised network, the linear model of its fitted NTK and (the FC net, the CNN) its exact-kernel
model; six tables (losses, outputs, discrepancy, kernel_fit, ntk_entries, movement)."""

from earlylin.data import Dataset
from earlylin.deep.cost import CostLimitExceeded
from earlylin.devices import resolve_device
from earlylin.models.cost import estimate_model_cost, model_cost_limit_message
from earlylin.models.jobs import model_job
from earlylin.models.training import relative_at, run_model_sgd, run_tables
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
device = resolve_device(config["device"])
log.info(
    "%s = %s %s on %s: n = %d, image shape %s, lr %g, batch %d, %d steps, %s on %s; linearised: %s; exact kernel: %s",
    job.name,
    job.network,
    dict(job.kwargs),
    job.dataset,
    len(data.y_train),
    data.image_shape,
    job.lr,
    job.batch_size,
    job.max_step,
    job.dtype,
    device,
    job.linearise,
    job.exact_kernel,
)
if device.type == "cpu":
    cost = estimate_model_cost(data, job, seed)
    limit = config["models"]["max_cpu_hours"]  # read here: changing it reruns nothing
    log.info("estimated %.2g hours on this CPU (%s)", cost.hours, cost.line())
    if cost.hours > limit:
        raise CostLimitExceeded(model_cost_limit_message(job, cost, limit))

run = run_model_sgd(data, job, seed, device=config["device"])
tables = run_tables(run, data.y_test, seed)
meta = table_meta(snakemake)
for name, table in tables.items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
log.info(
    "network step %.4g s, linearised step %.4g s; kernel fit %.3g s",
    run.seconds.get("network_per_step", 0.0),
    run.seconds.get("linearised_per_step", 0.0),
    run.seconds.get("kernel_fit", 0.0),
)
for reference, other in (("network", "linear"), ("network", "linearised"), ("linearised", "linear")):
    value = relative_at(tables["discrepancy"], reference, other, job.max_step)
    log.info("relative MSE %s vs %s at step %d: %.4g", reference, other, job.max_step, value)
