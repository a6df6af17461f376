"""Nurture: lead-nurturing data platform (syncs, marts, scoring, MQL handoff)."""

import os

__version__ = "0.1.0"

# dlt looks up every setting in Airflow Variables too when it finds Airflow, which costs
# about 9 s per task process; Nurture passes dlt its credentials explicitly instead.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")

# dlt sends anonymous usage events to dlthub unless told not to. Nurture's pipelines carry
# customer data and often run without internet access: nothing leaves the machine.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
