"""Rules train_two_layer, train_fig2, train_regime: GD on the two-layer network (eq. 4) and,
on the same data and learning rates, its linear model(s) in closed form (Claim C.1); losses
and test outputs of each per logged step."""

from earlylin.data import Dataset
from earlylin.metrics import logged_steps
from earlylin.runtime import run_options, start_script, table_meta, wildcard_columns
from earlylin.tables import write_table
from earlylin.two_layer.experiments import fit_linear_model, train_network

log = start_script(snakemake)
p = snakemake.params
options = run_options(snakemake, p.section)  # device, chunk rows: from the config (no reruns)
data = Dataset.load(snakemake.input[0])
steps = logged_steps(p.max_step, p.steps_per_decade)
columns, meta = wildcard_columns(snakemake), table_meta(snakemake)
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
common = dict(
    activation=p.activation,
    lr_first=p.lr_first,
    lr_second=p.lr_second,
    steps=steps,
    leaky_relu_slope=p.leaky_relu_slope,
)
losses, outputs = train_network(data, width=p.width, seed=columns["seed"], dtype=p.dtype, **common, **options)
write_table(losses.assign(**columns), snakemake.output.losses, meta)
write_table(outputs.assign(**columns), snakemake.output.outputs, meta)
log.info("network: final train loss %.5f", losses.query("split == 'train'")["value"].iloc[-1])
for model in p.linear_models:  # f_lin (eq. 5, 9 or 11 by the learning rates); naive: theta1 = theta2 = 0
    losses, outputs = fit_linear_model(data, naive=model == "naive", model=model, **common)
    write_table(losses.assign(**columns), snakemake.output[f"{model}_losses"], meta)
    write_table(outputs.assign(**columns), snakemake.output[f"{model}_outputs"], meta)
    log.info("%s model: final test loss %.5f", model, losses.query("split == 'test'")["value"].iloc[-1])
