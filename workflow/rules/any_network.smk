# Beyond the paper: Section 4.1's test for any PyTorch network (fig_models). Chain: the
# two-class data set of deep.datasets (image_data) -> the network beside its linearised
# network, the linear model of the kernel fitted to its own empirical NTK, and (the paper's FC
# net and CNN) its infinite-width kernel model, trained by the one engine on the same
# minibatches -> fig_models.


include: "helpers/any_network.smk"


wildcard_constraints:
    net="|".join(MODELS["networks"]),


rule train_any_network:
    """One (data set, network, seed): the network checked before anything else; the empirical
    NTK at initialisation fitted by constant + b x.x'/d (+ norm terms) on a seeded subset,
    averaged over initialisations; then the network, its linearised network and the fitted
    linear model (and the FC net's or CNN's exact-kernel model) by SGD on the same minibatches;
    the kernel movement. A checkpoint beside the outputs lets a killed job resume; on a CPU a
    job estimated (by a probe of the job) to exceed models.max_cpu_hours stops at once."""
    input:
        data=rules.image_data.output[0],
        model_file=lambda wc: network_file_input(MODELS["networks"][wc.net]["network"]),
    output:
        **{
            name: f"{RESULTS}/any_network/{{dataset}}/{{net}}_seed{{seed}}_{name}.parquet"
            for name in any_network.TABLES
        },
    log:
        f"{RESULTS}/logs/train_any_network/{{dataset}}_{{net}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_any_network/{{dataset}}_{{net}}_seed{{seed}}.tsv"
    priority: TRAINING_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=12 * 60,
    params:
        job=lambda wc: any_network.training_job(config, wc.dataset, wc.net, int(wc.seed)),
    script:
        "../../scripts/train_any_network.py"


rule fig_models:
    """Per data set and network: relative MSE of the network, its linearised network and its
    fitted linear model (a), test losses (b), kernel movement (c), NTK entries against
    x.x'/d with the fitted line (d)."""
    input:
        **any_network_figure_inputs(),
    output:
        pdf=f"{RESULTS}/figures/fig_models.pdf",
        png=report(
            f"{RESULTS}/figures/fig_models.png",
            caption="../report/fig_models.rst",
            category="Any network (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig_models.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_models.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=any_network.figure_params(config, DATASET_LABELS, title_size("any_network")),
    script:
        "../../scripts/plot_any_network.py"


rule train_width_sweep:
    """One (data set, network, width, seed) of fig_widths: fig_models' job with the factory's
    width argument set to the width, trained to max(models.widths.steps) beside its linearised
    network and fitted linear model (no kernel movement); a checkpoint lets a killed job resume,
    and a job estimated to exceed models.max_cpu_hours on a CPU stops at once."""
    input:
        data=rules.image_data.output[0],
        model_file=lambda wc: network_file_input(MODELS["networks"][wc.net]["network"]),
    output:
        **{
            name: f"{RESULTS}/widths/{{dataset}}/{{net}}_width{{width}}_seed{{seed}}_{name}.parquet"
            for name in any_network.TABLES
        },
    log:
        f"{RESULTS}/logs/train_width_sweep/{{dataset}}_{{net}}_width{{width}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_width_sweep/{{dataset}}_{{net}}_width{{width}}_seed{{seed}}.tsv"
    priority: TRAINING_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=12 * 60,
    params:
        job=lambda wc: width_sweep.width_job(config, wc.dataset, wc.net, int(wc.width), int(wc.seed)),
    script:
        "../../scripts/train_any_network.py"


rule fit_width_slopes:
    """Every width job's relative MSE at models.widths.steps in one table, and the least-squares
    slopes of log(mean over seeds) on log width per data set, network, pair and step."""
    input:
        discrepancy=width_sweep_inputs("discrepancy"),
        kernel_fit=width_sweep_inputs("kernel_fit"),
    output:
        relative=f"{RESULTS}/widths/relative.parquet",
        fits=f"{RESULTS}/widths/fits.parquet",
        kernel_fit=f"{RESULTS}/widths/kernel_fit.parquet",
    log:
        f"{RESULTS}/logs/fit_width_slopes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit_width_slopes.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"steps": sorted(int(s) for s in MODELS.get("widths", {}).get("steps", []))},
    script:
        "../../scripts/fit_width_slopes.py"


rule fig_widths:
    """Width as a knob: per data set and network, each pair's relative MSE at the chosen steps
    against the width, mean over seeds with min-max bars, with fitted slopes."""
    input:
        relative=rules.fit_width_slopes.output.relative,
        fits=rules.fit_width_slopes.output.fits,
        kernel_fit=rules.fit_width_slopes.output.kernel_fit,
    output:
        pdf=f"{RESULTS}/figures/fig_widths.pdf",
        png=report(
            f"{RESULTS}/figures/fig_widths.png",
            caption="../report/fig_widths.rst",
            category="Any network (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig_widths.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_widths.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=width_sweep.figure_params(config, DATASET_LABELS, title_size("widths")) if MODELS.get("widths") else {},
    script:
        "../../scripts/plot_width_sweep.py"
