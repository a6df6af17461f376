"""
### sync_hubspot

HubSpot CRM into `raw_hubspot`: contacts and companies by search on their
last-modified date (archived ones kept as soft deletes), owners, and the company
associations of the contacts each run reads.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_hubspot` Asset is updated (which schedules `build_marts`).
Connection: `hubspot_default` (`AIRFLOW_CONN_HUBSPOT_DEFAULT`).
"""

from nurture.orchestration import sync_dag

sync_dag("hubspot", __doc__)
