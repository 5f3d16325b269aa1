# NTK spectral-gap stage: empirical kernels at initialisation vs the linear kernels.


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
        "../../envs/earlylin.yaml"
    threads: FIG5["threads"]
    resources:
        gpu=GPU_JOBS,
        # one (two for theta) n x n matrices in the accumulation dtype, plus slack
        mem_mb=lambda wc: 1500
        + (2 if wc.kernel == "theta" else 1) * FIG5["n"] ** 2 * (8 if FIG5["dtype"] == "float64" else 4) // 2**20,
        runtime=60,
    params:
        **named_params(
            n=FIG5["n"],
            width=FIG5["width"],
            dtype=FIG5["dtype"],
            compute_dtype=FIG5["compute_dtype"],
            leaky_relu_slope=leaky_slope(lambda wc: wc.activation),
        ),
    script:
        "../../scripts/ntk_norms.py"


rule fit_ntk_slopes:
    """Least-squares fit of log(mean norm) on log d, per kernel, activation and norm."""
    input:
        sorted(
            set(fig5_norm_files(rules.ntk_norms.output[0], ["theta1"], [FIG5["activation"]]))
            | set(fig5_norm_files(rules.ntk_norms.output[0], FIG5_EXTRA["kernels"], FIG5_EXTRA["activations"]))
        ),
    output:
        norms=f"{RESULTS}/fig5/norms.parquet",
        fits=f"{RESULTS}/fig5/fits.parquet",
    log:
        f"{RESULTS}/logs/fit_ntk_slopes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit_ntk_slopes.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **named_params(
            fit="least squares of log(mean norm over seeds) on log d, per activation, kernel, identity term, norm",
        ),
    script:
        "../../scripts/fit_ntk_slopes.py"
