# Section 4 and Appendix A: deep FC and convolutional networks on real images against their
# linear model (Figures 3 and 4, and Figure 3's experiment on the bundled MNIST subset).
# Chain: the source's files checked (downloaded where allowed) -> a two-class data set
# (pooled, normalised) -> the network and its linear model by SGD on the same minibatches
# -> the figure.


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
        **named_params(root=lambda wc, output: os.path.dirname(output[0])),
    script:
        "../../scripts/fetch_images.py"


rule image_data:
    """Figures 3 and 4: two classes, seeded 10,000 / 2,000 draw (or the data set's own
    sizes), pooling, per-image normalisation, labels +-1 (Section 4.2)."""
    input:
        image_source_input,
    output:
        f"{RESULTS}/deep/data/{{dataset}}_seed{{seed}}.npz",
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
        **named_params(
            # where the downloaded files are, or the npz file (bundled sources read none: no rerun when it changes)
            root=image_source_root,
            source=lambda wc: DEEP["datasets"][wc.dataset]["source"],
            classes=lambda wc: DEEP["datasets"][wc.dataset]["classes"],
            pool=lambda wc: DEEP["datasets"][wc.dataset]["pool"],
            n_train=lambda wc: dataset_entry(DEEP, wc.dataset)["n_train"],
            n_test=lambda wc: dataset_entry(DEEP, wc.dataset)["n_test"],
        ),
    script:
        "../../scripts/make_image_data.py"


rule train_deep:
    """One (data set, architecture, seed): the network (NTK parameterisation, f_0 = 0) and
    its linear model f_lin = beta^T psi (first-order Taylor expansion of the infinite-width
    NTK, Section 4.1) by SGD on the same minibatches. Checkpoints beside the output let a
    killed job resume where it stopped; on a CPU a job estimated to exceed
    deep.max_cpu_hours stops at once."""
    input:
        rules.image_data.output,
    output:
        losses=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_losses.parquet",
        outputs=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_outputs.parquet",
        discrepancy=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_discrepancy.parquet",
    log:
        f"{RESULTS}/logs/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.tsv"
    priority: DEEP_PRIORITY
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=24 * 60,
    params:
        # the settings that change the tables (the CNN's lr is the FC net's times the ratio
        # that makes their linear models equal; the job computes it from both depths,
        # Section 4.2, and stores it with its tables as lr_used)
        **named_params(
            **{name: deep_job_param(name) for name in JOB_PARAMS},
            checkpoint=lambda wc: f"{RESULTS}/deep/{wc.dataset}/{wc.arch}_seed{wc.seed}.checkpoint.pt",
        ),
    script:
        "../../scripts/train_deep.py"


for figure, (category, _) in DEEP_FIGURES.items():

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
            mem_mb=4000,
            runtime=10,
        params:
            **named_params(
                datasets=DEEP[figure],
                labels={name: dataset_label(DEEP, name) for name in DEEP[figure]},
                n_samples=DEEP["n_logit_samples"],
                title=f"{figure_title(DEEP, figure, DEEP_FIGURES[figure][1])}{scale_line('deep')}",
                # for the report's caption
                networks=networks_text(DEEP, DEEP[figure]),
                datasets_text="; ".join(dataset_label(DEEP, name) for name in DEEP[figure]),
            ),
        script:
            "../../scripts/plot_deep.py"
