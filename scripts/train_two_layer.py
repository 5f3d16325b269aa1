"""Rules train_two_layer, train_fig2, train_regime: GD on the two-layer network (eq. 4);
losses and test outputs per logged step."""

from earlylin.data import Dataset
from earlylin.metrics import logged_steps
from earlylin.runtime import run_options, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table
from earlylin.two_layer.experiments import train_network

log = start_script(snakemake)
p = snakemake.params
options = run_options(snakemake, p.section)  # device, chunk rows: from the config (no reruns)
data = Dataset.load(snakemake.input[0])
steps = logged_steps(p.max_step, p.steps_per_decade)
log.info(
    "training %s width %d, lr (first, second) = (%g, %g), %d steps, %s on %s",
    p.activation,
    p.width,
    p.lr_first,
    p.lr_second,
    steps[-1],
    p.dtype,
    options["device"],
)
losses, outputs = train_network(
    data,
    activation=p.activation,
    width=p.width,
    lr_first=p.lr_first,
    lr_second=p.lr_second,
    steps=steps,
    seed=wildcard_columns(snakemake)["seed"],
    dtype=p.dtype,
    leaky_relu_slope=p.leaky_relu_slope,
    **options,
)
columns = wildcard_columns(snakemake)
write_table(losses.assign(**columns), snakemake.output.losses, table_meta(snakemake))
write_table(outputs.assign(**columns), snakemake.output.outputs, table_meta(snakemake))
log.info("final train loss %.5f", losses.query("split == 'train'")["value"].iloc[-1])
