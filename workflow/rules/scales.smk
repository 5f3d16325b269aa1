# Beyond the paper: the theorems' time scale (agreement horizon vs d and eta) and width
# scale (the finite-width floor). Two-layer networks, both layers trained (eta1 = eta2),
# against f_lin (psi, eq. 11 / Theorem D.1), with n = m = C d^(1+alpha).


include: "helpers/scales.smk"


rule scales_data:
    """x ~ N(0, I_d), n = C d^(1+alpha) training and n_test test points, labels from the
    configured target; shared by the horizon and width jobs of one (d, seed)."""
    output:
        f"{RESULTS}/scales/data/d{{d}}_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/scales_data/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scales_data/d{{d}}_seed{{seed}}.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job=lambda wc: scales.data_job(config, int(wc.d)),
    script:
        "../../scripts/make_synthetic_data.py"


rule horizon_run:
    """One (activation, d, lr, seed): the network (width m = n) by GD up to window x
    d log d / lr steps and f_lin in closed form; discrepancy curves on the training and
    test points, agreement horizons per threshold, and T_lin (exact, closed form)."""
    input:
        rules.scales_data.output,
    output:
        curves=f"{RESULTS}/scales/horizon/{{activation}}_d{{d}}_lr{{lr}}_seed{{seed}}_curves.parquet",
        horizons=f"{RESULTS}/scales/horizon/{{activation}}_d{{d}}_lr{{lr}}_seed{{seed}}_horizons.parquet",
    log:
        f"{RESULTS}/logs/horizon_run/{{activation}}_d{{d}}_lr{{lr}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/horizon_run/{{activation}}_d{{d}}_lr{{lr}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: SCALES["threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=120,
    params:
        job=lambda wc: scales.horizon_job(config, wc.activation, int(wc.d), float(wc.lr)),
    script:
        "../../scripts/horizon_run.py"


rule horizon_summary:
    """Every horizon run in one table, the relative-discrepancy curves, and the fits of
    log(eta T) on log(d log d) per seed with their mean and sd over seeds."""
    input:
        curves=horizon_files(rules.horizon_run.output.curves),
        horizons=horizon_files(rules.horizon_run.output.horizons),
    output:
        horizons=f"{RESULTS}/scales/horizons.parquet",
        curves=f"{RESULTS}/scales/horizon_curves.parquet",
        fits=f"{RESULTS}/scales/horizon_fits.parquet",
        seed_fits=f"{RESULTS}/scales/horizon_seed_fits.parquet",
    log:
        f"{RESULTS}/logs/horizon_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/horizon_summary.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={
            "thresholds": HORIZON["thresholds"],
            "C": SCALES["C"],
            "alpha": SCALES["alpha"],
            "window": HORIZON["window"],
        },
    script:
        "../../scripts/horizon_summary.py"


rule width_run:
    """One (d, width, seed): the network at the early steps against f_lin (eq. 11)."""
    input:
        rules.scales_data.output,
    output:
        f"{RESULTS}/scales/width/d{{d}}_m{{width}}_seed{{seed}}.parquet",
    log:
        f"{RESULTS}/logs/width_run/d{{d}}_m{{width}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/width_run/d{{d}}_m{{width}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: SCALES["threads"]
    resources:
        gpu=GPU_JOBS,
        mem_mb=4000,
        runtime=60,
    params:
        job=lambda wc: scales.width_job(config, int(wc.d), int(wc.width)),
    script:
        "../../scripts/width_run.py"


rule width_summary:
    """The width sweep in one table and the fits of log(relative discrepancy) on log m
    over m >= d^(1+alpha), per seed and their mean and sd over seeds."""
    input:
        width_files(rules.width_run.output[0]),
    output:
        table=f"{RESULTS}/scales/width.parquet",
        fits=f"{RESULTS}/scales/width_fits.parquet",
        seed_fits=f"{RESULTS}/scales/width_seed_fits.parquet",
    log:
        f"{RESULTS}/logs/width_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/width_summary.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"alpha": SCALES["alpha"], "C": SCALES["C"]},
    script:
        "../../scripts/width_summary.py"


rule fig_horizon:
    """The agreement horizon T_agree and the linear model's convergence step T_lin
    against d log d, for each activation and learning rate (Theorem D.1, Corollary 3.3)."""
    input:
        horizons=rules.horizon_summary.output.horizons,
        curves=rules.horizon_summary.output.curves,
        fits=rules.horizon_summary.output.fits,
    output:
        pdf=f"{RESULTS}/figures/fig_horizon.pdf",
        png=report(
            f"{RESULTS}/figures/fig_horizon.png", caption="../report/fig_horizon.rst", category="Time and width scales"
        ),
    log:
        f"{RESULTS}/logs/fig_horizon.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_horizon.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={
            "activations": HORIZON["activations"],
            "thresholds": HORIZON["thresholds"],
            "title": scales.horizon_title(config, title_size("horizon")),
        },
    script:
        "../../scripts/plot_horizon.py"


rule fig_width:
    """The finite-width floor: relative discrepancy at fixed early steps against m."""
    input:
        table=rules.width_summary.output.table,
        fits=rules.width_summary.output.fits,
    output:
        pdf=f"{RESULTS}/figures/fig_width.pdf",
        png=report(
            f"{RESULTS}/figures/fig_width.png", caption="../report/fig_width.rst", category="Time and width scales"
        ),
    log:
        f"{RESULTS}/logs/fig_width.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig_width.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={"alpha": SCALES["alpha"], "title": scales.width_title(config, title_size("width"))},
    script:
        "../../scripts/plot_width.py"
