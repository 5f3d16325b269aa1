"""Rule train_deep: one deep network (FC or CNN) and its linear model by SGD on the same
minibatches (Section 4.2); test losses (split onto V_lin), outputs and discrepancy."""

import dataclasses
from pathlib import Path

from earlylin.data import Dataset
from earlylin.deep.cost import (
    CostLimitExceeded,
    cost_limit_message,
    format_hours,
    job_cost,
    job_cost_line,
    measure_flop_rate,
)
from earlylin.deep.jobs import deep_job
from earlylin.deep.training import job_settings, run_deep_sgd
from earlylin.devices import resolve_device
from earlylin.host import training_on_gpu
from earlylin.runtime import rule_params, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table

log = start_script(snakemake)
p = snakemake.params
config = snakemake.config
deep = config["deep"]  # settings that cannot change a table are read here, not as params
columns = wildcard_columns(snakemake)
# The job's settings, built once from the config by the function that gave the rule its
# params. TF32 follows the rule's record: the host that parsed the Snakefile decided whether
# the job trains on a GPU (a cluster's login node may see none where the job's node has one).
job = deep_job(deep, columns["dataset"], columns["arch"], gpu=training_on_gpu(config["device"]))
job = dataclasses.replace(job, allow_tf32=p.allow_tf32)
given = {name: value for name, value in rule_params(snakemake).items() if name != "checkpoint"}
if given != job.params():
    raise RuntimeError(f"train_deep params {given} differ from the job's settings {job.params()}")
data = Dataset.load(snakemake.input[0])
settings = job_settings(
    job,
    columns["seed"],
    device=config["device"],
    checkpoint_path=p.checkpoint,
    checkpoint_seconds=60 * deep["checkpoint_minutes"],
)
device = resolve_device(settings.device)
log.info(
    "%s on %s: n = %d, d = %d, image shape %s, lr %g (FC lr %g), batch %d, %d steps, %s on %s",
    job.arch,
    job.dataset,
    len(data.y_train),
    data.input_dim,
    data.image_shape,
    settings.lr,
    job.lr,
    job.batch_size,
    job.max_step,
    job.dtype,
    device,
)

if device.type == "cpu":
    rate = measure_flop_rate(job)
    hours = job_cost(job, len(settings.logged_steps)).hours(rate)
    log.info("estimated %s on this CPU (%s)", format_hours(hours), job_cost_line(job, rate))
    if hours > deep["max_cpu_hours"] and not Path(p.checkpoint).exists():
        raise CostLimitExceeded(cost_limit_message(job, hours, rate, deep["max_cpu_hours"]))

record, (losses, outputs, discrepancy) = run_deep_sgd(data, job.network, settings)
if record.reused_finished:
    log.info("tables rebuilt from the finished run in %s", p.checkpoint)
else:
    log.info(
        "SGD step %.4g s (%d steps timed); logging %.4g s per logged step (%d); outputs at init %.3g s",
        record.seconds_per_step,
        record.counts.get("sgd", 0),
        record.seconds_per_log,
        record.counts.get("logging", 0),
        record.seconds.get("initial_outputs", 0.0),
    )
meta = dict(table_meta(snakemake), lr_used=settings.lr)
for name, table in (("losses", losses), ("outputs", outputs), ("discrepancy", discrepancy)):
    write_table(table.assign(**columns), snakemake.output[name], meta)
final = discrepancy.query("metric == 'relative_mse'")["value"].iloc[-1]
log.info("relative MSE network vs linear model at step %d: %.4g", job.max_step, final)
log.info("the finished run stays recorded in %s (a rerun rebuilds the tables from it)", p.checkpoint)
