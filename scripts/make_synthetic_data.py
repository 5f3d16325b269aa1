"""Rules teacher_data, fig2_data, regimes_data, scales_data: draw one synthetic data set
(Section 3.4)."""

from earlylin.core.runtime import job, start_script, wildcard_columns
from earlylin.data.synthetic import synthetic_dataset

log = start_script(snakemake)
p, wc = job(snakemake), wildcard_columns(snakemake)
data = synthetic_dataset(
    p["target"],
    d=wc["d"] if "d" in wc else p["d"],
    n_train=p["n_train"],
    n_test=p["n_test"],
    seed=wc["seed"],
    teacher_width=p["teacher_width"],
)
log.info(
    "%s target: train %s, test %s, label mean %.3f, std %.3f",
    p["target"],
    data.X_train.shape,
    data.X_test.shape,
    data.y_train.mean(),
    data.y_train.std(),
)
data.save(snakemake.output[0])
