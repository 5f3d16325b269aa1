# Helpers of the scale rules (scales.smk): sizes, paths and params of the sweeps.

from earlylin.scales.sizes import horizon_max_step, scaled_size

SCALES = config["scales"]
HORIZON = SCALES["horizon"]
WIDTH = SCALES["width"]


def lr_label(lr):
    """How a learning rate appears in paths (the `lr` wildcard): 1.0 -> '1', 0.5 -> '0.5'."""
    return format(float(lr), "g")


def scales_n(wildcards):
    """n = m = C d^(1+alpha) for the job's d (even, for the symmetric init)."""
    return scaled_size(int(wildcards.d), SCALES["C"], SCALES["alpha"])


def horizon_files(pattern):
    """One path of ``pattern`` (a horizon_run output) per (activation, d, lr, seed)."""
    return expand(
        pattern,
        activation=HORIZON["activations"],
        d=HORIZON["d_values"],
        lr=[lr_label(lr) for lr in HORIZON["lrs"]],
        seed=HORIZON["seeds"],
    )


def width_files(pattern):
    """One path of ``pattern`` (the width_run output) per (d, width, seed) of the width sweep."""
    return expand(pattern, d=WIDTH["d_values"], width=WIDTH["widths"], seed=WIDTH["seeds"])


def scales_network_params(lr, activation, width):
    """Params of a horizon or width job; values may be functions of the wildcards. The
    device and scales.chunk_rows cannot change a table: the scripts read them from the
    config (no reruns when they change)."""
    return dict(
        activation=activation,
        leaky_relu_slope=leaky_slope(activation),
        width=width,
        lr=lr,
        dtype=SCALES["dtype"],
    )
