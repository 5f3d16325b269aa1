# Beyond the paper: Section 4.1's test for any PyTorch network. Chain: the two-class data set
# of deep.datasets (image_data) -> the network beside its linearised network, the linear
# model of the kernel fitted to its own empirical NTK, and (the paper's FC net and CNN) its
# infinite-width kernel model, on the same minibatches -> fig_models.


include: "helpers/models.smk"


wildcard_constraints:
    net="|".join(MODELS["networks"]),


rule train_model:
    """One (data set, network, seed): the empirical NTK at initialisation fitted by constant
    + b x.x'/d (+ norm terms) on a seeded subset, averaged over initialisations; then the
    network, its linearised network and the fitted linear model (and the FC net's or CNN's
    exact-kernel model) by SGD on the same minibatches; the kernel movement. On a CPU a job
    estimated (by a probe of the job) to exceed models.max_cpu_hours stops at once."""
    input:
        data=rules.image_data.output[0],
        model_file=model_file_input,
    output:
        **{name: f"{RESULTS}/models/{{dataset}}/{{net}}_seed{{seed}}_{name}.parquet" for name in MODEL_TABLES},
    log:
        f"{RESULTS}/logs/train_model/{{dataset}}_{{net}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{dataset}}_{{net}}_seed{{seed}}.tsv"
    priority: DEEP_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=12 * 60,
    params:
        **named_params(**{name: model_job_param(name) for name in MODEL_JOB_PARAMS}),
    script:
        "../../scripts/train_model.py"


rule fig_models:
    """Per data set and network: relative MSE of the network, its linearised network and its
    fitted linear model (a), test losses (b), kernel movement (c), NTK entries against
    x.x'/d with the fitted line (d)."""
    input:
        **model_figure_inputs(),
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
        mem_mb=4000,
        runtime=10,
    params:
        **named_params(
            datasets=MODELS["datasets"],
            networks=MODELS["train"],
            labels={name: dataset_label(DEEP, name) for name in MODELS["datasets"]},
            network_labels={name: network_text(MODELS["networks"][name]) for name in MODELS["train"]},
            title="Any network: early SGD against its linearised network and the linear model of its fitted NTK "
            f"(Section 4.1){scale_line('models')}",
            # for the report's caption
            networks_text=models_text(),
        ),
    script:
        "../../scripts/plot_models.py"
