# Section 3: two-layer networks by gradient descent against their linear models, in three
# experiments that share their rules: Figure 1 (teacher labels, both layers), Figure 2 (a
# norm-dependent target; f_lin against the naive linear model) and the regime x activation
# grid (first layer, second layer, both: Theorems 3.2, 3.5, D.1). Each chain: a seeded
# data draw -> the network by GD and its linear model in closed form (Claim C.1), in one
# job -> their comparison -> the figure. Figure 2 and the grid reuse Figure 1's rules (`use rule`) with
# their own data, paths and params.


include: "helpers/two_layer.smk"


# ------------------------------------------------------------------------------ Figure 1


rule teacher_data:
    """Synthetic data (Section 3.4), Figure 1's: x ~ N(0, I_d), y = sign(f*(x)), f* a random
    erf network. Figure 2 and the grid draw theirs with the same rule (their own target)."""
    output:
        f"{RESULTS}/fig1/data_d{{d}}_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/teacher_data/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/teacher_data/d{{d}}_seed{{seed}}.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=two_layer.data_job(config, "fig1"),
    script:
        "../../scripts/make_synthetic_data.py"


rule train_two_layer:
    """A two-layer network trained by full-batch GD (eq. 4) and, on the same data and
    learning rates, its linear model in closed form (eq. 5, 9 or 11 by the rates; Claim
    C.1). Figure 1's: both layers, eta1 = eta2, f_lin of eq. 11. Figure 2 and the grid train
    theirs with the same rule."""
    input:
        rules.teacher_data.output,
    output:
        losses=f"{RESULTS}/fig1/network_losses_d{{d}}_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig1/network_outputs_d{{d}}_seed{{seed}}.parquet",
        linear_losses=f"{RESULTS}/fig1/linear_losses_d{{d}}_seed{{seed}}.parquet",
        linear_outputs=f"{RESULTS}/fig1/linear_outputs_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/train_two_layer/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_two_layer/d{{d}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=120,
    params:
        job=two_layer.training_job(config, "fig1"),
    script:
        "../../scripts/train_two_layer.py"


rule compare_fig1:
    """Output MSE between network and linear model per logged step (Fig. 1c) and the logits
    of randomly drawn test points (Fig. 1b)."""
    input:
        network=rules.train_two_layer.output.outputs,
        linear=rules.train_two_layer.output.linear_outputs,
    output:
        discrepancy=f"{RESULTS}/fig1/discrepancy_d{{d}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig1/logits_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/compare_fig1/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_fig1/d{{d}}_seed{{seed}}.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"n_samples": FIG1["n_logit_samples"]},
    script:
        "../../scripts/compare_outputs.py"


rule fig1:
    """Figure 1 (a, b, c): two-layer erf network vs its linear model (Section 3.4)."""
    input:
        network_losses=fig1_main_files(rules.train_two_layer.output.losses),
        linear_losses=fig1_main_files(rules.train_two_layer.output.linear_losses),
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
        ENV
    resources:
        **LIGHT,
    params:
        job={"title": two_layer.fig1_title(config, title_size("fig1"))},
    script:
        "../../scripts/plot_fig1.py"


# ------------------------------------------------------------------------------ Figure 2


use rule teacher_data as fig2_data with:
    output:
        f"{RESULTS}/fig2/data_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/fig2_data/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig2_data/seed{{seed}}.tsv"
    params:
        job=two_layer.data_job(config, "fig2"),


# Figure 2's network (ReLU by default, both layers trained by GD), f_lin (eq. 11) and the
# naive linear model (theta1 = theta2 = 0).
use rule train_two_layer as train_fig2 with:
    input:
        rules.fig2_data.output,
    output:
        losses=f"{RESULTS}/fig2/network_losses_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig2/network_outputs_seed{{seed}}.parquet",
        linear_losses=f"{RESULTS}/fig2/linear_losses_seed{{seed}}.parquet",
        linear_outputs=f"{RESULTS}/fig2/linear_outputs_seed{{seed}}.parquet",
        naive_losses=f"{RESULTS}/fig2/naive_losses_seed{{seed}}.parquet",
        naive_outputs=f"{RESULTS}/fig2/naive_outputs_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/train_fig2/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_fig2/seed{{seed}}.tsv"
    params:
        job=two_layer.training_job(config, "fig2"),


# Figure 2: the discrepancy of f_lin or of the naive model to the network.
use rule compare_fig1 as compare_fig2 with:
    input:
        network=rules.train_fig2.output.outputs,
        linear=f"{RESULTS}/fig2/{{surrogate}}_outputs_seed{{seed}}.parquet",
    output:
        discrepancy=f"{RESULTS}/fig2/discrepancy_{{surrogate}}_seed{{seed}}.parquet",
        logits=f"{RESULTS}/fig2/logits_{{surrogate}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/compare_fig2/{{surrogate}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_fig2/{{surrogate}}_seed{{seed}}.tsv"
    params:
        job={"n_samples": FIG2["n_logit_samples"]},


rule fig2:
    """Figure 2: norm-dependent target; network vs f_lin (eq. 11) vs the naive linear model."""
    input:
        network_losses=expand(rules.train_fig2.output.losses, seed=FIG2["seeds"]),
        linear_losses=expand(
            [rules.train_fig2.output.linear_losses, rules.train_fig2.output.naive_losses], seed=FIG2["seeds"]
        ),
        discrepancy=fig2_files(rules.compare_fig2.output.discrepancy),
        logits=expand(rules.compare_fig2.output.logits, surrogate=["linear", "naive"], seed=FIG2["seeds"][0]),
    output:
        pdf=f"{RESULTS}/figures/fig2.pdf",
        png=report(f"{RESULTS}/figures/fig2.png", caption="../report/fig2.rst", category="Figure 2"),
    log:
        f"{RESULTS}/logs/fig2.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig2.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"title": two_layer.fig2_title(config, title_size("fig2"))},
    script:
        "../../scripts/plot_fig2.py"


# ------------------------------------------------------------------- regime x activation


# The grid's data set (target from the config), shared by all its jobs.
use rule teacher_data as regimes_data with:
    output:
        f"{RESULTS}/regimes/data_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/regimes_data/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/regimes_data/seed{{seed}}.tsv"
    params:
        job=two_layer.data_job(config, "regimes"),


# The network of one (activation, regime, seed) and the regime's own linear model (psi1,
# psi2 or psi): a regime trains the first layer (Theorem 3.2), the second (Theorem 3.5) or
# both (Theorem D.1).
use rule train_two_layer as train_regime with:
    input:
        rules.regimes_data.output,
    output:
        losses=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/network_losses.parquet",
        outputs=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/network_outputs.parquet",
        linear_losses=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/linear_losses.parquet",
        linear_outputs=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/linear_outputs.parquet",
    log:
        f"{RESULTS}/logs/train_regime/{{activation}}_{{regime}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_regime/{{activation}}_{{regime}}_seed{{seed}}.tsv"
    params:
        job=lambda wc: two_layer.training_job(config, "regimes", wc.activation, wc.regime),


rule regime_horizons:
    """Grid summary: the discrepancy of every (activation, regime, seed) network to its
    linear model in one table, and the agreement horizon (first logged step with relative
    discrepancy above the threshold) of each."""
    input:
        network=regime_files(rules.train_regime.output.outputs),
        linear=regime_files(rules.train_regime.output.linear_outputs),
    output:
        discrepancy=f"{RESULTS}/regimes/discrepancy.parquet",
        horizons=f"{RESULTS}/regimes/horizons.parquet",
    log:
        f"{RESULTS}/logs/regime_horizons.log",
    benchmark:
        f"{RESULTS}/benchmarks/regime_horizons.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=two_layer.regimes_summary_job(config),
    script:
        "../../scripts/regime_horizons.py"


rule fig_regimes:
    """Every regime (Theorems 3.2, 3.5, D.1) x activation: discrepancy and agreement horizons."""
    input:
        discrepancy=rules.regime_horizons.output.discrepancy,
        horizons=rules.regime_horizons.output.horizons,
    output:
        pdf=f"{RESULTS}/figures/fig_regimes.pdf",
        png=report(f"{RESULTS}/figures/fig_regimes.png", caption="../report/fig_regimes.rst", category="Regime grid"),
    log:
        f"{RESULTS}/logs/fig_regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_regimes.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={
            "threshold": GRID["threshold"],
            "activations": GRID["activations"],
            "title": two_layer.regimes_title(config, title_size("regimes")),
        },
    script:
        "../../scripts/plot_regimes.py"
