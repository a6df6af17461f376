"""Bring your own data, end to end: a lead list without e-mail, an outcome list and an
activity list keyed by the same id, exported by the sandbox and dropped as files, reach
dim_lead, mart_funnel, fct_engagement_events and the model's label with the figures pandas
computes from the same files, on both warehouses.

The warehouse holds the MA, CRM and SFA raw tables empty, so every figure of the marts is
the files' own. The expected figures read only the files and the project's stated
channel and activity mappings (the dbt vars lead_source_channels and
imported_activity_types, the seed marketo_activity_types), never a model."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nurture.config import DBT_PROJECT_DIR, Settings
from nurture.files.importer import import_drop_folder
from nurture.sandbox.exports import write_exports
from nurture.sandbox.world import ensure_world
from nurture.scoring.model import converted_label
from nurture.transform.dbt import dbt_env, run_dbt
from nurture.warehouse import get_warehouse
from tests.conftest import scratch_database, settings_for
from tests.dbt.dbt_raw_fixtures import RawWorld, write_duckdb, write_postgres

SEED, LEADS = 11, 4000
FILES = ("leads.csv", "outcomes.csv", "activities.csv")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("imported-world")
    world = ensure_world(SEED, LEADS, home)
    out = home / "exports"
    write_exports(world, out, only=("leads", "outcomes", "activities"))
    return out


def _empty_sources(settings: Settings) -> None:
    """The MA, CRM and SFA raw tables, empty; raw_files is left to the import."""
    settings.ensure_dirs()
    if settings.warehouse == "duckdb":
        write_duckdb(str(settings.duckdb_path), RawWorld())
    else:
        pg = settings.postgres
        write_postgres(
            f"host={pg.host} port={pg.port} user={pg.user} dbname={pg.database}", RawWorld()
        )
    with get_warehouse(settings).transaction() as session:
        session.execute("drop schema raw_files cascade")


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built(
    request: pytest.FixtureRequest, exports: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp(f"imported-{request.param}")
    postgres = request.param == "postgres"
    with scratch_database("nurture_imported") if postgres else nullcontext("nurture") as database:
        settings = settings_for(home, request.param, database)
        _empty_sources(settings)
        drop = settings.home / "dropbox"
        drop.mkdir(parents=True, exist_ok=True)
        settled = time.time() - 3600
        for name in FILES:
            shutil.copy(exports / name, drop / name)
            os.utime(drop / name, (settled, settled))
        summary = import_drop_folder(settings)
        assert summary.rows == {
            "leads": LEADS,
            "outcomes": _lines(exports / "outcomes.csv"),
            "activities": _lines(exports / "activities.csv"),
        }
        assert sum(summary.quarantined.values()) == 0
        with pytest.MonkeyPatch.context() as env:
            for name, value in dbt_env(settings).items():
                env.setenv(name, value)  # run_dbt sets them; undone after the build
            run_dbt(settings, "build", ["--exclude", "test_type:unit"])
        yield settings


def _lines(path: Path) -> int:
    return len(pd.read_csv(path, encoding="utf-8-sig"))


def _project_vars() -> dict:
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text("utf-8"))["vars"]


@pytest.fixture(scope="module")
def touches(exports: Path) -> pd.DataFrame:
    """The activity list's touches: type and channel as the mapping and the seed say."""
    rows = pd.read_csv(exports / "activities.csv", encoding="utf-8-sig", dtype=str)
    seed = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "marketo_activity_types.csv", dtype=str)
    seed = seed.set_index("activity_type")
    typed = rows.assign(
        activity_type=rows["種別"].map(_project_vars()["imported_activity_types"]),
        occurred_at=pd.to_datetime(rows["日時"], format="%Y-%m-%d %H:%M"),
    )
    typed = typed[typed["activity_type"].notna()]
    typed = typed.assign(
        channel=typed["activity_type"].map(seed["channel"]),
        is_touch=typed["activity_type"].map(seed["is_touch"]) == "true",
        is_engagement_touch=typed["activity_type"].map(seed["is_engagement_touch"]) == "true",
    )
    return typed[typed["is_touch"]].rename(columns={"リードID": "lead_key"})


@pytest.fixture(scope="module")
def truth(exports: Path, touches: pd.DataFrame) -> pd.DataFrame:
    """One row per lead of the files: created, cohort, channel, outcome and won dates."""
    leads = pd.read_csv(exports / "leads.csv", encoding="utf-8-sig", dtype=str)
    outcomes = pd.read_csv(exports / "outcomes.csv", encoding="utf-8-sig", dtype=str)
    mapping = _project_vars()["lead_source_channels"]
    frame = pd.DataFrame(
        {
            "lead_key": leads["リードID"],
            "lead_source": leads["流入元"],
            "created_at": pd.to_datetime(leads["登録日時"], format="%Y-%m-%d %H:%M"),
        }
    )
    frame["cohort_month"] = frame["created_at"].dt.to_period("M").dt.to_timestamp()
    # an unmapped source takes the lead's first touch's channel, else other; touches at
    # the same minute (a form sent to register) come in the file's order, as their keys do
    first = touches.sort_values("occurred_at", kind="stable").groupby("lead_key").first()["channel"]
    frame["source_channel"] = (
        frame["lead_source"].map(mapping).fillna(frame["lead_key"].map(first)).fillna("other")
    )
    outcomes["outcome_at"] = pd.to_datetime(outcomes["結果日"], format="%Y-%m-%d")
    won = outcomes[outcomes["結果"] == "受注"].groupby("リードID")["outcome_at"].min()
    frame["won_at"] = frame["lead_key"].map(won)
    frame["has_outcome"] = frame["lead_key"].isin(set(outcomes["リードID"]))
    return frame


def _funnel(truth: pd.DataFrame) -> pd.DataFrame:
    days = (truth["won_at"] - truth["created_at"]).dt.total_seconds() / 86400
    rows = truth.assign(
        is_won=truth["won_at"].notna(),
        lead_to_won_days=days.where(truth["won_at"] >= truth["created_at"]),
    )
    grouped = rows.groupby(["cohort_month", "source_channel"])
    expected = pd.DataFrame(
        {
            "lead_count": grouped.size(),
            "opportunity_count": grouped["has_outcome"].sum(),
            "won_count": grouped["is_won"].sum(),
            "median_days_lead_to_won": grouped["lead_to_won_days"].median(),
        }
    )
    expected["lead_to_won_rate"] = expected["won_count"] / expected["lead_count"]
    opportunities = expected["opportunity_count"]
    expected["opportunity_to_won_rate"] = expected["won_count"] / opportunities.where(
        opportunities > 0
    )
    return expected.sort_index()


def test_the_files_hold_enough_to_judge(
    exports: Path, truth: pd.DataFrame, touches: pd.DataFrame
) -> None:
    assert truth["won_at"].notna().sum() >= 30
    assert truth["source_channel"].nunique() >= 6
    # 紹介 and その他 are no channel: such leads take their first touch's channel
    unmapped = truth[~truth["lead_source"].isin(_project_vars()["lead_source_channels"])]
    assert len(unmapped) > 50 and (unmapped["source_channel"] != "other").any()
    # every type of the list is known to the mapping
    rows = pd.read_csv(exports / "activities.csv", encoding="utf-8-sig", dtype=str)
    assert set(rows["種別"]) <= set(_project_vars()["imported_activity_types"])


def test_every_imported_lead_is_in_dim_lead(built: Settings, truth: pd.DataFrame) -> None:
    dim = get_warehouse(built).query(
        "select imported_lead_key, email, lead_source, created_at, funnel_stage, is_converted "
        "from marts.dim_lead"
    )
    assert len(dim) == len(truth)
    assert dim["imported_lead_key"].is_unique
    got = dim.set_index("imported_lead_key").sort_index()
    want = truth.set_index("lead_key").sort_index()
    assert list(got.index) == list(want.index)
    assert (got["lead_source"] == want["lead_source"]).all()
    assert (pd.to_datetime(got["created_at"]) == want["created_at"]).all()
    stages = got["funnel_stage"]
    assert set(stages[want["won_at"].notna()]) == {"customer"}
    assert set(stages[want["has_outcome"] & want["won_at"].isna()]) == {"opportunity"}
    assert set(stages[~want["has_outcome"]]) == {"lead"}
    # the model learns from these outcomes: a deal won or lost is a conversion
    assert converted_label(dim.assign(is_converted=dim["is_converted"].astype(bool))).sum() == (
        want["has_outcome"].sum()
    )


def test_mart_funnel_matches_the_files(built: Settings, truth: pd.DataFrame) -> None:
    mart = get_warehouse(built).query(
        "select cohort_month, source_channel, lead_count, opportunity_count, won_count, "
        "lead_to_won_rate, opportunity_to_won_rate, median_days_lead_to_won "
        "from marts.mart_funnel"
    )
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"])
    got = mart.set_index(["cohort_month", "source_channel"]).sort_index()
    expected = _funnel(truth)
    assert list(got.index) == list(expected.index)
    for column in ("lead_count", "opportunity_count", "won_count"):
        assert list(got[column].astype(int)) == list(expected[column].astype(int)), column
    for column in ("lead_to_won_rate", "opportunity_to_won_rate", "median_days_lead_to_won"):
        pd.testing.assert_series_equal(
            got[column].astype(float),
            expected[column].astype(float),
            check_names=False,
            check_index=False,
            rtol=1e-9,
        )


def test_conversion_by_source_channel(built: Settings, truth: pd.DataFrame) -> None:
    by_channel = get_warehouse(built).query(
        "select source_channel, sum(lead_count) as leads, sum(won_count) as won "
        "from marts.mart_funnel group by source_channel order by source_channel"
    )
    expected = truth.groupby("source_channel").agg(
        leads=("lead_key", "size"), won=("won_at", "count")
    )
    got = by_channel.set_index("source_channel")
    assert got["leads"].astype(int).to_dict() == expected["leads"].to_dict()
    assert got["won"].astype(int).to_dict() == expected["won"].to_dict()


def test_imported_activities_are_touches(built: Settings, touches: pd.DataFrame) -> None:
    events = get_warehouse(built).query(
        "select activity_type, channel, is_engagement_touch, count(*) as events, "
        "count(lead_id) as with_lead from marts.fct_engagement_events "
        "where source_system = 'imported_activity' "
        "group by activity_type, channel, is_engagement_touch"
    )
    got = {
        (row.activity_type, row.channel, bool(row.is_engagement_touch)): int(row.events)
        for row in events.itertuples()
    }
    assert (events["events"] == events["with_lead"]).all()
    expected = touches.groupby(["activity_type", "channel", "is_engagement_touch"]).size()
    assert got == {key: int(n) for key, n in expected.items()}
    assert {"open_email", "click_email", "visit_webpage", "attend_event"} <= {k[0] for k in got}
