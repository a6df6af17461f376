"""Syncs against the sandbox into each warehouse: complete, and idempotent on re-run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nurture.connections import ApiConnection
from nurture.load.sync import run_sync
from nurture.quality.gate import run_gate
from nurture.warehouse import get_warehouse

SEED, LEADS = 11, 800
TABLES = {
    "marketo": {"leads": "marketo_leads", "activities": "marketo_activities"},
    "hubspot": {"contacts": "hubspot_contacts_all", "companies": "hubspot_companies_all"},
    "salesforce": {"leads": "salesforce_leads_all"},
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import ensure_world, world_counts

    home = tmp_path_factory.mktemp("sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        world = ensure_world(SEED, LEADS, home)
        yield base_url, until, world_counts(world), world


def connection(source: str, base_url: str, until: datetime) -> ApiConnection:
    # The sandbox world holds two years of history before its "today".
    return ApiConnection(
        conn_id=f"{source}_default",
        base_url=base_url,
        login="test-client",
        password="test-secret",
        extra={"history_start": (until - timedelta(days=731)).isoformat()},
    )


def count(settings, table: str) -> int:
    return int(get_warehouse(settings).query(f"select count(*) as n from {table}")["n"].iloc[0])


@pytest.mark.parametrize("source", sorted(TABLES))
def test_sync_loads_the_world_once(source, sandbox, warehouse_settings):
    base_url, until, truth, _ = sandbox
    conn = connection(source, base_url, until)
    first = run_sync(source, warehouse_settings, until=until, conn=conn)
    loaded = {obj: count(warehouse_settings, f"raw_{source}.{obj}") for obj in TABLES[source]}
    assert loaded == {obj: truth[key] for obj, key in TABLES[source].items()}
    assert first.calls["pages"] > 0

    again = run_sync(source, warehouse_settings, until=until, conn=conn)
    reloaded = {obj: count(warehouse_settings, f"raw_{source}.{obj}") for obj in TABLES[source]}
    assert reloaded == loaded
    # the second run starts at the stored cursor minus the lookback, not at the beginning
    assert sum(again.rows.values()) < sum(first.rows.values())
    runs = get_warehouse(warehouse_settings).query(
        "select count(distinct run_id) as n from ops.sync_runs where source = ?", [source]
    )
    assert int(runs["n"].iloc[0]) == 1


def test_backfill_loads_exactly_its_window(sandbox, warehouse_settings):
    from nurture.sandbox.world import connect

    base_url, until, _, world_path = sandbox
    start, end = until - timedelta(days=37), until - timedelta(days=30)
    window = run_sync(
        "marketo",
        warehouse_settings,
        until=end,
        since=start,
        conn=connection("marketo", base_url, until),
    )
    with connect(world_path) as world:
        expected = world.execute(
            "select count(*) from activities where activity_date >= ? and activity_date < ?",
            [start.replace(tzinfo=None), end.replace(tzinfo=None)],
        ).fetchone()[0]
    assert expected > 0
    assert window.rows["activities"] == expected
    assert count(warehouse_settings, "raw_marketo.activities") == expected


@pytest.mark.slow
def test_marketo_under_flaky_faults_loads_exactly_the_world(tmp_path_factory, tmp_path):
    """429s, 5xx, slow answers and stalls: retried, and nothing lost or doubled."""
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import ensure_world, world_counts
    from tests.conftest import settings_for

    home = tmp_path_factory.mktemp("flaky")
    settings = settings_for(tmp_path, "duckdb")
    # rate limits off: the module's sandbox tests pacing; here faults alone are under test
    with running_sandbox(
        seed=SEED, leads=LEADS, faults="flaky", home=home, rate_limits=False
    ) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        conn = connection("marketo", base_url, until)
        # The sandbox's stalls outlast any timeout; a short one keeps the test quick.
        conn.extra["timeout_seconds"] = 10
        summary = run_sync("marketo", settings, until=until, conn=conn)
    truth = world_counts(ensure_world(SEED, LEADS, home))
    assert summary.calls["retries"] > 0
    assert count(settings, "raw_marketo.leads") == truth["marketo_leads"]
    assert count(settings, "raw_marketo.activities") == truth["marketo_activities"]


def test_marketo_programs_and_emails_match_the_launched_assets(sandbox, warehouse_settings):
    """Every program and email (A/B variants are emails of their own) launched by today."""
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import connect

    _, until, _, world_path = sandbox
    # The same cached world, served without rate limits: pacing is not the point here.
    home = world_path.parent.parent
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as base_url:
        conn = connection("marketo", base_url, until)
        run_sync("marketo", warehouse_settings, until=until, conn=conn)
    with connect(world_path) as con:
        programs = {
            r[0]: r[1]
            for r in con.execute(
                "select campaign_id, content_type from campaigns where launch_at < ?", [until]
            ).fetchall()
        }
        emails = {
            r[0]: r[1]
            for r in con.execute(
                "select mailing_id, campaign_id from emails where send_at < ?", [until]
            ).fetchall()
        }
    wh = get_warehouse(warehouse_settings)
    loaded_programs = wh.query("select id, tag_content_type from raw_marketo.programs")
    loaded_emails = wh.query("select id, program_id, subject from raw_marketo.emails")
    assert set(loaded_programs["id"]) == set(programs)
    tagged = {
        i: t
        for i, t in zip(loaded_programs["id"], loaded_programs["tag_content_type"], strict=True)
        if isinstance(t, str)
    }
    assert tagged == {k: v for k, v in programs.items() if v is not None} and tagged
    assert dict(zip(loaded_emails["id"], loaded_emails["program_id"], strict=True)) == emails
    assert loaded_emails["subject"].notna().all()
    # A/B tests: some programs send more than one email (one per variant).
    assert len(emails) > len(set(emails.values()))
    checked = run_gate(wh, "raw_marketo")
    assert {"raw_marketo.programs", "raw_marketo.emails"} <= set(checked)


def test_dlt_sends_no_usage_events(tmp_path):
    """dlt's anonymous telemetry stays off in every process that imports Nurture."""
    import subprocess
    import sys

    probe = (
        "import nurture, dlt\n"
        "from dlt.common.runtime import anon_tracker\n"
        f"dlt.pipeline('probe', destination='duckdb', pipelines_dir={str(tmp_path)!r})\n"
        "print(anon_tracker._ANON_TRACKER_ENDPOINT)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RUNTIME__DLTHUB_TELEMETRY"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"


def test_a_failed_sync_is_recorded_with_its_reason(sandbox, warehouse_settings):
    """`ops.sync_runs` once held successes only: a run that failed left no trace there."""
    import socket

    _, until, _, _ = sandbox
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    conn = connection("hubspot", dead, until)
    conn.extra.update(max_attempts=1)
    with pytest.raises(Exception, match="ConnectError"):
        run_sync("hubspot", warehouse_settings, until=until, conn=conn)
    failed = get_warehouse(warehouse_settings).query(
        "select run_id, object, status, error from ops.sync_runs where status = 'failed'"
    )
    assert len(failed) == 1
    row = failed.iloc[0]
    assert row["object"] == "(run)" and row["run_id"].startswith(f"hubspot:{until.isoformat()}")
    assert "ConnectError" in row["error"] and "\n" not in row["error"]
