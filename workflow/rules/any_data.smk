# Beyond the paper: any data, loss and optimiser (fig_data). Chain: the two-class data sets of
# deep.datasets (image_data) -> one network (fig_data.network) beside its linearised network
# and the linear model of its fitted NTK, per loss x heavy-ball momentum, and on the Gaussian
# clone of the training images, trained by the one engine -> fig_data.


include: "helpers/any_data.smk"


wildcard_constraints:
    loss="|".join(LOSSES),
    momentum=r"[0-9.e-]+",
    inputs="|".join(any_data.INPUTS),


rule train_any_data:
    """One (data set, loss, momentum, training inputs, seed): the network of fig_data.network,
    its linearised network and the linear model of its fitted NTK, all on the same loss,
    momentum and minibatches (Section 4.1's test beyond the square loss and plain SGD); on the
    real training images or their Gaussian clone (class means and covariances); the test
    outputs on the real test images, their relative MSE, and Nakkiran et al.'s accuracy, sign
    agreement, I(F; Y) and mu at every logged step."""
    input:
        data=rules.image_data.output[0],
        model_file=network_file_input(MODELS["networks"][FIG_DATA["network"]]["network"]),
    output:
        **{
            name: f"{RESULTS}/any_data/{{dataset}}/{{loss}}_momentum{{momentum}}_{{inputs}}_seed{{seed}}_{name}.parquet"
            for name in any_data.TABLES
        },
    log:
        f"{RESULTS}/logs/train_any_data/{{dataset}}_{{loss}}_momentum{{momentum}}_{{inputs}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_any_data/{{dataset}}_{{loss}}_momentum{{momentum}}_{{inputs}}_seed{{seed}}.tsv"
    priority: TRAINING_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=12 * 60,
    params:
        job=lambda wc: any_data.job(config, wc.dataset, wc.loss, wc.momentum, wc.inputs, int(wc.seed)),
    script:
        "../../scripts/train_any_data.py"


rule fig_data:
    """Per data set: relative MSE of the network to its linear model per loss and momentum (a),
    their sign agreement (b), Nakkiran et al.'s mu and I(F; Y) (c), the network trained on the
    Gaussian clone against the one trained on the real images (d), their outputs on real test
    images (e)."""
    input:
        **any_data_figure_inputs(),
    output:
        pdf=f"{RESULTS}/figures/fig_data.pdf",
        png=report(
            f"{RESULTS}/figures/fig_data.png",
            caption="../report/fig_data.rst",
            category="Any network (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig_data.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_data.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=any_data.figure_params(config, DATASET_LABELS, title_size("any_data")),
    script:
        "../../scripts/plot_any_data.py"
