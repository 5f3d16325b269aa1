# Data stage: synthetic draws (seeded), one .npz per data set.


rule teacher_data:
    """Figure 1: x ~ N(0, I_d), y = sign(f*(x)), f* a random erf network (Section 3.4)."""
    output:
        f"{RESULTS}/data/teacher_d{{d}}_seed{{seed}}.npz",
    params:
        target="teacher",
        n_train=FIG1["n_train"],
        n_test=FIG1["n_test"],
        teacher_width=FIG1["teacher_width"],
    log:
        f"{RESULTS}/logs/teacher_data/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/teacher_data/d{{d}}_seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/make_synthetic_data.py"


rule fig2_data:
    """Figure 2: x ~ N(0, I_d), y = ||x||/sqrt(d) + ReLU(a^T x), a a random unit vector."""
    output:
        f"{RESULTS}/fig2/data_seed{{seed}}.npz",
    params:
        target="norm",
        d=FIG2["d"],
        n_train=FIG2["n_train"],
        n_test=FIG2["n_test"],
        teacher_width=None,
    log:
        f"{RESULTS}/logs/fig2_data/seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/make_synthetic_data.py"


rule regimes_data:
    """The regime x activation grid's data set (target from the config), shared by its jobs."""
    output:
        f"{RESULTS}/regimes/data_seed{{seed}}.npz",
    params:
        target=GRID["target"],
        d=GRID["d"],
        n_train=GRID["n_train"],
        n_test=GRID["n_test"],
        teacher_width=GRID["teacher_width"],
    log:
        f"{RESULTS}/logs/regimes_data/seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/make_synthetic_data.py"


rule fetch_images:
    """CIFAR-10 or MNIST via torchvision into deep.data_root, checksums verified; a small
    JSON receipt marks success (downloads only when deep.download is true)."""
    output:
        f"{DEEP['data_root']}/{{source}}.verified.json",
    params:
        root=lambda wc, output: os.path.dirname(output[0]),
        download=DEEP["download"],
    log:
        f"{RESULTS}/logs/fetch_images/{{source}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/fetch_images.py"


rule image_data:
    """Figures 3 and 4: two classes, seeded 10,000 / 2,000 draw, pooling, per-image
    normalisation, labels +-1 (Section 4.2)."""
    input:
        image_source_receipt,
    output:
        f"{RESULTS}/deep/data/{{dataset}}_seed{{seed}}.npz",
    params:
        root=DEEP["data_root"],
        source=lambda wc: DEEP["datasets"][wc.dataset]["source"],
        classes=lambda wc: DEEP["datasets"][wc.dataset]["classes"],
        pool=lambda wc: DEEP["datasets"][wc.dataset]["pool"],
        n_train=DEEP["n_train"],
        n_test=DEEP["n_test"],
    log:
        f"{RESULTS}/logs/image_data/{{dataset}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/earlylin.yaml"
    script:
        "../../scripts/make_image_data.py"
