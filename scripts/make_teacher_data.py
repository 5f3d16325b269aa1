"""Rule teacher_data: draw the Figure 1 data set for one (d, seed)."""

from earlylin.data import teacher_dataset
from earlylin.runtime import start_script

log = start_script(snakemake)
data = teacher_dataset(
    d=int(snakemake.wildcards.d),
    n_train=snakemake.params.n_train,
    n_test=snakemake.params.n_test,
    teacher_width=snakemake.params.teacher_width,
    seed=int(snakemake.wildcards.seed),
)
log.info("train %s, test %s, fraction of +1 labels %.3f", data.X_train.shape, data.X_test.shape, (data.y_train > 0).mean())
data.save(snakemake.output[0])
