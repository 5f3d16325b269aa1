# early-linear: reproduces "The Surprising Simplicity of the Early-Time Learning
# Dynamics of Neural Networks" (Hu, Xiao, Adlam, Pennington, NeurIPS 2020).
#
#   snakemake --cores all figures                                # every figure
#   snakemake --cores all fig1                                   # one figure
#   snakemake --cores all figures --configfile config/preview.yaml   # CPU preview

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# One rule file per experiment of the package (src/earlylin/experiments/): Section 3's
# two-layer experiments, Section 4's deep networks, any network and any data, loss and
# optimiser against the linear model (beyond the paper), Figure 5's kernels, the theorems'
# scales, and the scorecard that reads them all. The package is installed (pip install -e .).
include: "workflow/rules/common.smk"
include: "workflow/rules/two_layer.smk"
include: "workflow/rules/deep.smk"
include: "workflow/rules/any_network.smk"
include: "workflow/rules/any_data.smk"
include: "workflow/rules/any_classes.smk"
include: "workflow/rules/kernels.smk"
include: "workflow/rules/scales.smk"
include: "workflow/rules/scorecard.smk"


onstart:
    end_run_on_signals()


# Light jobs (data draws, comparisons, summaries, figures, the scorecard) run where
# Snakemake runs, not through a cluster's queue: seconds of work each, and fetch_images
# needs the internet access that login nodes have and compute nodes often lack.
localrules:
    teacher_data,
    fig2_data,
    regimes_data,
    scales_data,
    fetch_images,
    image_data,
    compare_fig1,
    compare_fig2,
    regime_horizons,
    fit_ntk_slopes,
    fit_kernel_fit_slopes,
    fit_width_slopes,
    horizon_summary,
    width_summary,
    fig1,
    fig2,
    fig_regimes,
    fig3,
    fig4,
    fig3_offline,
    fig_models,
    fig_widths,
    fig_data,
    fig_classes,
    fig5,
    fig5_extra,
    fig5_models,
    fig_horizon,
    fig_width,
    scorecard,
    figures,


rule figures:
    default_target: True
    input:
        rules.fig1.output,
        rules.fig2.output,
        rules.fig_regimes.output,
        rules.fig3.output,
        rules.fig4.output,
        rules.fig3_offline.output,
        rules.fig_models.output,
        rules.fig_widths.output,
        rules.fig_data.output,
        rules.fig_classes.output,
        rules.fig5.output,
        rules.fig5_extra.output,
        rules.fig5_models.output,
        rules.fig_horizon.output,
        rules.fig_width.output,
        rules.scorecard.output,
