"""dlt pipelines from the connectors into the warehouse's raw schemas.

Personal data is not left behind by a load: once a load package is complete, dlt deletes
its job files (Parquet with e-mails and names, under `NURTURE_HOME/dlt`) and truncates
the `<dataset>_staging` tables a merge went through. A package that did not complete
keeps its files, so a re-run after a crash still finishes it; one that cannot load for a
reason a retry cannot fix is set aside instead (`nurture.load.parking`). Set
`LOAD__DELETE_COMPLETED_JOBS=false` or `LOAD__TRUNCATE_STAGING_DATASET=false` to keep
them while debugging a load.
"""

import os

os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")
os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")
