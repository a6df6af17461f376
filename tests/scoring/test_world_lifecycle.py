"""MQL cycles through the warehouse: sales' verdicts come back through the stage history."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from nurture.scoring.run import run_scoring
from nurture.warehouse import get_warehouse
from tests.scoring.conftest import AS_OF

DAY = timedelta(days=1)


def outbox(settings) -> pd.DataFrame:
    return get_warehouse(settings).query("select lead_id, cycle, run_id from ops.mql_outbox")


def engage(settings, lead_ids: list[str], when) -> None:
    """Fresh form fills, so the leads meet the MQL rule again on the later date."""
    rows = pd.DataFrame(
        [(lead, "fill_out_form", None, when) for lead in lead_ids for _ in range(5)],
        columns=["lead_id", "activity_type", "webpage_url", "occurred_at"],
    )
    with get_warehouse(settings).transaction() as session:
        session.insert_frame("marts.fct_engagement_events", rows)


def verdict(settings, lead_id: str, stage: str, when) -> None:
    row = pd.DataFrame([(lead_id, stage, when)], columns=["lead_id", "stage", "entered_at"])
    with get_warehouse(settings).transaction() as session:
        session.insert_frame("intermediate.int_lifecycle_stage_history", row)


@pytest.fixture(scope="module")
def cycles(loaded):
    first = run_scoring(loaded, AS_OF)
    assert first.new_outbox_entries > 3
    recycled, rejected, waiting = outbox(loaded)["lead_id"].sort_values().tolist()[:3]
    verdict(loaded, recycled, "recycled", AS_OF + DAY)
    verdict(loaded, rejected, "disqualified", AS_OF + DAY)
    engage(loaded, [recycled, rejected, waiting], AS_OF + 9 * DAY)
    in_cooldown = run_scoring(loaded, AS_OF + 10 * DAY)
    engage(loaded, [recycled, rejected, waiting], AS_OF + 39 * DAY)
    after_cooldown = run_scoring(loaded, AS_OF + 40 * DAY)
    rerun = run_scoring(loaded, AS_OF + 40 * DAY)
    leads = {"recycled": recycled, "rejected": rejected, "waiting": waiting}
    return loaded, leads, (first, in_cooldown, after_cooldown, rerun)


def test_recycled_lead_requalifies_after_the_cooldown_only(cycles):
    settings, leads, _ = cycles
    entries = outbox(settings)
    mine = entries.loc[entries["lead_id"] == leads["recycled"]].sort_values("cycle")
    assert mine["cycle"].tolist() == [1, 2]
    assert mine["run_id"].iloc[1].startswith(f"score:{(AS_OF + 40 * DAY).date()}")


def test_rejected_and_waiting_leads_are_not_enqueued_again(cycles):
    settings, leads, _ = cycles
    entries = outbox(settings)
    for key in ("rejected", "waiting"):
        assert entries.loc[entries["lead_id"] == leads[key], "cycle"].tolist() == [1]


def test_scores_show_the_cycle_state(cycles):
    settings, leads, (first, in_cooldown, after, _) = cycles
    scores = get_warehouse(settings).query(
        "select lead_id, run_id, is_mql, meets_mql_rule, mql_cycle from marts.fct_lead_scores"
    )
    state = scores.set_index(["run_id", "lead_id"])
    assert state.loc[(in_cooldown.run_id, leads["recycled"]), "meets_mql_rule"]
    assert not state.loc[(in_cooldown.run_id, leads["recycled"]), "is_mql"]
    assert state.loc[(after.run_id, leads["recycled"]), "mql_cycle"] == 2
    assert not state.loc[(after.run_id, leads["rejected"]), "is_mql"]
    assert state.loc[(after.run_id, leads["waiting"]), "is_mql"]
    # history: one row per lead and run
    assert scores.groupby("run_id").size().tolist() == [first.leads_scored] * 3


def test_rerun_of_a_date_adds_nothing(cycles):
    _, _, (_, _, after, rerun) = cycles
    assert rerun.new_outbox_entries == 0
    assert rerun.mqls == after.mqls
