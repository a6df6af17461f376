"""
### sync_marketo

Marketo Engage: leads (bulk extract) and activities (paging token) into `raw_marketo`.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_marketo` Asset is updated (which schedules `build_marts`).
Connection: `marketo_default` (`AIRFLOW_CONN_MARKETO_DEFAULT`).
"""

from nurture.orchestration import sync_dag

sync_dag("marketo", __doc__)
