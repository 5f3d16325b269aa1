# Helpers of the kernel rules (kernels.smk).

FIG5 = config["fig5"]
FIG5_EXTRA = config["fig5_extra"]


def fig5_norm_files(pattern, kernels, activations):
    """One path of ``pattern`` (the ntk_norms output) per (kernel, activation, d, seed) of
    the Figure 5 sweep."""
    return expand(pattern, kernel=kernels, activation=activations, d=FIG5["d_values"], seed=FIG5["seeds"])
