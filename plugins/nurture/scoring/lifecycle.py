"""MQL cycles: a lead qualifies at most once per cycle, and again only after sales let go.

A cycle opens when a lead meets the MQL rule and has no open cycle; it is the key
(lead, cycle) of `ops.mql_outbox`. Sales' verdict comes back from the SFA through the
marts (`intermediate.int_lifecycle_stage_history`: Salesforce lead status and the
first completed Task):

- no verdict yet: the cycle stays open; the lead stays MQL and is not enqueued again;
- accepted (sal) or further on (sql, opportunity, customer, closed_lost): the lead is
  with sales and never opens a new cycle from scoring;
- recycled: the cycle is closed; once `lifecycle.recycled_cooldown_days` have passed
  since the verdict, meeting the rule again opens cycle + 1;
- rejected (disqualified): closed; with `lifecycle.rejected_cooldown_days` null (the
  default) the lead never qualifies again, otherwise as recycled after that period.
  A rejection says the person is no buyer, which more e-mail clicks do not change.

A verdict counts for the latest cycle when it is at or after the cycle's creation; a
lead the SFA handled before Nurture ever enqueued it follows the same rules (a lead
sales accepted on its own is not handed over again).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from nurture.scoring.rules import Lifecycle

ACCEPTED_STAGES = ("sal", "sql", "opportunity", "customer", "closed_lost")
VERDICT_STAGES = (*ACCEPTED_STAGES, "recycled", "disqualified")


def decide_cycles(
    lead_ids: pd.Series,
    meets_rule: np.ndarray,
    outbox: pd.DataFrame,
    verdicts: pd.DataFrame,
    lifecycle: Lifecycle,
    as_of: datetime,
) -> pd.DataFrame:
    """Per lead: `is_mql`, `mql_cycle` (nullable) and `is_new_cycle` as of `as_of`.

    `outbox` holds (lead_id, cycle, created_at) of the entries so far, `verdicts`
    (lead_id, stage, entered_at) of sales' verdicts; rows after `as_of` are ignored,
    so re-running a logical date decides the same again.
    """
    as_of_ts = pd.Timestamp(as_of).tz_convert("UTC")
    frame = pd.DataFrame({"lead_id": lead_ids.to_numpy(), "meets": meets_rule})

    outbox = outbox.assign(created_at=pd.to_datetime(outbox["created_at"], utc=True))
    outbox = outbox.loc[outbox["created_at"] <= as_of_ts]
    latest = (
        outbox.sort_values(["lead_id", "cycle"])
        .groupby("lead_id", as_index=False)
        .last()[["lead_id", "cycle", "created_at"]]
    )
    frame = frame.merge(latest, on="lead_id", how="left")

    verdicts = verdicts.assign(entered_at=pd.to_datetime(verdicts["entered_at"], utc=True))
    verdicts = verdicts.loc[
        verdicts["stage"].isin(VERDICT_STAGES) & (verdicts["entered_at"] <= as_of_ts)
    ]
    # the latest verdict given since the lead's latest cycle opened (or ever, without one)
    joined = verdicts.merge(latest[["lead_id", "created_at"]], on="lead_id", how="left")
    joined = joined.loc[
        joined["created_at"].isna() | (joined["entered_at"] >= joined["created_at"])
    ]
    last_verdict = (
        joined.sort_values(["lead_id", "entered_at"])
        .groupby("lead_id", as_index=False)
        .last()[["lead_id", "stage", "entered_at"]]
    )
    frame = frame.merge(last_verdict, on="lead_id", how="left")

    has_cycle = frame["cycle"].notna().to_numpy()
    stage = frame["stage"].fillna("").to_numpy()
    days_since = ((as_of_ts - frame["entered_at"]).dt.total_seconds() / 86_400).to_numpy()
    accepted = np.isin(stage, ACCEPTED_STAGES)
    recycled_free = (stage == "recycled") & (days_since >= lifecycle.recycled_cooldown_days)
    rejected_free = (stage == "disqualified") & (
        days_since >= lifecycle.rejected_cooldown_days
        if lifecycle.rejected_cooldown_days is not None
        else False
    )
    closed = np.isin(stage, ("recycled", "disqualified"))
    may_open = np.where(stage == "", ~has_cycle, recycled_free | rejected_free)
    new_cycle = frame["meets"].to_numpy(dtype=bool) & may_open & ~accepted
    still_open = has_cycle & ~closed
    current = frame["cycle"].fillna(0).to_numpy(dtype=np.int64)
    cycle = np.where(new_cycle, current + 1, current)
    return pd.DataFrame(
        {
            "lead_id": frame["lead_id"].to_numpy(),
            "is_mql": new_cycle | still_open,
            "mql_cycle": pd.Series(cycle, dtype="Int64").where(cycle > 0),
            "is_new_cycle": new_cycle,
        }
    )
