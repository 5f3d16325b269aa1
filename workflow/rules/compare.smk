# Compare stage: network vs linear model on test data (one script for every figure).


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
        "../../scripts/compare_outputs.py"


rule compare_fig2:
    """Figure 2: discrepancy of f_lin or of the naive model to the network."""
    input:
        network=f"{RESULTS}/fig2/network_outputs_seed{{seed}}.parquet",
        linear=f"{RESULTS}/fig2/{{model}}_outputs_seed{{seed}}.parquet",
    output:
        discrepancy=f"{RESULTS}/fig2/discrepancy_{{model}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig2/logits_{{model}}_seed{{seed}}.parquet",
    params:
        n_samples=FIG2["n_logit_samples"],
    log:
        f"{RESULTS}/logs/compare_fig2/{{model}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/compare_outputs.py"


rule regime_horizons:
    """Grid summary: the discrepancy of every (activation, regime, seed) network to its
    linear model in one table, and the agreement horizon (first logged step with relative
    discrepancy above the threshold) of each."""
    input:
        network=regime_files("network_outputs.parquet"),
        linear=regime_files("linear_outputs.parquet"),
    output:
        discrepancy=f"{RESULTS}/regimes/discrepancy.parquet",
        horizons=f"{RESULTS}/regimes/horizons.parquet",
    params:
        threshold=GRID["threshold"],
        lr=GRID["lr"],
        width=GRID["width"],
        d=GRID["d"],
        target=GRID["target"],
    log:
        f"{RESULTS}/logs/regime_horizons.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/regime_horizons.py"
