# Figure 5 and its extension (Propositions 3.4 / D.2, D.8, D.11): the empirical NTK blocks
# of the two-layer network at initialisation against the linear kernels, their spectral
# and Frobenius norms per (kernel, activation, d, seed), and the power-law fits against d.


include: "helpers/kernels.smk"


rule ntk_norms:
    """Norms of Theta_k(W(0)) - Theta_lin_k for one (kernel, activation, d, seed)
    (Figure 5, Propositions 3.4 / D.2, D.8, D.11)."""
    output:
        f"{RESULTS}/fig5/norms_{{kernel}}_{{activation}}_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/ntk_norms/{{kernel}}_{{activation}}_d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ntk_norms/{{kernel}}_{{activation}}_d{{d}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: FIG5["threads"]
    resources:
        gpu=GPU_JOBS,
        # one (two for theta) n x n matrices in the accumulation dtype, plus slack
        mem_mb=lambda wc: 1500
        + (2 if wc.kernel == "theta" else 1) * FIG5["n"] ** 2 * (8 if FIG5["dtype"] == "float64" else 4) // 2**20,
        runtime=60,
    params:
        job=lambda wc: two_layer.kernel_norms_job(config, wc.activation),
    script:
        "../../scripts/ntk_norms.py"


rule fit_ntk_slopes:
    """Least-squares fit of log(mean norm) on log d, per kernel, activation and norm, and
    the same fit per seed (whose spread over seeds the figures and the scorecard report)."""
    input:
        sorted(
            set(fig5_norm_files(rules.ntk_norms.output[0], ["theta1"], [FIG5["activation"]]))
            | set(fig5_norm_files(rules.ntk_norms.output[0], FIG5_EXTRA["kernels"], FIG5_EXTRA["activations"]))
        ),
    output:
        norms=f"{RESULTS}/fig5/norms.parquet",
        fits=f"{RESULTS}/fig5/fits.parquet",
        seed_fits=f"{RESULTS}/fig5/seed_fits.parquet",
    log:
        f"{RESULTS}/logs/fit_ntk_slopes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit_ntk_slopes.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        job={"fit": "least squares of log(mean norm over seeds) on log d, per activation, kernel, identity term, norm"},
    script:
        "../../scripts/fit_ntk_slopes.py"


rule fig5:
    """Figure 5: ||Theta1(W(0)) - Theta_lin1|| (spectral, Frobenius) against d, fitted;
    fig5_extra draws every kernel of the proof for several activations with the same rule."""
    input:
        norms=rules.fit_ntk_slopes.output.norms,
        fits=rules.fit_ntk_slopes.output.fits,
        seed_fits=rules.fit_ntk_slopes.output.seed_fits,
    output:
        pdf=f"{RESULTS}/figures/fig5.pdf",
        png=report(f"{RESULTS}/figures/fig5.png", caption="../report/fig5.rst", category="Figure 5"),
    log:
        f"{RESULTS}/logs/fig5.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig5.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={
            "kernels": ["theta1"],
            "activations": [FIG5["activation"]],
            "identity_term": False,
            "title": two_layer.fig5_title(config, title_size("fig5")),
        },
    script:
        "../../scripts/plot_kernel_norms.py"


# Beyond Figure 5: every kernel of the proof, several activations; dashed: with the
# diagonal gap c I added to the linear kernel.
use rule fig5 as fig5_extra with:
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
    params:
        job={
            "kernels": FIG5_EXTRA["kernels"],
            "activations": FIG5_EXTRA["activations"],
            "identity_term": True,
            "title": two_layer.fig5_extra_title(config, title_size("fig5")),
        },


# Beyond the paper: Figure 5's test for every network of models.networks (fig5_models).


rule kernel_fit_norms:
    """One (network, side, seed): the simple kernel fitted to the network's empirical NTK,
    then the spectral and Frobenius norms of offdiag(Theta - K_fit) and of offdiag(Theta) on
    fresh Gaussian inputs (1, side, side): exact up to fig5_models.dense_points, matrix-free
    beyond."""
    input:
        model_file=lambda wc: network_file_input(MODELS["networks"][wc.net]["network"]),
    output:
        f"{RESULTS}/fig5_models/norms_{{net}}_s{{side}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/kernel_fit_norms/{{net}}_s{{side}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernel_fit_norms/{{net}}_s{{side}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=lambda wc: 2000 + 3 * min(FIG5_MODELS["points"], FIG5_MODELS["dense_points"]) ** 2 * 8 // 2**20,
        runtime=60,
    params:
        job=lambda wc: kernel_fit_norms.norms_job(config, wc.net, int(wc.side), int(wc.seed)),
    script:
        "../../scripts/kernel_fit_norms.py"


rule fit_kernel_fit_slopes:
    """The norms of every network, side and seed in one table, and their least-squares slopes
    of log(mean over seeds) on log d per network and norm."""
    input:
        fig5_models_norm_files(rules.kernel_fit_norms.output[0]),
    output:
        norms=f"{RESULTS}/fig5_models/norms.parquet",
        fits=f"{RESULTS}/fig5_models/fits.parquet",
    log:
        f"{RESULTS}/logs/fit_kernel_fit_slopes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit_kernel_fit_slopes.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"fit": "least squares of log(mean over seeds) on log d, per network and norm"},
    script:
        "../../scripts/fit_kernel_fit_slopes.py"


rule fig5_models:
    """Figure 5 for any network: per network, the norms of the fitted kernel's residual and
    their ratios to the NTK's own against d, with their slopes."""
    input:
        norms=rules.fit_kernel_fit_slopes.output.norms,
        fits=rules.fit_kernel_fit_slopes.output.fits,
    output:
        pdf=f"{RESULTS}/figures/fig5_models.pdf",
        png=report(
            f"{RESULTS}/figures/fig5_models.png",
            caption="../report/fig5_models.rst",
            category="Figure 5 (beyond the paper)",
        ),
    log:
        f"{RESULTS}/logs/fig5_models.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig5_models.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=kernel_fit_norms.figure_params(config),
    script:
        "../../scripts/plot_kernel_fit_norms.py"
