"""Rule fetch_images: a downloaded source's files present and checked (downloaded if allowed)."""

import json

from earlylin.deep.images import verify_source
from earlylin.runtime import start_script
from earlylin.tables import atomic_path

log = start_script(snakemake)
p = snakemake.params
counts = verify_source(snakemake.wildcards.source, p.root, snakemake.config["deep"]["download"])
log.info("%s under %s: %s", snakemake.wildcards.source, p.root, counts)
with atomic_path(snakemake.output[0]) as tmp, open(tmp, "w", encoding="utf-8") as fh:
    json.dump(dict(source=snakemake.wildcards.source, root=p.root, images=counts), fh)
