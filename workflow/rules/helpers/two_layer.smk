# Helpers of the two-layer rules (two_layer.smk): the config sections, the params of a
# training job, and the files of each figure.

FIG1 = config["fig1"]
FIG2 = config["fig2"]
GRID = config["regimes"]


def network_params(section, lr_first, lr_second, activation=None):
    """Params of a two-layer training job (the network and its linear models) from a config
    section (by name: fig1, fig2 or regimes). Values may be functions of the wildcards, as
    everywhere in params. The script reads the section's chunk_rows and the device from the
    config."""
    settings = config[section]
    activation = activation or settings["activation"]
    return dict(
        activation=activation,
        leaky_relu_slope=leaky_slope(activation),
        width=settings["width"],
        lr_first=lr_first,
        lr_second=lr_second,
        max_step=settings["max_step"],
        steps_per_decade=settings["steps_per_decade"],
        dtype=settings["dtype"],
        section=section,
    )


def regime_lr(regime, layer):
    """eta1 (layer 0) or eta2 (layer 1) of a grid job: the regime's lr on trained layers."""
    return REGIMES[regime].learning_rates(GRID["lr"][regime])[layer]


def fig1_sweep_files(pattern):
    """One path per (d in d_sweep, seed) of Figure 1c."""
    return expand(pattern, d=FIG1["d_sweep"], seed=FIG1["seeds"])


def fig1_main_files(pattern):
    """One path per seed at the main d of Figure 1a/b."""
    return expand(pattern, d=FIG1["d"], seed=FIG1["seeds"])


def fig2_files(pattern, models=("linear", "naive")):
    """One path per (linear model, seed) of Figure 2."""
    return expand(pattern, model=models, seed=FIG2["seeds"])


def regime_files(pattern):
    """One path of ``pattern`` (a rule's output) per (activation, regime, seed) job of the
    regime x activation grid."""
    return expand(pattern, activation=GRID["activations"], regime=GRID["regimes"], seed=GRID["seeds"])
