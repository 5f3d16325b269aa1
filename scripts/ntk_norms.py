"""Rule ntk_norms: spectral and Frobenius norms of Theta_k(W(0)) - Theta_lin_k."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import write_table
from earlylin.experiments.two_layer.experiments import ntk_gap_norms

log = start_script(snakemake)
p, wc = job(snakemake), snakemake.wildcards
fig5 = snakemake.config["fig5"]  # settings that cannot change the norms are read here (no reruns)
norms = ntk_gap_norms(
    kernel=wc.kernel,
    activation=wc.activation,
    n=p["n"],
    width=p["width"],
    d=int(wc.d),
    seed=int(wc.seed),
    dtype=p["dtype"],
    compute_dtype=p["compute_dtype"],
    device=snakemake.config["device"],
    chunk_units=fig5["chunk_units"],
    leaky_relu_slope=p["leaky_relu_slope"],
)
log.info("\n%s", norms.to_string())
write_table(norms, snakemake.output[0], table_meta(snakemake))
