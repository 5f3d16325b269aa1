# Training stage: the two-layer network by GD, and its linear model in closed form.


rule train_two_layer:
    """Two-layer network, both layers trained by full-batch GD (eq. 4, eta1 = eta2)."""
    input:
        f"{RESULTS}/data/teacher_d{{d}}_seed{{seed}}.npz",
    output:
        losses=f"{RESULTS}/fig1/network_losses_d{{d}}_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig1/network_outputs_d{{d}}_seed{{seed}}.parquet",
    params:
        activation=FIG1["activation"],
        leaky_relu_slope=config["leaky_relu_slope"],
        width=FIG1["width"],
        lr=FIG1["lr"],
        max_step=FIG1["max_step"],
        steps_per_decade=FIG1["steps_per_decade"],
        dtype=FIG1["dtype"],
        device=config["device"],
        chunk_rows=FIG1["chunk_rows"],
    log:
        f"{RESULTS}/logs/train_two_layer/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_two_layer/d{{d}}_seed{{seed}}.tsv"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/train_two_layer.py"


rule linear_model:
    """The network's linear model f_lin (eq. 11) under the same GD, closed form (Claim C.1)."""
    input:
        f"{RESULTS}/data/teacher_d{{d}}_seed{{seed}}.npz",
    output:
        losses=f"{RESULTS}/fig1/linear_losses_d{{d}}_seed{{seed}}.parquet",
        outputs=f"{RESULTS}/fig1/linear_outputs_d{{d}}_seed{{seed}}.parquet",
    params:
        activation=FIG1["activation"],
        leaky_relu_slope=config["leaky_relu_slope"],
        lr=FIG1["lr"],
        max_step=FIG1["max_step"],
        steps_per_decade=FIG1["steps_per_decade"],
    log:
        f"{RESULTS}/logs/linear_model/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/linear_model/d{{d}}_seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/fit_linear_model.py"
