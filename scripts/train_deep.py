"""Rule train_deep: one deep network (FC or CNN) and its linear model by SGD on the same
minibatches (Section 4.2); test losses (split onto V_lin), outputs and discrepancy."""

from pathlib import Path

from earlylin.cost import (
    CostLimitExceeded,
    cost_limit_message,
    format_hours,
    job_cost,
    job_cost_line,
    measure_flop_rate,
)
from earlylin.data import Dataset
from earlylin.deep_jobs import deep_job
from earlylin.deep_networks import DeepNetworkSpec
from earlylin.deep_training import DeepSGDSettings, run_deep_sgd
from earlylin.metrics import logged_steps
from earlylin.ntk_recursion import matched_learning_rate
from earlylin.runtime import resolve_device, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table

log = start_script(snakemake)
p = snakemake.params
deep = snakemake.config["deep"]  # settings that cannot change a table are read here, not as params
columns = wildcard_columns(snakemake)
arch, dataset = columns["arch"], columns["dataset"]
data = Dataset.load(snakemake.input[0])
lr = matched_learning_rate(p.lr, arch, p.activation, p.fc_depth, p.cnn_depth)
settings = DeepSGDSettings(
    lr=lr,
    logged_steps=tuple(logged_steps(p.max_step, p.steps_per_decade)),
    seed=columns["seed"],
    batch_size=p.batch_size,
    dtype=p.dtype,
    allow_tf32=p.allow_tf32,
    device=snakemake.config["device"],
    checkpoint_path=p.checkpoint,
    checkpoint_seconds=60 * deep["checkpoint_minutes"],
)
device = resolve_device(settings.device)
log.info(
    "%s on %s: n = %d, d = %d, image shape %s, lr %g (FC lr %g), batch %d, %d steps, %s on %s",
    arch,
    dataset,
    len(data.y_train),
    data.input_dim,
    data.image_shape,
    lr,
    p.lr,
    p.batch_size,
    p.max_step,
    p.dtype,
    device,
)

if device.type == "cpu":
    job = deep_job(deep, dataset, arch)
    rate = measure_flop_rate(job, p.dtype)
    hours = job_cost(job, len(settings.logged_steps)).hours(rate)
    log.info("estimated %s on this CPU (%s)", format_hours(hours), job_cost_line(job, rate))
    if hours > deep["max_cpu_hours"] and not Path(p.checkpoint).exists():
        raise CostLimitExceeded(cost_limit_message(job, hours, rate, deep["max_cpu_hours"]))

spec = DeepNetworkSpec(
    arch, p.depth, p.width, p.activation, **({"filter_size": p.filter_size} if arch == "cnn" else {})
)
record, (losses, outputs, discrepancy) = run_deep_sgd(data, spec, settings)
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
meta = dict(table_meta(snakemake), lr_used=lr)
for name, table in (("losses", losses), ("outputs", outputs), ("discrepancy", discrepancy)):
    write_table(table.assign(**columns), snakemake.output[name], meta)
final = discrepancy.query("metric == 'relative_mse'")["value"].iloc[-1]
log.info("relative MSE network vs linear model at step %d: %.4g", p.max_step, final)
log.info("the finished run stays recorded in %s (a rerun rebuilds the tables from it)", p.checkpoint)
