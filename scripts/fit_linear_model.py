"""Rules linear_model, linear_fig2, linear_regime: the network's linear model (eq. 5, 9
or 11 by the learning rates; naive: theta1 = theta2 = 0) under GD, in closed form."""

from earlylin.data import Dataset
from earlylin.metrics import logged_steps
from earlylin.runtime import start_script, table_meta, wildcard_columns
from earlylin.tables import write_table
from earlylin.two_layer.experiments import fit_linear_model

log = start_script(snakemake)
p = snakemake.params
data = Dataset.load(snakemake.input[0])
losses, outputs = fit_linear_model(
    data,
    activation=p.activation,
    lr_first=p.lr_first,
    lr_second=p.lr_second,
    steps=logged_steps(p.max_step, p.steps_per_decade),
    naive=p.naive,
    model=p.model,
    leaky_relu_slope=p.leaky_relu_slope,
)
columns = wildcard_columns(snakemake)
write_table(losses.assign(**columns), snakemake.output.losses, table_meta(snakemake))
write_table(outputs.assign(**columns), snakemake.output.outputs, table_meta(snakemake))
log.info("%s model: final test loss %.5f", p.model, losses.query("split == 'test'")["value"].iloc[-1])
