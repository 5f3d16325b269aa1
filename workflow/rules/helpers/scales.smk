# Helpers of the scale rules (scales.smk): the package module that builds their jobs and
# titles, and the files of the sweeps.

from earlylin.experiments.scales import jobs as scales

SCALES = config["scales"]
HORIZON = SCALES["horizon"]
WIDTH = SCALES["width"]


def horizon_files(pattern):
    """One path of ``pattern`` (a horizon_run output) per (activation, d, lr, seed)."""
    return expand(
        pattern,
        activation=HORIZON["activations"],
        d=HORIZON["d_values"],
        lr=[scales.lr_label(lr) for lr in HORIZON["lrs"]],
        seed=HORIZON["seeds"],
    )


def width_files(pattern):
    """One path of ``pattern`` (the width_run output) per (d, width, seed) of the width sweep."""
    return expand(pattern, d=WIDTH["d_values"], width=WIDTH["widths"], seed=WIDTH["seeds"])
