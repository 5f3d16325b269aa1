# Section 4 and Appendix A: deep FC and convolutional networks on real images against their
# linear model (Figures 3 and 4, and Figure 3's experiment on the bundled MNIST subset).
# Chain: the source's files checked (downloaded where allowed) -> a two-class data set
# (pooled, normalised) -> the network and the models beside it, trained by the one engine
# on the same minibatches -> the figure.


include: "helpers/deep.smk"


rule fetch_images:
    """A downloaded source (CIFAR-10, MNIST, FashionMNIST, KMNIST, CIFAR-100, SVHN) via
    torchvision into deep.data_root, checksums verified where torchvision has them; a small
    JSON receipt marks success (downloads only when deep.download is true; the script
    reads that key from the config, so switching it reruns nothing)."""
    output:
        f"{DEEP['data_root']}/{{source}}.verified.json",
    log:
        f"{RESULTS}/logs/fetch_images/{{source}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fetch_images/{{source}}.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        job=lambda wc, output: {"root": os.path.dirname(output[0])},
    script:
        "../../scripts/fetch_images.py"


rule image_data:
    """Figures 3 and 4: two classes, seeded 10,000 / 2,000 draw (or the data set's own
    sizes), pooling, per-image normalisation, labels +-1 (Section 4.2); shared by fig_models
    and fig_data."""
    input:
        image_source_input,
    output:
        f"{RESULTS}/images/{{dataset}}_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/image_data/{{dataset}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/image_data/{{dataset}}_seed{{seed}}.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        job=lambda wc: image_data_job(DEEP, wc.dataset),
    script:
        "../../scripts/make_image_data.py"


rule train_deep:
    """One (data set, architecture, seed): the network (NTK parameterisation, f_0 = 0), its
    linear model f_lin = beta^T psi (first-order Taylor expansion of the infinite-width NTK,
    Section 4.1) and, when the config asks, its linearised network and infinite-width kernel
    model, by SGD on the same minibatches. A checkpoint beside the outputs lets a killed job
    resume where it stopped; on a CPU a job estimated to exceed deep.max_cpu_hours stops at
    once."""
    input:
        data=rules.image_data.output[0],
    output:
        **{name: f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_{name}.parquet" for name in deep.TABLES},
    log:
        f"{RESULTS}/logs/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.tsv"
    priority: TRAINING_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=24 * 60,
    params:
        job=lambda wc: deep.training_job(config, wc.dataset, wc.arch, int(wc.seed)),
    script:
        "../../scripts/train_deep.py"


for figure, (category, _) in deep.FIGURES.items():

    rule:
        name:
            figure
        input:
            **deep_figure_inputs(DEEP[figure]),
        output:
            pdf=f"{RESULTS}/figures/{figure}.pdf",
            png=report(f"{RESULTS}/figures/{figure}.png", caption=f"../report/{figure}.rst", category=category),
        log:
            f"{RESULTS}/logs/{figure}.log",
        benchmark:
            f"{RESULTS}/benchmarks/{figure}.tsv"
        conda:
            ENV
        resources:
            **LIGHT,
        params:
            job=deep.figure_params(DEEP, figure, title_size("deep")),
        script:
            "../../scripts/plot_deep.py"
