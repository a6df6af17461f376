"""The sandbox's A/B tests separate variant, creative and content type (and carry costs).

The world decides which creative wins a test by its hidden appeal and rolls it out as
the next test's incumbent. The incumbent takes variant A or B at random and the
content types are spread over the creatives at random per seed, so a content-type
comparison is not a comparison of "variant A" against "variant B".
"""

from __future__ import annotations

import numpy as np

from nurture.sandbox.campaigns import CONTENT_TYPES, N_CREATIVES, build_calendar
from nurture.sandbox.world import build_world, connect

SEEDS = range(30)


def test_incumbent_takes_either_variant():
    on_a, total = 0, 0
    for seed in SEEDS:
        cal = build_calendar(seed)
        for prev, send in zip(cal.sends, cal.sends[1:], strict=False):
            # the creative rolled out after a test is the one with the higher appeal
            rolled = max(prev.creatives, key=lambda c: cal.creative_appeal[c])
            if rolled in send.creatives:
                on_a += send.creatives[0] == rolled
                total += 1
    assert total > 500
    assert 0.4 < on_a / total < 0.6


def test_content_type_is_not_confounded_with_variant_or_creative():
    first_creative_ps = 0
    by_variant = {0: [], 1: []}
    for seed in SEEDS:
        cal = build_calendar(seed)
        assert sorted(cal.creative_content.tolist()) == [0] * (N_CREATIVES // 2) + [1] * (
            N_CREATIVES // 2
        )
        first_creative_ps += int(cal.creative_content[0] == 0)
        for send in cal.sends:
            for v, creative in enumerate(send.creatives):
                by_variant[v].append(int(cal.creative_content[creative]))
    # a creative's content type is drawn per seed, not fixed by its number
    assert 0.2 < first_creative_ps / len(SEEDS) < 0.8
    share_a, share_b = (float(np.mean(by_variant[v])) for v in (0, 1))
    assert abs(share_a - share_b) < 0.1
    assert 0.3 < share_a < 0.7


def test_world_serves_both_content_types_on_both_variants_and_costs(tmp_path):
    path = build_world(13, 300, tmp_path / "w.duckdb")
    with connect(path) as con:
        pairs = set(
            con.execute(
                "select variant, content_type from emails where true_ctr is not null"
            ).fetchall()
        )
        assert pairs == {(v, c) for v in "AB" for c in CONTENT_TYPES}
        mixed = con.execute(
            """select count(*) from emails as a join emails as b
               on a.campaign_id = b.campaign_id and a.variant = 'A' and b.variant = 'B'
               where a.content_type <> b.content_type and a.true_ctr is not null"""
        ).fetchone()[0]
        assert mixed >= 3
        # every program has costs; Salesforce ActualCost sums those started by today
        assert con.execute(
            "select count(*) from campaigns where campaign_id not in "
            "(select campaign_id from campaign_costs)"
        ).fetchone() == (0,)
        assert con.execute(
            """select count(*) from sf_campaign where "ActualCost" <= 0
               or "BudgetedCost" is null"""
        ).fetchone() == (0,)
