# Data stage: synthetic draws (seeded), one .npz per data set.


rule teacher_data:
    """Figure 1: x ~ N(0, I_d), y = sign(f*(x)), f* a random erf network (Section 3.4)."""
    output:
        f"{RESULTS}/data/teacher_d{{d}}_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/teacher_data/d{{d}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/teacher_data/d{{d}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            target="teacher",
            n_train=FIG1["n_train"],
            n_test=FIG1["n_test"],
            teacher_width=FIG1["teacher_width"],
        ),
    script:
        "../../scripts/make_synthetic_data.py"


rule fig2_data:
    """Figure 2: x ~ N(0, I_d), y = ||x||/sqrt(d) + ReLU(a^T x), a a random unit vector."""
    output:
        f"{RESULTS}/fig2/data_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/fig2_data/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig2_data/seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            target="norm",
            d=FIG2["d"],
            n_train=FIG2["n_train"],
            n_test=FIG2["n_test"],
            teacher_width=None,
        ),
    script:
        "../../scripts/make_synthetic_data.py"


rule regimes_data:
    """The regime x activation grid's data set (target from the config), shared by its jobs."""
    output:
        f"{RESULTS}/regimes/data_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/regimes_data/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/regimes_data/seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **named_params(
            target=GRID["target"],
            d=GRID["d"],
            n_train=GRID["n_train"],
            n_test=GRID["n_test"],
            teacher_width=GRID["teacher_width"] if GRID["target"] == "teacher" else None,
        ),
    script:
        "../../scripts/make_synthetic_data.py"


rule fetch_images:
    """CIFAR-10 or MNIST via torchvision into deep.data_root, checksums verified; a small
    JSON receipt marks success (downloads only when deep.download is true; the script
    reads that key from the config, so switching it reruns nothing)."""
    output:
        f"{DEEP['data_root']}/{{source}}.verified.json",
    log:
        f"{RESULTS}/logs/fetch_images/{{source}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fetch_images/{{source}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        **named_params(
            root=lambda wc, output: os.path.dirname(output[0]),
        ),
    script:
        "../../scripts/fetch_images.py"


rule image_data:
    """Figures 3 and 4: two classes, seeded 10,000 / 2,000 draw (or the data set's own
    sizes), pooling, per-image normalisation, labels +-1 (Section 4.2)."""
    input:
        image_source_receipt,
    output:
        f"{RESULTS}/deep/data/{{dataset}}_seed{{seed}}.npz",
    log:
        f"{RESULTS}/logs/image_data/{{dataset}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/image_data/{{dataset}}_seed{{seed}}.tsv"
    conda:
        "../../envs/earlylin.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        **named_params(
            # where the downloaded files are (bundled sources read none: no rerun when it changes)
            root=lambda wc: (
                DEEP["data_root"] if DEEP["datasets"][wc.dataset]["source"] in DOWNLOADED_SOURCES else None
            ),
            source=lambda wc: DEEP["datasets"][wc.dataset]["source"],
            classes=lambda wc: DEEP["datasets"][wc.dataset]["classes"],
            pool=lambda wc: DEEP["datasets"][wc.dataset]["pool"],
            n_train=lambda wc: dataset_entry(DEEP, wc.dataset)["n_train"],
            n_test=lambda wc: dataset_entry(DEEP, wc.dataset)["n_test"],
        ),
    script:
        "../../scripts/make_image_data.py"
