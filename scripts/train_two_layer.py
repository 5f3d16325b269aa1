"""Rule train_two_layer: GD on the two-layer network, losses and test outputs per logged step."""

from earlylin.data import Dataset
from earlylin.experiments import train_network
from earlylin.metrics import logged_steps
from earlylin.runtime import start_script
from earlylin.tables import write_table

log = start_script(snakemake)
p = snakemake.params
d, seed = int(snakemake.wildcards.d), int(snakemake.wildcards.seed)
data = Dataset.load(snakemake.input[0])
steps = logged_steps(p.max_step, p.steps_per_decade)
log.info("training %s width %d, lr %g, %d steps, %s on %s", p.activation, p.width, p.lr, steps[-1], p.dtype, p.device)
losses, outputs = train_network(
    data,
    activation=p.activation,
    width=p.width,
    lr_first=p.lr,
    lr_second=p.lr,
    steps=steps,
    seed=seed,
    dtype=p.dtype,
    device=p.device,
    leaky_relu_slope=p.leaky_relu_slope,
    chunk_rows=p.chunk_rows,
)
meta = dict(snakemake.params.items(), d=d, seed=seed)
write_table(losses.assign(d=d, seed=seed), snakemake.output.losses, meta)
write_table(outputs.assign(d=d, seed=seed), snakemake.output.outputs, meta)
log.info("final train loss %.5f", losses.query("split == 'train'")["value"].iloc[-1])
