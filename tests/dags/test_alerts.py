"""Failure alerts: a real failed task's callback posts one redacted, escaped Slack message.

The end-to-end test runs a one-task DAG with `dag.test()` (via `nurture.dagrun`, as
the demo does) in a child process with its own Airflow home, its `slack_default`
pointing at the sandbox's Slack sink, and reads back what the sink received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from nurture.alerts import failure_message, redact, task_failure_alert
from nurture.connections import connection_env
from nurture.escaping import mrkdwn as mrkdwn_escape
from nurture.sandbox.server import free_port, running_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://airflow.test:8080"

PROBE_DAG = """
from datetime import UTC, datetime

from airflow.sdk import dag, task

from nurture.alerts import task_failure_alert


@dag(dag_id="alert_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC))
def alert_probe():
    @task(retries=0, on_failure_callback=task_failure_alert)
    def explode():
        raise RuntimeError("boom https://x/identity?client_secret=s3cr3t\\nsecond line")

    explode()


alert_probe()
"""


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("alerts-sandbox")
    with running_sandbox(3, 200, home=home, rate_limits=False) as url:
        yield str(url)


def sink_messages(sandbox_url: str, path: str) -> list[dict]:
    found = httpx.get(f"{sandbox_url}/hooks/slack/_messages", timeout=10).json()["messages"]
    return [m["payload"] for m in found if m["path"] == path]


def slack_env(sandbox_url: str, path: str) -> str:
    return connection_env(
        f"{sandbox_url}/hooks/slack/{path}",
        "",
        "",
        verify_url=f"{sandbox_url}/hooks/slack/_messages",
    )


def test_failed_task_posts_one_redacted_alert(tmp_path: Path, sandbox_url: str) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "alert_probe.py").write_text(PROBE_DAG)
    path = f"alerts-{uuid.uuid4().hex[:8]}"
    airflow_home = tmp_path / "airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env |= {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__API__BASE_URL": BASE_URL,
        "AIRFLOW_CONN_SLACK_DEFAULT": slack_env(sandbox_url, path),
    }
    airflow_home.mkdir()
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    run = subprocess.run(
        [
            *(sys.executable, "-m", "nurture.dagrun", "--dags-folder", str(dags)),
            *("--logical-date", "2026-10-01T00:00:00+00:00", "alert_probe"),
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert "::dag alert_probe failed" in output, output[-5000:]

    messages = sink_messages(sandbox_url, path)
    assert len(messages) == 1, messages
    text = messages[0]["text"]
    assert "alert_probe" in text
    assert "explode" in text
    assert "try 1 of 1" in text
    assert "RuntimeError: boom https://x/identity?client_secret=***" in text
    assert "second line" not in text
    assert "s3cr3t" not in text
    assert f"<{BASE_URL}/dags/alert_probe/runs/manual__" in text
    assert "/tasks/explode?try_number=1|Log>" in text


def test_lead_text_cannot_ping_or_link() -> None:
    assert mrkdwn_escape("<!channel> & <http://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;http://evil|click&gt;"
    )
    ti = SimpleNamespace(
        dag_id="sync_hubspot",
        task_id="extract_load",
        run_id="scheduled__2026-10-01T00:00:00+00:00",
        try_number=4,
        max_tries=3,
        log_url=f"{BASE_URL}/dags/sync_hubspot/runs/x/tasks/extract_load?try_number=4&a=b",
    )
    error = ValueError("bad lead <!channel> <http://evil|click> `code` & co")
    text = failure_message({"ti": ti, "run_id": ti.run_id, "exception": error})
    assert "<!channel>" not in text
    assert "<http://evil|click>" not in text
    assert "&lt;!channel&gt; &lt;http://evil|click&gt; 'code' &amp; co" in text
    assert "try 4 of 4" in text
    # the only link is the log's, with its & escaped as Slack wants
    assert text.count("<") == 1
    assert text.endswith(
        f"<{BASE_URL}/dags/sync_hubspot/runs/x/tasks/extract_load?try_number=4&amp;a=b|Log>"
    )


@pytest.mark.parametrize(
    ("raw", "leaked"),
    [
        ("GET https://api.example/x?access_token=abc123&page=2", "abc123"),
        ("token=abc123", "abc123"),
        ("https://x/y?apikey=abc123", "abc123"),
        ('{"password": "hunter2!", "user": "a"}', "hunter2!"),
        ("postgresql://nurture:pa55word@db:5432/nurture", "pa55word"),
        ("headers {'Authorization': 'Bearer eyJhbGciOi.x-y_z'}", "eyJhbGciOi"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("posting to https://hooks.slack.com/services/T0/B0/XyZ failed", "XyZ"),
    ],
)
def test_redact_hides_credential_shapes(raw: str, leaked: str) -> None:
    assert leaked not in redact(raw)
    assert "***" in redact(raw)


def test_redact_hides_connection_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    from nurture.alerts import connection_secrets

    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        connection_env("https://api.hubapi.com", "", "pat-na1-0c0ffee"),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        json.dumps(
            {
                "conn_type": "http",
                "host": "https://login.salesforce.com",
                "login": "nurture",
                "password": "sf-pass-9",
                "extra": {"client_secret": "cs-7777"},
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_MARKETO_DEFAULT",
        connection_env("https://123-abc-456.mktorest.com", "client-id", "p@ss w/rd"),
    )
    secrets = connection_secrets()
    text = redact("401 for pat-na1-0c0ffee; sf-pass-9 / cs-7777 refused", secrets)
    assert text == "401 for ***; *** / *** refused"
    # as typed, and percent-encoded in a URL
    text = redact("bad p@ss w/rd; GET /identity?c=p%40ss%20w%2Frd&x=p%40ss+w%2Frd", secrets)
    assert text == "bad ***; GET /identity?c=***&x=***"


def test_alert_never_raises_when_slack_is_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hooks/slack/nobody"
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_DEFAULT", connection_env(dead, "", ""))
    ti = SimpleNamespace(dag_id="d", task_id="t", run_id="r", try_number=1, max_tries=0)
    started = time.monotonic()
    task_failure_alert({"ti": ti, "run_id": "r", "exception": RuntimeError("x")})
    assert time.monotonic() - started < 15
    assert "Slack alert not sent" in caplog.text
    # and with no context at all, only a warning
    task_failure_alert({})


def test_dag_run_failure_without_ti_links_the_run() -> None:
    dag_run = SimpleNamespace(dag_id="build_marts", run_id="manual__1")
    text = failure_message(
        {"dag_run": dag_run, "run_id": "manual__1", "reason": "task_failure\nmore"}
    )
    assert "DAG run failed: `build_marts`" in text
    assert "task_failure" in text and "more" not in text
    assert "/dags/build_marts/runs/manual__1|Log>" in text


def test_long_error_is_cut_after_redaction() -> None:
    ti = SimpleNamespace(dag_id="d", task_id="t", run_id="r", try_number=2, max_tries=3)
    error = RuntimeError("a" * 280 + " token=" + "x" * 50 + "\ntraceback-ish")
    error_line = failure_message({"ti": ti, "exception": error}).splitlines()[2]
    assert "xxxx" not in error_line
    assert error_line.endswith(" toke…`")
    assert len(error_line) == len("Error: ``") + 300
