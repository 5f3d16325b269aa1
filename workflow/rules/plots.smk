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
        png=report(f"{RESULTS}/figures/fig1.png", caption="../report/fig1.rst", category="Figure 1"),
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


rule fig2:
    """Figure 2: norm-dependent target; network vs f_lin (eq. 11) vs the naive linear model."""
    input:
        network_losses=expand(f"{RESULTS}/fig2/network_losses_seed{{seed}}.parquet", seed=FIG2["seeds"]),
        linear_losses=fig2_files(f"{RESULTS}/fig2/{{model}}_losses_seed{{seed}}.parquet"),
        discrepancy=fig2_files(f"{RESULTS}/fig2/discrepancy_{{model}}_seed{{seed}}.parquet"),
        logits=expand(f"{RESULTS}/fig2/logits_{{model}}_seed{{seed}}.parquet", model=["linear", "naive"], seed=FIG2["seeds"][0]),
    output:
        pdf=f"{RESULTS}/figures/fig2.pdf",
        png=report(f"{RESULTS}/figures/fig2.png", caption="../report/fig2.rst", category="Figure 2"),
    params:
        title=(
            f"Figure 2: y = ‖x‖/√d + ReLU(aᵀx); {FIG2['activation']} network, width {FIG2['width']}, "
            f"d = {FIG2['d']}, n = {FIG2['n_train']}, lr = {FIG2['lr']}"
        ),
    log:
        f"{RESULTS}/logs/fig2.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/plot_fig2.py"


rule fig_regimes:
    """Every regime (Theorems 3.2, 3.5, D.1) x activation: discrepancy and agreement horizons."""
    input:
        discrepancy=f"{RESULTS}/regimes/discrepancy.parquet",
        horizons=f"{RESULTS}/regimes/horizons.parquet",
    output:
        pdf=f"{RESULTS}/figures/regimes.pdf",
        png=report(f"{RESULTS}/figures/regimes.png", caption="../report/regimes.rst", category="Regime grid"),
    params:
        threshold=GRID["threshold"],
        activations=GRID["activations"],
        title=(
            f"Network vs its regime's linear model: {GRID['target']} target, width {GRID['width']}, "
            f"d = {GRID['d']}, n = {GRID['n_train']}, lr "
            + ", ".join(f"{regime} {lr}" for regime, lr in GRID["lr"].items())
        ),
    log:
        f"{RESULTS}/logs/fig_regimes.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/plot_regimes.py"


rule fig5:
    """Figure 5: ||Theta1(W(0)) - Theta_lin1|| (spectral, Frobenius) against d, fitted."""
    input:
        norms=f"{RESULTS}/fig5/norms.parquet",
        fits=f"{RESULTS}/fig5/fits.parquet",
    output:
        pdf=f"{RESULTS}/figures/fig5.pdf",
        png=report(f"{RESULTS}/figures/fig5.png", caption="../report/fig5.rst", category="Figure 5"),
    params:
        activation=FIG5["activation"],
        title=f"Figure 5: {FIG5['activation']}, n = {FIG5['n']}, m = {FIG5['width']}, seeds {FIG5['seeds']}",
    log:
        f"{RESULTS}/logs/fig5.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/plot_fig5.py"


rule fig5_extra:
    """Supplementary to Figure 5: every kernel of the proof, several activations."""
    input:
        norms=f"{RESULTS}/fig5/norms.parquet",
        fits=f"{RESULTS}/fig5/fits.parquet",
    output:
        pdf=f"{RESULTS}/figures/fig5_extra.pdf",
        png=report(f"{RESULTS}/figures/fig5_extra.png", caption="../report/fig5_extra.rst", category="Figure 5 (beyond the paper)"),
    params:
        kernels=FIG5_EXTRA["kernels"],
        activations=FIG5_EXTRA["activations"],
        title=f"Kernel approximations at initialisation: n = {FIG5['n']}, m = {FIG5['width']}",
    log:
        f"{RESULTS}/logs/fig5_extra.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/plot_fig5_extra.py"


rule scorecard:
    """The report's scorecard: each quantitative claim of the paper and the value measured
    by this run, computed from the tables of every figure."""
    input:
        fig1_network=fig1_main_files(f"{RESULTS}/fig1/network_losses_d{{d}}_seed{{seed}}.parquet"),
        fig1_linear=fig1_main_files(f"{RESULTS}/fig1/linear_losses_d{{d}}_seed{{seed}}.parquet"),
        fig1_discrepancy=fig1_sweep_files(f"{RESULTS}/fig1/discrepancy_d{{d}}_seed{{seed}}.parquet"),
        fig2_discrepancy=fig2_files(f"{RESULTS}/fig2/discrepancy_{{model}}_seed{{seed}}.parquet"),
        horizons=f"{RESULTS}/regimes/horizons.parquet",
        deep_discrepancy=deep_figure_inputs(sorted(set(DEEP["fig3"]) | set(DEEP["fig4"])))["discrepancy"],
        fits=f"{RESULTS}/fig5/fits.parquet",
    output:
        table=f"{RESULTS}/report/scorecard.parquet",
        html=report(
            f"{RESULTS}/report/scorecard.html",
            caption="../report/scorecard.rst",
            category="0. Scorecard",
        ),
    params:
        fig5_activation=FIG5["activation"],
        title="early-linear scorecard: the paper's claims and this run's values",
    log:
        f"{RESULTS}/logs/scorecard.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/scorecard.py"
