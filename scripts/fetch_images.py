"""Rule fetch_images: a downloaded source's files present and checked (downloaded if allowed)."""

import json

from earlylin.core.runtime import job, start_script
from earlylin.core.tables import atomic_path
from earlylin.data.torchvision_files import verify_source

log = start_script(snakemake)
root, source = job(snakemake)["root"], snakemake.wildcards.source
counts = verify_source(source, root, snakemake.config["deep"]["download"])
log.info("%s under %s: %s", source, root, counts)
with atomic_path(snakemake.output[0]) as tmp, open(tmp, "w", encoding="utf-8") as fh:
    json.dump(dict(source=source, root=root, images=counts), fh)
