"""The report's scorecard: each quantitative claim, an explicit criterion, the value this
run measured and a verdict, computed from the workflow's parquet tables only.

Modules: ``criteria`` (the claim groups, thresholds and criteria; light, read by the config
schema and the Snakefile), ``rows`` (how a row is built), ``paper`` (the paper's figures),
``scales`` (the theorems' time and width scales), ``report`` (the table and its HTML page).
"""
