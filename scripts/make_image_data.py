"""Rule image_data: the two-class real-image data set of Figure 3 / 4 (pooled, normalised)."""

from earlylin.core.runtime import job, start_script, wildcard_columns
from earlylin.data.images import image_data_from_job

log = start_script(snakemake)
p = job(snakemake)
data = image_data_from_job(p, wildcard_columns(snakemake)["seed"])
log.info(
    "%s: %s; train %s, test %s, image shape %s",
    snakemake.wildcards.dataset,
    p,
    data.X_train.shape,
    data.X_test.shape,
    data.image_shape,
)
data.save(snakemake.output[0])
