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
