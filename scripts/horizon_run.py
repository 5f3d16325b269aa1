"""Rule horizon_run: one two-layer network (both layers, eta1 = eta2) and its linear model
psi (eq. 11); discrepancy curves, agreement horizons and T_lin."""

from earlylin.core.runtime import job, run_options, start_script, table_meta
from earlylin.core.tables import write_table
from earlylin.data.dataset import Dataset
from earlylin.experiments.scales.runs import horizon_run

log = start_script(snakemake)
p, wc = job(snakemake), snakemake.wildcards
options = run_options(snakemake, "scales")  # device, chunk rows: from the config (no reruns)
data = Dataset.load(snakemake.input[0])
log.info(
    "%s, d = %d, n = m = %d, lr %g, %d steps (%g x d log d / lr), %s on %s",
    p["activation"],
    data.input_dim,
    p["width"],
    p["lr"],
    p["max_step"],
    p["window"],
    p["dtype"],
    options["device"],
)
curves, horizons = horizon_run(
    data,
    activation=p["activation"],
    width=p["width"],
    lr=p["lr"],
    max_step=p["max_step"],
    steps_per_decade=p["steps_per_decade"],
    thresholds=list(p["thresholds"]),
    converged_tol=p["converged_tol"],
    seed=int(wc.seed),
    dtype=p["dtype"],
    leaky_relu_slope=p["leaky_relu_slope"],
    **options,
)
columns = dict(
    activation=p["activation"], d=int(wc.d), lr=float(p["lr"]), seed=int(wc.seed), n=p["width"], m=p["width"]
)
meta = dict(table_meta(snakemake), lr=float(p["lr"]))
write_table(curves.assign(**columns), snakemake.output.curves, meta)
write_table(horizons.assign(**columns), snakemake.output.horizons, meta)
for row in horizons.itertuples():
    log.info(
        "%s, threshold %g: T_agree %s (relative MSE %.3g at step 1), T_lin %d",
        row.split,
        row.threshold,
        int(row.horizon) if row.reached else f"> {row.last_step}",
        row.relative_first,
        row.t_lin,
    )
