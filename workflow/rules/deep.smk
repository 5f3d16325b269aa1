# Deep networks on real images (Figures 3 and 4): FC and CNN with their linear model.


rule train_deep:
    """One (data set, architecture, seed): the network (NTK parameterisation, f_0 = 0) and
    its linear model f_lin = beta^T psi (first-order Taylor expansion of the infinite-width
    NTK, Section 4.1) by SGD on the same minibatches. Checkpoints beside the output let a
    killed job resume where it stopped."""
    input:
        f"{RESULTS}/deep/data/{{dataset}}_seed{{seed}}.npz",
    output:
        losses=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_losses.parquet",
        outputs=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_outputs.parquet",
        discrepancy=f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_discrepancy.parquet",
    params:
        activation=DEEP["activation"],
        depth=lambda wc: DEEP[wc.arch]["depth"],
        width=lambda wc: DEEP["fc"]["width"] if wc.arch == "fc" else DEEP["cnn"]["channels"],
        filter_size=DEEP["cnn"]["filter_size"],
        lr=lambda wc: deep_lr(wc.arch),
        batch_size=DEEP["batch_size"],
        max_step=DEEP["max_step"],
        steps_per_decade=DEEP["steps_per_decade"],
        dtype=DEEP["dtype"],
        allow_tf32=DEEP["allow_tf32"],
        device=config["device"],
        checkpoint=lambda wc: f"{RESULTS}/deep/{wc.dataset}/{wc.arch}_seed{wc.seed}.checkpoint.pt",
        checkpoint_minutes=DEEP["checkpoint_minutes"],
    log:
        f"{RESULTS}/logs/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_deep/{{dataset}}_{{arch}}_seed{{seed}}.tsv"
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=8000,
        runtime=24 * 60,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/train_deep.py"


for figure, paper in (("fig3", "Figure 3 (Section 4.2)"), ("fig4", "Figure 4 (Appendix A)")):

    rule:
        name:
            figure
        input:
            **deep_figure_inputs(DEEP[figure]),
        output:
            pdf=f"{RESULTS}/figures/{figure}.pdf",
            png=report(f"{RESULTS}/figures/{figure}.png", caption=f"../report/{figure}.rst", category=paper.split(" (")[0]),
        params:
            datasets=DEEP[figure],
            labels={
                name: f"{name} ({spec['source']} {spec['classes'][0]} vs {spec['classes'][1]}, pool {spec['pool']})"
                for name, spec in DEEP["datasets"].items()
            },
            n_samples=DEEP["n_logit_samples"],
            title=(
                f"{paper}: {DEEP['fc']['depth']}-hidden-layer FC (width {DEEP['fc']['width']}) and CNN "
                f"({DEEP['cnn']['channels']} channels) with {DEEP['activation']}, n = {DEEP['n_train']}, "
                f"batch {DEEP['batch_size']}, lr {DEEP['lr']}"
            ),
        log:
            f"{RESULTS}/logs/{figure}.log",
        threads: 1
        resources:
            mem_mb=4000,
            runtime=10,
        conda:
            "../../envs/earlylin.yaml"
        script:
            "../../scripts/plot_deep.py"
