"""Rule width_run: one network of the width sweep against f_lin (eq. 11) at early steps."""

from earlylin.core.runtime import job, run_options, start_script, table_meta
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.scales.runs import width_run

log = start_script(snakemake)
p, wc = job(snakemake), snakemake.wildcards
options = run_options(snakemake, "scales")  # device, chunk rows: from the config (no reruns)
data = Dataset.load(snakemake.input[0])
log.info(
    "%s, d = %d, n = %d, width %d, lr %g, steps %s, %s on %s",
    p["activation"],
    data.input_dim,
    p["n"],
    p["width"],
    p["lr"],
    list(p["steps"]),
    p["dtype"],
    options["device"],
)
table = width_run(
    data,
    activation=p["activation"],
    width=p["width"],
    lr=p["lr"],
    steps=list(p["steps"]),
    seed=int(wc.seed),
    dtype=p["dtype"],
    leaky_relu_slope=p["leaky_relu_slope"],
    **options,
)
columns = dict(
    activation=p["activation"], d=int(wc.d), width=int(wc.width), seed=int(wc.seed), n=p["n"], lr=float(p["lr"])
)
write_table(table.assign(**columns), snakemake.output[0], table_meta(snakemake))
log.info("relative MSE: %s", table.query("metric == 'relative_mse'")[["step", "value"]].to_dict("records"))
