# Beyond the paper: k classes and softmax cross-entropy (fig_classes). Chain: the k-class data
# sets of deep.datasets (image_data) -> a network of models.networks with k outputs beside its
# linearised network, the k-head linear model of its NTK averaged over outputs and (the FC net
# and CNN) Theta_inf (x) I_k, trained by the one engine on the same minibatches -> fig_classes.


include: "helpers/any_classes.smk"


rule train_any_classes:
    """One (data set, network, loss, seed): the network with k outputs checked before anything
    else (k against the data set's classes); its NTK at initialisation, (n, k, n, k), averaged
    over the outputs and fitted by constant + b x.x'/d on a seeded subset, with the size of its
    cross-output blocks; then the network, its linearised network, the linear model with k heads
    (and the FC net's or CNN's Theta_inf (x) I_k) by SGD with the loss and heavy-ball momentum of
    fig_classes on the same minibatches; Nakkiran et al.'s measures for k labels. A checkpoint
    beside the outputs lets a killed job resume; on a CPU a job estimated to exceed
    models.max_cpu_hours stops at once."""
    input:
        data=rules.image_data.output[0],
        model_file=lambda wc: network_file_input(MODELS["networks"][wc.net]["network"]),
    output:
        **{
            name: f"{RESULTS}/any_classes/{{dataset}}/{{net}}_{{loss}}_seed{{seed}}_{name}.parquet"
            for name in any_classes.TABLES
        },
    log:
        f"{RESULTS}/logs/train_any_classes/{{dataset}}_{{net}}_{{loss}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_any_classes/{{dataset}}_{{net}}_{{loss}}_seed{{seed}}.tsv"
    priority: TRAINING_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=12 * 60,
    params:
        job=lambda wc: any_classes.job(config, wc.dataset, wc.net, wc.loss, int(wc.seed)),
    script:
        "../../scripts/train_any_classes.py"


rule fig_classes:
    """Per data set and network: relative MSE over all outputs of each pair of models (a), test
    accuracy of each model (b), class agreement of the network with the others (c), Nakkiran
    et al.'s mu against I(F; Y) (d)."""
    input:
        **any_classes_figure_inputs(),
    output:
        pdf=f"{RESULTS}/figures/fig_classes.pdf",
        png=report(
            f"{RESULTS}/figures/fig_classes.png",
            caption="../report/fig_classes.rst",
            category="Any network (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig_classes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_classes.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=any_classes.figure_params(config, DATASET_LABELS, title_size("any_classes")),
    script:
        "../../scripts/plot_any_classes.py"
