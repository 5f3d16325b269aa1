# Compare stage: network vs linear model on test data (one script for every figure).


rule compare_fig1:
    """Output MSE between network and f_lin per logged step (Fig. 1c) and the logits of
    randomly drawn test points (Fig. 1b)."""
    input:
        network=rules.train_two_layer.output.outputs,
        linear=rules.linear_model.output.outputs,
    output:
        discrepancy=f"{RESULTS}/fig1/discrepancy_d{{d}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig1/logits_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/compare_fig1/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_fig1/d{{d}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            n_samples=FIG1["n_logit_samples"],
        ),
    script:
        "../../scripts/compare_outputs.py"


rule compare_fig2:
    """Figure 2: discrepancy of f_lin or of the naive model to the network."""
    input:
        network=rules.train_fig2.output.outputs,
        linear=rules.linear_fig2.output.outputs,
    output:
        discrepancy=f"{RESULTS}/fig2/discrepancy_{{model}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig2/logits_{{model}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/compare_fig2/{{model}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_fig2/{{model}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            n_samples=FIG2["n_logit_samples"],
        ),
    script:
        "../../scripts/compare_outputs.py"


rule regime_horizons:
    """Grid summary: the discrepancy of every (activation, regime, seed) network to its
    linear model in one table, and the agreement horizon (first logged step with relative
    discrepancy above the threshold) of each."""
    input:
        network=regime_files(rules.train_regime.output.outputs),
        linear=regime_files(rules.linear_regime.output.outputs),
    output:
        discrepancy=f"{RESULTS}/regimes/discrepancy.parquet",
        horizons=f"{RESULTS}/regimes/horizons.parquet",
    log:
        f"{RESULTS}/logs/regime_horizons.log",
    benchmark:
        f"{RESULTS}/benchmarks/regime_horizons.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            threshold=GRID["threshold"],
            lr=GRID["lr"],
            width=GRID["width"],
            d=GRID["d"],
            target=GRID["target"],
        ),
    script:
        "../../scripts/regime_horizons.py"
