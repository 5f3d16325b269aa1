# Data stage: synthetic draws (seeded).


rule teacher_data:
    """x ~ N(0, I_d), y = sign(f*(x)), f* a random erf network (Section 3.4)."""
    output:
        f"{RESULTS}/data/teacher_d{{d}}_seed{{seed}}.npz",
    params:
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
        "../../scripts/make_teacher_data.py"
