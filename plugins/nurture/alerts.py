"""Failure alerts: one Slack message when a task has failed for good.

`task_failure_alert` is an Airflow `on_failure_callback`; Airflow calls it only on the
final failure (a try that will be retried calls `on_retry_callback` instead). The
message, posted through the `slack_default` connection, names the DAG, task, try, run,
the first line of the error and a link to the log:

    :rotating_light: Task `extract_load` of DAG `sync_hubspot` failed (try 4 of 4)
    Run: `scheduled__2026-10-01T00:00:00+00:00`
    Error: `HttpError: 401 Unauthorized for https://api.hubapi.com/...?token=***`
    <http://airflow:8080/dags/sync_hubspot/runs/.../tasks/extract_load?try_number=4|Log>

Error text can carry secrets (a URL with its query string, a header) and lead data
(an e-mail, a company name), so it is redacted, then escaped for Slack mrkdwn. An alert
must never hide the task's own failure: everything is caught and logged as a warning,
and Slack gets a short timeout and two attempts at most.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from nurture.connections import ApiConnection
from nurture.escaping import mrkdwn as mrkdwn_escape

log = logging.getLogger(__name__)

SLACK_CONN_ID = "slack_default"
# connections whose secrets are redacted from alerts when they resolve
SECRET_CONN_IDS = ("marketo_default", "hubspot_default", "salesforce_default", "slack_default")
ALERT_TIMEOUT_SECONDS = 10.0
ALERT_MAX_ATTEMPTS = 2
ALERT_MAX_SLEEP_SECONDS = 2.0  # cap on a Retry-After hint: an alert must not hold a worker
MAX_ERROR_CHARS = 300
# a shorter literal would blank out ordinary words of the message
MIN_SECRET_CHARS = 4
REDACTED = "***"

_SECRET_NAME = r"[\w.-]*?(?:secret|token|password|passwd|pwd|api_?key)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # https://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]+):[^\s/@]+@"), rf"\1:{REDACTED}@"),
    # ?client_secret=..., &access_token=..., password: ..., "apikey": "..."
    (
        re.compile(rf"(?i)\b({_SECRET_NAME})([\"']?\s*[=:]\s*[\"']?)[^\s&\"',;)\]}}>]+"),
        rf"\1\2{REDACTED}",
    ),
    # Authorization: Bearer ... (and Basic ..., only after "Authorization")
    (re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]+"), rf"\1 {REDACTED}"),
    (
        re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?\w+)\s+[\w.~+/=-]+"),
        rf"\1 {REDACTED}",
    ),
    # a Slack webhook URL is its own secret
    (re.compile(r"(?i)(hooks\.slack\.com/services/)\S+"), rf"\1{REDACTED}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without known secret values or anything shaped like a credential."""
    # as written, and as they appear inside a URL
    literals = {v for s in secrets for v in (s, quote(s, safe=""), quote_plus(s))}
    for secret in sorted(
        {s for s in literals if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True
    ):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def connection_secrets(conn_ids: Iterable[str] = SECRET_CONN_IDS) -> list[str]:
    """Secret values of the project's connections that resolve; the others are skipped."""
    from nurture.connections import get_connection

    secrets: list[str] = []
    for conn_id in conn_ids:
        try:
            conn = get_connection(conn_id)
        except Exception:  # not defined here (or the backend is down): nothing to hide
            continue
        secrets.append(conn.password)
        if conn_id == SLACK_CONN_ID:
            secrets.append(conn.base_url)  # the webhook URL works as a password
        secrets += [
            str(value)
            for key, value in conn.extra.items()
            if re.fullmatch(_SECRET_NAME, str(key), re.IGNORECASE) and value
        ]
    return [s for s in secrets if s]


def error_first_line(error: BaseException | str | None) -> str:
    """`Type: first line of the message` (the traceback is in the log)."""
    if error is None:
        return "(no exception recorded)"
    if isinstance(error, BaseException):
        message = str(error).strip()
        name = type(error).__name__
        text = f"{name}: {message}" if message else name
    else:
        text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _log_url(ti: Any, dag_id: str, run_id: str, task_id: str | None) -> str:
    """The task instance's log page (`ti.log_url`, from `[api] base_url`), or the run's page."""
    url = getattr(ti, "log_url", None) if ti is not None else None
    if url:
        return str(url)
    try:
        from airflow.sdk.configuration import conf

        base = conf.get("api", "base_url", fallback="http://localhost:8080/")
    except Exception:
        base = "http://localhost:8080/"
    url = f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id, safe='')}"
    return f"{url}/tasks/{task_id}" if task_id else url


def failure_message(context: Mapping[str, Any], secrets: Iterable[str] = ()) -> str:
    """The alert's mrkdwn text for an Airflow callback context (task or DAG run)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    dag_id = str(
        getattr(ti, "dag_id", None)
        or getattr(dag_run, "dag_id", None)
        or getattr(dag, "dag_id", None)
        or "?"
    )
    run_id = str(context.get("run_id") or getattr(ti, "run_id", None) or "?")
    task_id = getattr(ti, "task_id", None)
    error = context.get("exception") or context.get("reason")
    if isinstance(error, BaseException):
        from nurture.retryable import root_cause

        error = root_cause(error)  # not dlt's "failed at step=extract" wrapper
    # redacted before it is cut, so no secret is cut into a part the patterns miss
    first = _shorten(redact(error_first_line(error), secrets))
    first = mrkdwn_escape(first).replace("`", "'")
    if task_id:
        tries = getattr(ti, "try_number", None)
        max_tries = getattr(ti, "max_tries", None)
        # max_tries counts retries: a task with retries=3 has 4 tries
        try_text = f"try {tries}" + (f" of {max_tries + 1}" if max_tries is not None else "")
        headline = f":rotating_light: Task `{task_id}` of DAG `{dag_id}` failed ({try_text})"
    else:
        headline = f":rotating_light: DAG run failed: `{dag_id}`"
    lines = [mrkdwn_escape(headline), f"Run: `{mrkdwn_escape(run_id)}`", f"Error: `{first}`"]
    lines.append(f"<{mrkdwn_escape(_log_url(ti, dag_id, run_id, task_id))}|Log>")
    return "\n".join(lines)


def _alert_connection(conn: ApiConnection) -> ApiConnection:
    """The connection with a short timeout and few attempts, whatever it says."""
    extra = dict(conn.extra)
    extra["timeout_seconds"] = min(conn.timeout_seconds, ALERT_TIMEOUT_SECONDS)
    extra["max_attempts"] = min(
        int(extra.get("max_attempts", ALERT_MAX_ATTEMPTS)), ALERT_MAX_ATTEMPTS
    )
    extra["backoff_seconds"] = min(float(extra.get("backoff_seconds", 1.0)), 1.0)
    return dataclasses.replace(conn, extra=extra)


def post_alert(text: str, conn_id: str = SLACK_CONN_ID, secrets: Iterable[str] = ()) -> bool:
    """Post `text` (mrkdwn, already escaped) to Slack; False, with a warning, if it did not go."""
    from nurture.connections import get_connection
    from nurture.connectors.slack import SlackWebhook

    webhook = None
    try:
        webhook = SlackWebhook(
            _alert_connection(get_connection(conn_id)),
            sleep=lambda seconds: time.sleep(min(seconds, ALERT_MAX_SLEEP_SECONDS)),
        )
        webhook.post({"text": text})
        return True
    except Exception as exc:
        log.warning("Slack alert not sent via %s: %s", conn_id, redact(repr(exc), secrets))
        return False
    finally:
        if webhook is not None:
            webhook.close()


def task_failure_alert(context: Mapping[str, Any]) -> None:
    """Airflow `on_failure_callback`: one Slack message about the failed task. Never raises."""
    secrets: list[str] = []
    try:
        secrets = connection_secrets()
        post_alert(failure_message(context, secrets), secrets=secrets)
    except Exception as exc:  # the task's own failure must stay what the log shows
        log.warning("failure alert not sent: %s", redact(repr(exc), secrets))
