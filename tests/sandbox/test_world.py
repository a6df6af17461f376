"""The simulated world: deterministic, plausible, and carrying the signal scoring needs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from nurture.sandbox.campaigns import CHANNELS
from nurture.sandbox.world import (
    WorldError,
    build_world,
    connect,
    ensure_world,
    world_counts,
    write_truth,
)

TABLES = (
    "persons",
    "companies",
    "mkto_lead",
    "activities",
    "hs_contact",
    "hs_company",
    "hs_contact_company",
    "sf_lead",
    "sf_opportunity",
    "sf_opportunity_history",
)


def _fingerprint(path: Path) -> dict[str, object]:
    with connect(path) as con:
        return {
            t: con.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone()
            for t in TABLES
        }


def test_same_seed_same_world(tmp_path: Path, world: Path) -> None:
    again = build_world(11, 1500, tmp_path / "again.duckdb")
    assert _fingerprint(again) == _fingerprint(world)


def test_other_seed_other_world(tmp_path: Path, world: Path) -> None:
    other = build_world(12, 1500, tmp_path / "other.duckdb")
    mine, theirs = _fingerprint(world), _fingerprint(other)
    assert all(mine[t] != theirs[t] for t in ("persons", "activities", "hs_contact", "hs_company"))


def test_build_leaves_no_temporary_files(home: Path, world: Path) -> None:
    assert [p.name for p in world.parent.iterdir() if ".tmp" in p.name] == []


def test_bad_spec_is_refused(home: Path) -> None:
    with pytest.raises(WorldError, match="--leads"):
        ensure_world(1, 0, home)


def test_shape_of_the_world(world: Path) -> None:
    counts = world_counts(world)
    assert counts["persons"] == 1500
    assert counts["marketo_leads"] > counts["persons"]  # duplicates exist
    assert 0.5 < counts["hubspot_contacts"] / counts["persons"] < 0.7
    assert 0.3 < counts["salesforce_leads"] / counts["persons"] < 0.5
    assert 10 <= counts["marketo_activities"] / counts["persons"] <= 30


def test_activities_are_ordered_and_touches_map_to_channels(world: Path) -> None:
    with connect(world) as con:
        disorder = con.execute("""
            select count(*) from (
                select activity_date, lag(activity_date) over (order by id) as previous
                from activities)
            where activity_date < previous""").fetchone()[0]
        assert disorder == 0
        unmapped = con.execute("""
            select count(*) from activities as a left join campaigns as c using (campaign_id)
            where a.activity_type_id <> 12 and c.channel is null""").fetchone()[0]
        assert unmapped == 0
        channels = {
            r[0]
            for r in con.execute(
                "select distinct c.channel from activities join campaigns as c using (campaign_id)"
            ).fetchall()
        }
        assert channels == set(CHANNELS)
        types = {
            r[0] for r in con.execute("select distinct activity_type_id from activities").fetchall()
        }
        assert types == {1, 2, 6, 7, 8, 9, 10, 11, 12, 104}


def test_outcome_depends_on_fit_and_engagement(world: Path) -> None:
    with connect(world) as con:
        rows = con.execute("""
            select
                avg(converted::int) filter (where fit_q = 4)
                    - avg(converted::int) filter (where fit_q = 1),
                avg(converted::int) filter (where eng_q = 4)
                    - avg(converted::int) filter (where eng_q = 1)
            from (select converted, ntile(4) over (order by fit) as fit_q,
                         ntile(4) over (order by realized_engagement) as eng_q from persons)
        """).fetchone()
    fit_lift, engagement_lift = rows
    assert fit_lift > 0.05
    assert engagement_lift > 0.03


def test_email_engagement_shapes(world: Path) -> None:
    with connect(world) as con:
        delivered, opens, clicks, unsubs, bounces = con.execute("""
            select count(*) filter (where activity_type_id = 7),
                   count(*) filter (where activity_type_id = 10),
                   count(*) filter (where activity_type_id = 11),
                   count(*) filter (where activity_type_id = 9),
                   count(*) filter (where activity_type_id = 8)
            from activities""").fetchone()
        variants = con.execute("""select count(distinct variant) from activities
                                  where activity_type_id = 6""").fetchone()[0]
        names = con.execute("""select count(*) filter (where name like '%株式会社%'),
                                      count(*) filter (where name like '%Inc.%')
                               from companies""").fetchone()
    assert 0.15 < opens / delivered < 0.5
    assert 0.005 < clicks / delivered < 0.1
    assert unsubs > 0 and bounces > 0
    assert variants == 2
    assert all(n > 0 for n in names)


def test_truth_export(tmp_path: Path, world: Path) -> None:
    written = write_truth(world, tmp_path / "truth")
    counts = world_counts(world)
    lead_truth = pq.read_table(written["lead_truth"])
    assert lead_truth.num_rows == counts["persons"]
    assert {
        "propensity",
        "converted",
        "marketo_lead_id",
        "hubspot_contact_id",
        "hubspot_company_id",
        "sfdc_lead_id",
    } <= set(lead_truth.column_names)
    assert pq.read_metadata(written["hs_company"]).num_rows == (
        counts["hubspot_companies"] + counts["hubspot_companies_archived"]
    )
    assert pq.read_metadata(written["hs_contact_company"]).num_rows > counts["hubspot_contacts"]
    assert pq.read_metadata(written["activities"]).num_rows == counts["marketo_activities"]
    assert (
        duckdb.connect().execute(f"select count(*) from '{written['sf_lead']}'").fetchone()[0]
        == (counts["salesforce_leads_all"])
    )
