# Helpers of the two-layer rules (two_layer.smk): the config sections, the package module
# that builds their jobs and titles, and the files of each figure.

from earlylin.experiments.two_layer import jobs as two_layer

FIG1 = config["fig1"]
FIG2 = config["fig2"]
GRID = config["regimes"]


def fig1_sweep_files(pattern):
    """One path per (d in d_sweep, seed) of Figure 1c."""
    return expand(pattern, d=FIG1["d_sweep"], seed=FIG1["seeds"])


def fig1_main_files(pattern):
    """One path per seed at the main d of Figure 1a/b."""
    return expand(pattern, d=FIG1["d"], seed=FIG1["seeds"])


def fig2_files(pattern, surrogates=("linear", "naive")):
    """One path per (linear model, seed) of Figure 2."""
    return expand(pattern, surrogate=surrogates, seed=FIG2["seeds"])


def regime_files(pattern):
    """One path of ``pattern`` (a rule's output) per (activation, regime, seed) job of the
    regime x activation grid."""
    return expand(pattern, activation=GRID["activations"], regime=GRID["regimes"], seed=GRID["seeds"])
