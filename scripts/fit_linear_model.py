"""Rule linear_model: the network's linear model f_lin under GD, in closed form (Claim C.1)."""

from earlylin.data import Dataset
from earlylin.experiments import fit_linear_model
from earlylin.metrics import logged_steps
from earlylin.runtime import start_script
from earlylin.tables import write_table

log = start_script(snakemake)
p = snakemake.params
d, seed = int(snakemake.wildcards.d), int(snakemake.wildcards.seed)
data = Dataset.load(snakemake.input[0])
losses, outputs = fit_linear_model(
    data,
    activation=p.activation,
    lr_first=p.lr,
    lr_second=p.lr,
    steps=logged_steps(p.max_step, p.steps_per_decade),
    leaky_relu_slope=p.leaky_relu_slope,
)
meta = dict(snakemake.params.items(), d=d, seed=seed)
write_table(losses.assign(d=d, seed=seed), snakemake.output.losses, meta)
write_table(outputs.assign(d=d, seed=seed), snakemake.output.outputs, meta)
log.info("final test loss %.5f", losses.query("split == 'test'")["value"].iloc[-1])
