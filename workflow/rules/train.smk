# Training stage: two-layer networks by GD, and their linear models in closed form.
# One script per kind of job; the rules differ only in their config section and paths.


rule train_two_layer:
    """Figure 1: both layers trained by full-batch GD (eq. 4, eta1 = eta2)."""
    input:
        rules.teacher_data.output,
    output:
        losses=f"{RESULTS}/fig1/network_losses_d{{d}}_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig1/network_outputs_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/train_two_layer/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_two_layer/d{{d}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=120,
    params:
        **named_params(
            **network_params(FIG1, FIG1["lr"], FIG1["lr"]),
        ),
    script:
        "../../scripts/train_two_layer.py"


rule linear_model:
    """Figure 1: the network's linear model f_lin (eq. 11) under the same GD (Claim C.1)."""
    input:
        rules.teacher_data.output,
    output:
        losses=f"{RESULTS}/fig1/linear_losses_d{{d}}_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig1/linear_outputs_d{{d}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/linear_model/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/linear_model/d{{d}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            **linear_params(FIG1, FIG1["lr"], FIG1["lr"]),
        ),
    script:
        "../../scripts/fit_linear_model.py"


rule train_fig2:
    """Figure 2: two-layer network (ReLU by default), both layers trained by GD."""
    input:
        rules.fig2_data.output,
    output:
        losses=f"{RESULTS}/fig2/network_losses_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig2/network_outputs_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/train_fig2/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_fig2/seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=120,
    params:
        **named_params(
            **network_params(FIG2, FIG2["lr"], FIG2["lr"]),
        ),
    script:
        "../../scripts/train_two_layer.py"


rule linear_fig2:
    """Figure 2: f_lin (eq. 11) or the naive linear model (theta1 = theta2 = 0)."""
    input:
        rules.fig2_data.output,
    output:
        losses=f"{RESULTS}/fig2/{{model}}_losses_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig2/{{model}}_outputs_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/linear_fig2/{{model}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/linear_fig2/{{model}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            **linear_params(
                FIG2,
                FIG2["lr"],
                FIG2["lr"],
                model=lambda wc: wc.model,
                naive=lambda wc: wc.model == "naive",
            ),
        ),
    script:
        "../../scripts/fit_linear_model.py"


rule train_regime:
    """Grid: the network of one (activation, regime, seed); a regime trains the first
    layer (Theorem 3.2), the second (Theorem 3.5) or both (Theorem D.1)."""
    input:
        rules.regimes_data.output,
    output:
        losses=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/network_losses.parquet",
        outputs=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/network_outputs.parquet",
    log:
        f"{RESULTS}/logs/train_regime/{{activation}}_{{regime}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_regime/{{activation}}_{{regime}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: config["train_threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=120,
    params:
        **named_params(
            **network_params(
                GRID,
                lr_first=lambda wc: regime_lr(wc.regime, 0),
                lr_second=lambda wc: regime_lr(wc.regime, 1),
                activation=lambda wc: wc.activation,
            ),
        ),
    script:
        "../../scripts/train_two_layer.py"


rule linear_regime:
    """Grid: the regime's own linear model (psi1, psi2 or psi) on the same data and GD."""
    input:
        rules.regimes_data.output,
    output:
        losses=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/linear_losses.parquet",
        outputs=f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/linear_outputs.parquet",
    log:
        f"{RESULTS}/logs/linear_regime/{{activation}}_{{regime}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/linear_regime/{{activation}}_{{regime}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            **linear_params(
                GRID,
                lr_first=lambda wc: regime_lr(wc.regime, 0),
                lr_second=lambda wc: regime_lr(wc.regime, 1),
                activation=lambda wc: wc.activation,
            ),
        ),
    script:
        "../../scripts/fit_linear_model.py"
