# Deep networks on real images (Figures 3 and 4): FC and CNN with their linear model.


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
        "../../envs/earlylin.yaml"
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=24 * 60,
    params:
        **named_params(
            activation=DEEP["activation"],
            depth=deep_param("depth"),
            width=deep_param("width"),
            filter_size=deep_param("filter_size"),
            lr=DEEP["lr"],
            # the CNN's lr is the FC net's times the ratio that makes their linear models equal;
            # the job computes it from both depths (Section 4.2) and stores it with its tables
            fc_depth=lambda wc: network_settings(DEEP, wc.dataset, "fc")["depth"],
            cnn_depth=lambda wc: network_settings(DEEP, wc.dataset, "cnn")["depth"] if wc.arch == "cnn" else None,
            batch_size=DEEP["batch_size"],
            max_step=DEEP["max_step"],
            steps_per_decade=DEEP["steps_per_decade"],
            dtype=DEEP["dtype"],
            # TF32 exists only on NVIDIA GPUs: on a CPU the key cannot change a table
            allow_tf32=DEEP["allow_tf32"] if GPU_JOBS else False,
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
            "../../envs/earlylin.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=10,
        params:
            **named_params(
                datasets=DEEP[figure],
                labels={name: deep_dataset_label(name) for name in DEEP[figure]},
                n_samples=DEEP["n_logit_samples"],
                title=deep_figure_title(figure),
            ),
        script:
            "../../scripts/plot_deep.py"
