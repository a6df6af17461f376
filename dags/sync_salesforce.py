"""
### sync_salesforce

Salesforce: Lead, Contact, Account, Opportunity, OpportunityHistory,
OpportunityContactRole, Task, Campaign, CampaignMember and User by `queryAll` on
SystemModstamp into `raw_salesforce` (Bulk API 2.0 for the history load and large
windows, SOQL for small deltas; deletes kept as `is_deleted`).

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_salesforce` Asset is updated (which schedules `build_marts`).
Connection: `salesforce_default` (`AIRFLOW_CONN_SALESFORCE_DEFAULT`).
"""

from nurture.orchestration import sync_dag

sync_dag("salesforce", __doc__)
