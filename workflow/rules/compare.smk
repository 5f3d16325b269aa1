# Compare stage: network vs linear model on test data.


rule compare_fig1:
    """Output MSE between network and f_lin per logged step (Fig. 1c) and the logits of
    randomly drawn test points (Fig. 1b)."""
    input:
        network=f"{RESULTS}/fig1/network_outputs_d{{d}}_seed{{seed}}.parquet",
        linear=f"{RESULTS}/fig1/linear_outputs_d{{d}}_seed{{seed}}.parquet",
    output:
        discrepancy=f"{RESULTS}/fig1/discrepancy_d{{d}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig1/logits_d{{d}}_seed{{seed}}.parquet",
    params:
        n_samples=FIG1["n_logit_samples"],
    log:
        f"{RESULTS}/logs/compare_fig1/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_fig1/d{{d}}_seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/compare_fig1.py"
