# Plot stage: figures from the tidy tables only.


rule fig1:
    """Figure 1 (a, b, c): two-layer erf network vs its linear model (Section 3.4)."""
    input:
        network_losses=fig1_main_files(f"{RESULTS}/fig1/network_losses_d{{d}}_seed{{seed}}.parquet"),
        linear_losses=fig1_main_files(f"{RESULTS}/fig1/linear_losses_d{{d}}_seed{{seed}}.parquet"),
        logits=fig1_main_files(f"{RESULTS}/fig1/logits_d{{d}}_seed{{seed}}.parquet"),
        discrepancy=fig1_sweep_files(f"{RESULTS}/fig1/discrepancy_d{{d}}_seed{{seed}}.parquet"),
    output:
        pdf=f"{RESULTS}/figures/fig1.pdf",
        png=f"{RESULTS}/figures/fig1.png",
    params:
        title=(
            f"Figure 1: {FIG1['activation']} network, width {FIG1['width']}, "
            f"d = {FIG1['d']}, n = {FIG1['n_train']}, lr = {FIG1['lr']}"
        ),
    log:
        f"{RESULTS}/logs/fig1.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/plot_fig1.py"
