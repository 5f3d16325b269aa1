"""Rule image_data: the two-class real-image data set of Figure 3 / 4 (pooled, normalised)."""

from earlylin.data import rng_stream
from earlylin.deep.images import image_dataset
from earlylin.runtime import start_script, wildcard_columns

log = start_script(snakemake)
p = snakemake.params
seed = wildcard_columns(snakemake)["seed"]
data = image_dataset(
    p.source,
    p.root,
    tuple(p.classes),
    p.n_train,
    p.n_test,
    p.pool,
    rng_stream(seed, "image-subset", *p.classes),
    download=False,  # fetch_images has made sure the files are there
)
log.info(
    "%s (%s, classes %s, pool %d): train %s, test %s, image shape %s",
    snakemake.wildcards.dataset,
    p.source,
    p.classes,
    p.pool,
    data.X_train.shape,
    data.X_test.shape,
    data.image_shape,
)
data.save(snakemake.output[0])
