"""MQL cycles: once per cycle; recycled leads re-qualify after the cool-down, rejected do not."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from nurture.scoring.lifecycle import decide_cycles
from nurture.scoring.rules import Lifecycle

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
LEADS = ["new", "open", "recycled_early", "recycled_late", "rejected", "accepted", "cold"]


DEFAULT = Lifecycle(recycled_cooldown_days=30)


def decide(lifecycle: Lifecycle = DEFAULT, meets=None):
    day = timedelta(days=1)
    outbox = pd.DataFrame(
        [
            ("open", 1, AS_OF - 5 * day),
            ("recycled_early", 1, AS_OF - 50 * day),
            ("recycled_late", 1, AS_OF - 90 * day),
            ("recycled_late", 2, AS_OF - 60 * day),
            ("rejected", 1, AS_OF - 400 * day),
            ("accepted", 1, AS_OF - 60 * day),
            ("new", 1, AS_OF + 5 * day),  # a later run's entry: not history for this date
        ],
        columns=["lead_id", "cycle", "created_at"],
    )
    verdicts = pd.DataFrame(
        [
            ("recycled_early", "recycled", AS_OF - 10 * day),
            ("recycled_late", "recycled", AS_OF - 80 * day),  # closed cycle 1, before cycle 2
            ("recycled_late", "recycled", AS_OF - 40 * day),
            ("rejected", "disqualified", AS_OF - 365 * day),
            ("accepted", "sal", AS_OF - 50 * day),
            ("open", "recycled", AS_OF - 30 * day),  # before its cycle opened: ignored
        ],
        columns=["lead_id", "stage", "entered_at"],
    )
    meets = np.ones(len(LEADS), dtype=bool) if meets is None else meets
    decided = decide_cycles(pd.Series(LEADS), meets, outbox, verdicts, lifecycle, AS_OF)
    return decided.set_index("lead_id")


def test_cycles_follow_sales_verdicts():
    decided = decide()
    assert decided["is_new_cycle"].to_dict() == {
        "new": True,  # first time
        "open": False,  # waiting for sales: not enqueued twice
        "recycled_early": False,  # recycled 10 days ago, cool-down 30
        "recycled_late": True,  # recycled 40 days ago
        "rejected": False,  # rejected leads never come back by default
        "accepted": False,  # with sales
        "cold": True,
    }
    assert decided.loc["recycled_late", "mql_cycle"] == 3
    assert decided.loc["new", "mql_cycle"] == 1
    assert decided.loc["open", "mql_cycle"] == 1
    assert bool(decided.loc["open", "is_mql"]) and bool(decided.loc["accepted", "is_mql"])
    assert not decided.loc["recycled_early", "is_mql"]
    assert not decided.loc["rejected", "is_mql"]


def test_no_cycle_without_meeting_the_rule():
    decided = decide(meets=np.zeros(len(LEADS), dtype=bool))
    assert not decided["is_new_cycle"].any()
    assert pd.isna(decided.loc["cold", "mql_cycle"])
    assert bool(decided.loc["open", "is_mql"])  # an open cycle stays open


@pytest.mark.parametrize(("days", "comes_back"), [(None, False), (400, False), (300, True)])
def test_rejected_cooldown_is_configurable(days, comes_back):
    lifecycle = Lifecycle(recycled_cooldown_days=30, rejected_cooldown_days=days)
    assert bool(decide(lifecycle).loc["rejected", "is_new_cycle"]) is comes_back
