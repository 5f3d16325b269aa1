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


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/deep.smk"
include: "workflow/rules/ntk.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/plots.smk"


rule figures:
    default_target: True
    input:
        rules.fig1.output,
        rules.fig2.output,
        rules.fig_regimes.output,
        rules.fig3.output,
        rules.fig4.output,
        rules.fig5.output,
        rules.fig5_extra.output,
        rules.scorecard.output,
