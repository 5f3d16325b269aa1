"""Rules train_two_layer, train_fig2, train_regime: GD on the two-layer network (eq. 4) and,
on the same data and learning rates, its linear model(s) in closed form (Claim C.1); losses
and test outputs of each per logged step."""

from earlylin.core.runtime import job, run_options, start_script, table_meta, wildcard_columns
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.two_layer.experiments import two_layer_tables

log = start_script(snakemake)
p = job(snakemake)
options = run_options(snakemake, p["section"])  # device, chunk rows: from the config (no reruns)
data = Dataset.load(snakemake.input[0])
columns, meta = wildcard_columns(snakemake), table_meta(snakemake)
log.info(
    "training %s width %d, lr (first, second) = (%g, %g), %d steps, %s on %s",
    p["activation"],
    p["width"],
    p["lr_first"],
    p["lr_second"],
    p["max_step"],
    p["dtype"],
    options["device"],
)
for name, table in two_layer_tables(data, p, columns["seed"], options).items():
    write_table(table.assign(**columns), snakemake.output[name], meta)
    if name == "losses":
        log.info("network: final train loss %.5f", table.query("split == 'train'")["value"].iloc[-1])
    elif name.endswith("_losses"):
        log.info(
            "%s model: final test loss %.5f", name[: -len("_losses")], table.query("split == 'test'")["value"].iloc[-1]
        )
