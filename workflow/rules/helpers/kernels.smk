# Helpers of the kernel rules (kernels.smk).

from earlylin.experiments import kernel_fit_norms

FIG5 = config["fig5"]
FIG5_EXTRA = config["fig5_extra"]
FIG5_MODELS = config["fig5_models"]


def fig5_norm_files(pattern, kernels, activations):
    """One path of ``pattern`` (the ntk_norms output) per (kernel, activation, d, seed) of
    the Figure 5 sweep."""
    return expand(pattern, kernel=kernels, activation=activations, d=FIG5["d_values"], seed=FIG5["seeds"])


def fig5_models_norm_files(pattern):
    """One path of ``pattern`` (the kernel_fit_norms output) per (network, side, seed)."""
    return [pattern.format(**job) for job in kernel_fit_norms.job_wildcards(config)]
