"""Rule scorecard: each claim, its criterion, this run's value and a verdict, from the tables.
Inputs of a group in scorecard.skip are absent: its claims read "not run"."""

from earlylin.core.runtime import job, start_script, table_meta
from earlylin.core.tables import read_tables, write_table
from earlylin.scorecard.report import claim_rows, scorecard_html

log = start_script(snakemake)
p = job(snakemake)
tables = {
    name: read_tables([files] if isinstance(files, str) else files) if len(files) else None
    for name, files in snakemake.input.items()
}
result = claim_rows(tables, p)
write_table(result, snakemake.output.table, table_meta(snakemake))
with open(snakemake.output.html, "w", encoding="utf-8") as fh:
    fh.write(scorecard_html(result, p["title"]))
for row in result.itertuples():
    note = f" | {row.note}" if row.note else ""
    log.info(
        "%s | %s | %s | measured: %s | scale: %s%s",
        row.verdict.upper(),
        row.figure,
        row.claim,
        row.measured,
        row.scale,
        note,
    )
