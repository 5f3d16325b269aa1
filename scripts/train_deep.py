"""Rule train_deep: one deep network (FC or CNN) and its linear model by SGD on the same
minibatches (Section 4.2); test losses (split onto V_lin), outputs and discrepancy."""

from earlylin.data import Dataset
from earlylin.deep_training import run_deep_sgd
from earlylin.metrics import logged_steps
from earlylin.runtime import start_script, table_meta, wildcard_columns
from earlylin.tables import write_table

log = start_script(snakemake)
p = snakemake.params
columns = wildcard_columns(snakemake)
data = Dataset.load(snakemake.input[0])
log.info("%s on %s: n = %d, d = %d, image shape %s, lr %g, batch %d, %d steps, %s on %s", columns["arch"],
         columns["dataset"], len(data.y_train), data.input_dim, data.image_shape, p.lr, p.batch_size, p.max_step,
         p.dtype, p.device)
losses, outputs, discrepancy = run_deep_sgd(
    data,
    architecture=columns["arch"],
    depth=p.depth,
    width=p.width,
    filter_size=p.filter_size,
    activation=p.activation,
    lr=p.lr,
    steps=logged_steps(p.max_step, p.steps_per_decade),
    seed=columns["seed"],
    batch_size=p.batch_size,
    device=p.device,
    dtype=p.dtype,
    allow_tf32=p.allow_tf32,
    checkpoint_path=p.checkpoint,
    checkpoint_seconds=60 * p.checkpoint_minutes,
)
meta = table_meta(snakemake)
for name, table in (("losses", losses), ("outputs", outputs), ("discrepancy", discrepancy)):
    write_table(table.assign(**columns), snakemake.output[name], meta)
final = discrepancy.query("metric == 'relative_mse'")["value"].iloc[-1]
log.info("relative MSE network vs linear model at step %d: %.4g", p.max_step, final)
