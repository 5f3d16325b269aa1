# Plot stage: figures from the tidy tables only.


rule fig1:
    """Figure 1 (a, b, c): two-layer erf network vs its linear model (Section 3.4)."""
    input:
        network_losses=fig1_main_files(rules.train_two_layer.output.losses),
        linear_losses=fig1_main_files(rules.linear_model.output.losses),
        logits=fig1_main_files(rules.compare_fig1.output.logits),
        discrepancy=fig1_sweep_files(rules.compare_fig1.output.discrepancy),
    output:
        pdf=f"{RESULTS}/figures/fig1.pdf",
        png=report(f"{RESULTS}/figures/fig1.png", caption="../report/fig1.rst", category="Figure 1"),
    log:
        f"{RESULTS}/logs/fig1.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig1.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            title=(
                f"Figure 1: {FIG1['activation']} network, width {FIG1['width']}, "
                f"d = {FIG1['d']}, n = {FIG1['n_train']}, lr = {FIG1['lr']}"
            ),
        ),
    script:
        "../../scripts/plot_fig1.py"


rule fig2:
    """Figure 2: norm-dependent target; network vs f_lin (eq. 11) vs the naive linear model."""
    input:
        network_losses=expand(rules.train_fig2.output.losses, seed=FIG2["seeds"]),
        linear_losses=fig2_files(rules.linear_fig2.output.losses),
        discrepancy=fig2_files(rules.compare_fig2.output.discrepancy),
        logits=expand(rules.compare_fig2.output.logits, model=["linear", "naive"], seed=FIG2["seeds"][0]),
    output:
        pdf=f"{RESULTS}/figures/fig2.pdf",
        png=report(f"{RESULTS}/figures/fig2.png", caption="../report/fig2.rst", category="Figure 2"),
    log:
        f"{RESULTS}/logs/fig2.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig2.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            title=(
                f"Figure 2: y = ‖x‖/√d + ReLU(aᵀx); {FIG2['activation']} network, width {FIG2['width']}, "
                f"d = {FIG2['d']}, n = {FIG2['n_train']}, lr = {FIG2['lr']}"
            ),
        ),
    script:
        "../../scripts/plot_fig2.py"


rule fig_regimes:
    """Every regime (Theorems 3.2, 3.5, D.1) x activation: discrepancy and agreement horizons."""
    input:
        discrepancy=rules.regime_horizons.output.discrepancy,
        horizons=rules.regime_horizons.output.horizons,
    output:
        pdf=f"{RESULTS}/figures/regimes.pdf",
        png=report(f"{RESULTS}/figures/regimes.png", caption="../report/regimes.rst", category="Regime grid"),
    log:
        f"{RESULTS}/logs/fig_regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_regimes.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            threshold=GRID["threshold"],
            activations=GRID["activations"],
            title=(
                f"Network vs its regime's linear model: {GRID['target']} target, width {GRID['width']}, "
                f"d = {GRID['d']}, n = {GRID['n_train']}, lr "
                + ", ".join(f"{regime} {lr}" for regime, lr in GRID["lr"].items())
            ),
        ),
    script:
        "../../scripts/plot_regimes.py"


rule fig5:
    """Figure 5: ||Theta1(W(0)) - Theta_lin1|| (spectral, Frobenius) against d, fitted."""
    input:
        norms=rules.fit_ntk_slopes.output.norms,
        fits=rules.fit_ntk_slopes.output.fits,
    output:
        pdf=f"{RESULTS}/figures/fig5.pdf",
        png=report(f"{RESULTS}/figures/fig5.png", caption="../report/fig5.rst", category="Figure 5"),
    log:
        f"{RESULTS}/logs/fig5.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig5.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            activation=FIG5["activation"],
            title=f"Figure 5: {FIG5['activation']}, n = {FIG5['n']}, m = {FIG5['width']}, seeds {FIG5['seeds']}",
        ),
    script:
        "../../scripts/plot_fig5.py"


rule fig5_extra:
    """Supplementary to Figure 5: every kernel of the proof, several activations."""
    input:
        norms=rules.fit_ntk_slopes.output.norms,
        fits=rules.fit_ntk_slopes.output.fits,
    output:
        pdf=f"{RESULTS}/figures/fig5_extra.pdf",
        png=report(
            f"{RESULTS}/figures/fig5_extra.png",
            caption="../report/fig5_extra.rst",
            category="Figure 5 (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig5_extra.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig5_extra.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            kernels=FIG5_EXTRA["kernels"],
            activations=FIG5_EXTRA["activations"],
            title=f"Kernel approximations at initialisation: n = {FIG5['n']}, m = {FIG5['width']}",
        ),
    script:
        "../../scripts/plot_fig5_extra.py"


rule scorecard:
    """The report's scorecard: each quantitative claim, its criterion, the value measured
    by this run and a verdict, computed from the tables of every figure."""
    input:
        **scorecard_inputs(),
    output:
        table=f"{RESULTS}/report/scorecard.parquet",
        html=report(
            f"{RESULTS}/report/scorecard.html",
            caption="../report/scorecard.rst",
            category="0. Scorecard",
        ),
    log:
        f"{RESULTS}/logs/scorecard.log",
    benchmark:
        f"{RESULTS}/benchmarks/scorecard.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            fig5_activation=FIG5["activation"],
            skip=config["scorecard"]["skip"],
            title="early-linear scorecard: the paper's claims, criteria, this run's values and verdicts",
        ),
    script:
        "../../scripts/scorecard.py"
