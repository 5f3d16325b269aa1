# The report's scorecard: each claim of every figure, its criterion, the value this run
# measured and a verdict, from the tables of every stage (included last: it reads them all).


include: "helpers/scorecard.smk"


rule scorecard:
    """The report's scorecard: each quantitative claim, its criterion, the value measured
    by this run and a verdict, computed from the tables of every figure."""
    input:
        **scorecard_inputs(),
    output:
        table=f"{RESULTS}/report/scorecard.parquet",
        html=report(
            f"{RESULTS}/report/scorecard.html",
            caption="../report/scorecard.rst",
            category="0. Scorecard",
        ),
    log:
        f"{RESULTS}/logs/scorecard.log",
    benchmark:
        f"{RESULTS}/benchmarks/scorecard.tsv"
    conda:
        ENV
    resources:
        **LIGHT,
    params:
        job={
            "fig5_activation": FIG5["activation"],
            "skip": config["scorecard"]["skip"],
            # the sizes of the claim groups it reports (fig_widths has no claims here)
            "sizes": {group: RUN_SIZES[group] for group in GROUPS if group in RUN_SIZES},
            "dataset_sizes": dataset_sizes(DEEP, PAPER_CONFIG["deep"]),
            "title": "early-linear scorecard: the paper's claims, criteria, this run's values and verdicts",
        },
    script:
        "../../scripts/scorecard.py"
