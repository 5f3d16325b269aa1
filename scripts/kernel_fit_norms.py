"""Rule kernel_fit_norms: one network's NTK against the simple kernel fitted to it."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import write_table
from earlylin.experiments.kernel_fit_norms import norms_table

log = start_script(snakemake)
norms = norms_table(job(snakemake), device=snakemake.config["device"])  # the device cannot change the norms
log.info("\n%s", norms.T.to_string())
write_table(norms, snakemake.output[0], table_meta(snakemake))
