"""
### sync_salesforce

Salesforce: leads by SOQL queryAll on SystemModstamp into `raw_salesforce`.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_salesforce` Asset is updated (which schedules `build_marts`).
Connection: `salesforce_default` (`AIRFLOW_CONN_SALESFORCE_DEFAULT`).
"""

from nurture.orchestration import sync_dag

sync_dag("salesforce", __doc__)
