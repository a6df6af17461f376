"""`nurture doctor`: is this deployment able to run? One line per check, with what to do.

Checks, by group:

- connections: each system's Airflow connection is defined, its host answers and the
  credentials are accepted (Marketo identity token, Salesforce OAuth token, HubSpot
  owners with `limit=1`; Slack only for reachability, since a test would post a message);
- sandbox: which connections point at a sandbox, and its world (seed, leads, today, clock);
- warehouse: reachable, Nurture's schemas, dlt load packages not loaded yet, quarantine;
- airflow: metadata DB reachable and migrated, DAG files parse, the warehouse pool,
  paused DAGs, failed runs.

Each check is a small function returning a `Check`; one that crashes becomes a FAIL line,
never a traceback. Secrets never reach the output: known secrets are replaced, and URL
passwords and secret query parameters masked, before anything is printed. Heavy imports
(Airflow, DuckDB, psycopg) happen inside the checks that need them.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from nurture.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    import httpx

    from nurture.connections import ApiConnection


Status = Literal["ok", "warn", "fail", "skip"]
GROUPS = ("connections", "sandbox", "warehouse", "airflow")
SOURCES = ("marketo", "hubspot", "salesforce", "slack")
LABELS: dict[str, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "skip"}
NAME_WIDTH = 14

# Schemas a deployment grows, and what creates each (raw_files only once files are dropped).
SCHEMA_CREATORS: dict[str, str] = {
    "raw_marketo": "sync_marketo",
    "raw_hubspot": "sync_hubspot",
    "raw_salesforce": "sync_salesforce",
    "ops": "the syncs",
    "staging": "build_marts",
    "intermediate": "build_marts",
    "snapshots": "build_marts",
    "marts": "build_marts",
    "bi": "build_marts",
}
OPTIONAL_SCHEMAS = ("raw_files",)
# Which run finishes a dlt pipeline's pending packages (nurture.load.sync loads them first).
PIPELINE_RUNS: dict[str, str] = {
    "nurture_marketo": "sync_marketo",
    "nurture_hubspot": "sync_hubspot",
    "nurture_salesforce": "sync_salesforce",
    "nurture_ops": "sync_*",
    "nurture_files": "import_files",
}
FAILED_RUNS_HOURS = 24


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    hint: str = ""

    def line(self) -> str:
        text = f"{self.message.rstrip('.')}: {self.hint}" if self.hint else self.message
        return f"{LABELS[self.status]:<6}{self.name:<{NAME_WIDTH}}{text}"


def ok(name: str, message: str) -> Check:
    return Check(name, "ok", message)


def warn(name: str, message: str, hint: str = "") -> Check:
    return Check(name, "warn", message, hint)


def fail(name: str, message: str, hint: str = "") -> Check:
    return Check(name, "fail", message, hint)


def skip(name: str, message: str) -> Check:
    return Check(name, "skip", message)


# ---- secrets ---------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(://[^/\s:@]*):[^@/\s]+@")
_SECRET_PARAM = re.compile(
    r"((?:client_secret|password|user_password|access_token|token|secret)=)[^&\s\"']+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


class Redactor:
    """Replaces known secrets, URL passwords and secret query parameters with `***`."""

    MIN_LENGTH = 4  # shorter "secrets" would blank out ordinary words and protect nothing

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def add(self, *values: object) -> None:
        for value in values:
            text = str(value or "")
            if len(text) >= self.MIN_LENGTH:
                self.secrets.add(text)

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        text = _URL_PASSWORD.sub(r"\1:***@", text)
        text = _SECRET_PARAM.sub(r"\1***", text)
        return _BEARER.sub(r"\1***", text)

    def check(self, check: Check) -> Check:
        return Check(check.name, check.status, self(check.message), self(check.hint))


# ---- helpers ---------------------------------------------------------------------------


def env_var(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL: what may be shown of it (a path can be a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else url


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    """The first line of an error (the driver's own error when SQLAlchemy wraps one)."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    return text.removeprefix("connection failed: ")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _names(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ---- connections -----------------------------------------------------------------------

AUTH_FIELDS = {
    "marketo": "login (client id) and password (client secret)",
    "hubspot": "password (the private app token)",
    "salesforce": "login (client id) and password (client secret)",
}
AUTH_ERRORS = {"invalid_client", "invalid_grant", "unauthorized", "unauthorized_client"}


@dataclass(frozen=True)
class Resolved:
    """A connection as Airflow resolves it, or why it could not be."""

    source: str
    conn_id: str
    conn: ApiConnection | None
    problem: Check | None = None


def resolve_connection(source: str, redact: Redactor) -> Resolved:
    from nurture.connections import ConnectionNotFound, get_connection

    conn_id = f"{source}_default"
    variable = env_var(conn_id)
    raw = os.environ.get(variable, "")
    redact.add(raw)
    try:
        conn = get_connection(conn_id)
    except ConnectionNotFound as exc:
        if raw:  # set, but Airflow could not read it: say why, not "not defined"
            why = _first_line(exc.__cause__ or exc)
            problem = fail(
                source,
                f"{variable} is set but Airflow cannot read it ({why})",
                'it must be JSON like {"conn_type": "http", "host": "https://…", '
                '"login": "…", "password": "…"} or a connection URI',
            )
        else:
            problem = fail(
                source,
                f"connection {conn_id} is not defined",
                f"set {variable} or add it with `airflow connections add {conn_id}` "
                "(docs/deploy.md)",
            )
        return Resolved(source, conn_id, None, problem)
    except Exception as exc:  # a broken secrets backend, for instance
        return Resolved(
            source,
            conn_id,
            None,
            fail(
                source,
                f"could not look up {conn_id}: {_first_line(exc)}",
                "check Airflow's secrets backend settings ([secrets] backend)",
            ),
        )
    redact.add(conn.password, conn.extra.get("user_password"), conn.extra.get("client_secret"))
    if source == "slack" and conn.base_url:
        # The webhook URL is the Slack credential: its path must never be shown.
        redact.add(conn.base_url, urlsplit(conn.base_url).path)
    if not conn.base_url:
        problem = fail(
            source, f"connection {conn_id} has no host", f"set the base URL in {variable}"
        )
        return Resolved(source, conn_id, conn, problem)
    return Resolved(source, conn_id, conn)


def _transport_problem(exc: Exception, timeout: float) -> str:
    import httpx

    text = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"connected, but no answer within {timeout:g} s"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "the host is not a valid http(s) URL"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "its TLS certificate is not trusted"
    if "refused" in text.lower():
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return _one_line(text) or type(exc).__name__


def _unreachable(resolved: Resolved, exc: Exception, timeout: float) -> Check:
    assert resolved.conn is not None
    where = origin(resolved.conn.base_url)
    problem = _transport_problem(exc, timeout)
    host = urlsplit(resolved.conn.base_url).hostname or ""
    local = host in ("127.0.0.1", "localhost", "::1", "sandbox")
    hint = f"check the host in {env_var(resolved.conn_id)} and that this machine can reach it"
    if "certificate" in problem:
        hint = "trust the server's CA (SSL_CERT_FILE) or fix the host in " + env_var(
            resolved.conn_id
        )
    elif local:
        hint += " (is the sandbox running? `nurture sandbox serve`)"
    else:
        hint += " (network, proxy, firewall)"
    return fail(resolved.source, f"cannot reach {where} ({problem})", hint)


def _error_detail(response: httpx.Response) -> str:
    """The vendor's own words from an error body (OAuth, HubSpot, Salesforce shapes)."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text, 100)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return ""
    for key in ("error_description", "message", "error", "errorCode", "category"):
        if body.get(key):  # the first sentence says it; the rest is links and advice
            return _one_line(str(body[key]).split(". ")[0], 100)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _one_line(str(errors[0].get("message") or errors[0]), 100)
    return ""


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _answered(resolved: Resolved, response: httpx.Response, path: str, what: str) -> Check:
    """Turn an answer to an authentication call into a check."""
    assert resolved.conn is not None
    source, status = resolved.source, response.status_code
    where = origin(resolved.conn.base_url)
    detail = _error_detail(response) if status >= 400 else ""
    said = f"HTTP {status}" + (f": {detail}" if detail else "")
    credentials = f"check {env_var(resolved.conn_id)} {AUTH_FIELDS[source]}"
    if status in (401, 403) or (status == 400 and _oauth_error(response) in AUTH_ERRORS):
        if source == "hubspot" and status == 403:
            return fail(
                source,
                f"the token is valid but not allowed to read owners ({said})",
                "give the private app the crm.objects.owners.read scope and those in "
                "docs/contracts.md",
            )
        return fail(source, f"could not authenticate ({said})", credentials)
    if status == 429 or status >= 500:
        return warn(
            source,
            f"{where} answered {said}; the credentials were not confirmed",
            "the service is throttling or failing; run `nurture doctor` again later",
        )
    if status == 404:
        return fail(
            source,
            f"{where} has no {path} (HTTP 404)",
            f"set the host in {env_var(resolved.conn_id)} to the API's base URL",
        )
    if status >= 400:
        return fail(source, f"{what} refused ({said})", credentials)
    try:
        body = response.json()
    except ValueError:
        return fail(
            source,
            f"{where}{path} answered with something other than JSON",
            f"is the host in {env_var(resolved.conn_id)} the API's base URL?",
        )
    if isinstance(body, dict) and not body.get("success", True):  # Marketo's 200 envelope
        detail = _one_line(str(body.get("errors")), 100)
        return fail(source, f"{what} refused ({detail})", credentials)
    if path.endswith("token") and not (isinstance(body, dict) and body.get("access_token")):
        return fail(
            source,
            f"{where}{path} issued no access token",
            f"is the host in {env_var(resolved.conn_id)} the API's base URL?",
        )
    return ok(source, f"authenticated at {where} ({what})")


def _request(
    resolved: Resolved, method: str, path: str, timeout: float, **kwargs: Any
) -> httpx.Response | Check:
    """One attempt, no retries: the doctor reports, the syncs are the ones that retry."""
    import httpx

    assert resolved.conn is not None
    try:
        with httpx.Client(timeout=timeout) as client:
            return client.request(method, resolved.conn.base_url.rstrip("/") + path, **kwargs)
    except httpx.HTTPError as exc:
        return _unreachable(resolved, exc, timeout)


def _missing_client_credentials(name: str, resolved: Resolved) -> Check | None:
    """Marketo and Salesforce both sign in with a client id (login) and secret (password)."""
    conn = resolved.conn
    assert conn is not None
    if conn.login and conn.password:
        return None
    return fail(
        name,
        "the connection has no client id or client secret",
        f"set login (client id) and password (client secret) in {env_var(resolved.conn_id)}",
    )


def check_marketo(resolved: Resolved, timeout: float) -> Check:
    if missing := _missing_client_credentials("marketo", resolved):
        return missing
    conn = resolved.conn
    assert conn is not None
    path = "/identity/oauth/token"
    # The secret travels in the query string (Marketo's identity API): the URL is never
    # shown, and the redactor masks `client_secret=` should an error carry it.
    params = {
        "grant_type": "client_credentials",
        "client_id": conn.login,
        "client_secret": conn.password,
    }
    answer = _request(resolved, "GET", path, timeout, params=params)
    if isinstance(answer, Check):
        return answer
    return _answered(resolved, answer, path, "identity token issued")


def check_salesforce(resolved: Resolved, timeout: float) -> Check:
    if missing := _missing_client_credentials("salesforce", resolved):
        return missing
    conn = resolved.conn
    assert conn is not None
    # The same grant the connector uses (nurture.connectors.salesforce._refresh_token).
    form = {
        "grant_type": "client_credentials",
        "client_id": conn.login,
        "client_secret": conn.password,
    }
    if conn.extra.get("username"):
        form.update(
            grant_type="password",
            username=conn.extra["username"],
            password=conn.extra.get("user_password", ""),
        )
    path = "/services/oauth2/token"
    answer = _request(resolved, "POST", path, timeout, data=form)
    if isinstance(answer, Check):
        return answer
    if answer.status_code == 400 and _oauth_error(answer) == "unsupported_grant_type":
        return fail(
            "salesforce",
            f"the org refused the {form['grant_type']} grant ({_error_detail(answer)})",
            "enable the client credentials flow on the connected app, or set the extras "
            "username and user_password for the password flow",
        )
    return _answered(resolved, answer, path, "OAuth token issued")


def check_hubspot(resolved: Resolved, timeout: float) -> Check:
    conn = resolved.conn
    assert conn is not None
    if not conn.password:
        return fail(
            "hubspot",
            "the connection has no token",
            f"put the private app token in password of {env_var(resolved.conn_id)}",
        )
    path = "/crm/v3/owners"
    answer = _request(
        resolved,
        "GET",
        path,
        timeout,
        params={"limit": 1},
        headers={"Authorization": f"Bearer {conn.password}"},
    )
    if isinstance(answer, Check):
        return answer
    return _answered(resolved, answer, path, "owners readable")


def check_slack(resolved: Resolved, timeout: float) -> Check:
    """Reachability only: the one proof a webhook works is a posted message."""
    import httpx

    conn = resolved.conn
    assert conn is not None
    where = origin(conn.base_url)
    try:
        with httpx.Client(timeout=timeout) as client:
            # The host proves DNS, proxy and TLS; the webhook path is the secret itself.
            client.get(where + "/")
    except httpx.HTTPError as exc:
        return _unreachable(resolved, exc, timeout)
    return ok("slack", f"webhook host {where} reachable (not posted to: that would send a message)")


CONNECTION_CHECKS: dict[str, Callable[[Resolved, float], Check]] = {
    "marketo": check_marketo,
    "hubspot": check_hubspot,
    "salesforce": check_salesforce,
    "slack": check_slack,
}


def check_connection(resolved: Resolved, timeout: float) -> Check:
    if resolved.problem is not None:
        return resolved.problem
    return CONNECTION_CHECKS[resolved.source](resolved, timeout)


# ---- sandbox ---------------------------------------------------------------------------


def _sandbox_health(url: str, timeout: float) -> dict[str, Any] | Literal[False] | None:
    """The sandbox's /health body; None when something else answered; False if nothing."""
    import httpx

    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("status") == "ok" and "seed" in body:
        return body
    return None


def _clock(health: dict[str, Any]) -> str:
    """The sandbox's clock; a fixed one behind the date starves scheduled runs of data."""
    if health.get("clock") == "wall":
        return " (wall clock)"
    try:
        behind = (datetime.now(UTC).date() - date.fromisoformat(str(health.get("today")))).days
    except ValueError:
        return ""
    if behind <= 1:
        return " (fixed clock)"
    return f" (fixed clock, {behind} days behind: scheduled runs see no new data; --clock wall)"


def check_sandbox(resolved: Sequence[Resolved], timeout: float) -> list[Check]:
    """A line per sandbox the connections use, or one saying none is in use."""
    users: dict[str, list[str]] = {}
    for item in resolved:
        if item.conn is not None and item.conn.base_url:
            users.setdefault(origin(item.conn.base_url), []).append(item.source)
    if not users:
        return [ok("sandbox", "not in use: no connection points at one")]
    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        health = dict(
            zip(users, pool.map(lambda u: _sandbox_health(u, timeout), users), strict=True)
        )
    sandboxes = {url: body for url, body in health.items() if body}
    elsewhere = [s for url, body in health.items() if body is None for s in users[url]]
    if not sandboxes:
        return [ok("sandbox", "not in use: no connection points at one")]
    checks = []
    for url, body in sandboxes.items():
        assert isinstance(body, dict)
        leads = body.get("leads")
        world = (
            f"seed {body.get('seed')}, {leads:,} leads, today {body.get('today')}"
            if isinstance(leads, int)
            else f"seed {body.get('seed')}"
        )
        faults = f", faults {body['faults']}" if body.get("faults") not in (None, "none") else ""
        message = f"{world}{_clock(body)}{faults} at {url}, used by {', '.join(users[url])}"
        if elsewhere:
            checks.append(
                warn(
                    "sandbox",
                    f"{message}; {', '.join(elsewhere)} point elsewhere",
                    "a mix of sandbox and real services: point every connection at one of them",
                )
            )
        else:
            checks.append(ok("sandbox", message))
    return checks


# ---- warehouse -------------------------------------------------------------------------


class WarehouseReader:
    """Read-only queries on the warehouse, `?` placeholders on both kinds."""

    def __init__(self, kind: str, con: Any) -> None:
        self.kind = kind
        self.con = con

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.kind == "postgres":
            return self.con.execute(sql.replace("?", "%s"), list(params) or None).fetchall()
        return self.con.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self.con.close()


@dataclass
class WarehouseState:
    check: Check
    reader: WarehouseReader | None = None
    missing: bool = False  # a DuckDB file not created yet: nothing loaded, nothing wrong


def _pg_hint(text: str, variables: str, users: str, database: str) -> str:
    lower = text.lower()
    if "password" in lower or "authentication" in lower or "role" in lower:
        return f"check {users}"
    if "does not exist" in lower and "database" in lower:
        return f"create the database ({database}) or fix the name"
    return f"check {variables} and that PostgreSQL is running and reachable"


def open_warehouse(settings: Settings, timeout: float) -> WarehouseState:
    if settings.warehouse == "postgres":
        return _open_postgres(settings, timeout)
    return _open_duckdb(settings)


def _open_duckdb(settings: Settings) -> WarehouseState:
    import duckdb

    path = settings.duckdb_path
    if not path.exists():
        return WarehouseState(
            ok("warehouse", f"no DuckDB file at {path} yet; the first sync creates it"),
            missing=True,
        )
    try:
        # Read-only: the doctor changes nothing, and it reads beside other readers.
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        text = _first_line(exc)
        if "lock" in text.lower():
            pid = re.search(r"PID (\d+)", str(exc))
            holder = f"process {pid.group(1)}" if pid else "another process"
            return WarehouseState(
                warn(
                    "warehouse",
                    f"DuckDB at {path} is in use by {holder} (a sync or dbt build?); "
                    "its contents were not checked",
                    "run `nurture doctor` again when that run has finished",
                )
            )
        return WarehouseState(
            fail(
                "warehouse",
                f"cannot open DuckDB at {path} ({text})",
                "restore the file or point NURTURE_HOME at the right folder",
            )
        )
    size = path.stat().st_size / 1e6
    return WarehouseState(
        ok("warehouse", f"DuckDB at {path} ({size:,.1f} MB) opens"),
        WarehouseReader("duckdb", con),
    )


def _open_postgres(settings: Settings, timeout: float) -> WarehouseState:
    import psycopg

    pg = settings.postgres
    where = f"PostgreSQL {pg.host}:{pg.port}/{pg.database} as {pg.user}"
    try:
        con = psycopg.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            password=pg.password or None,
            dbname=pg.database,
            connect_timeout=max(1, int(timeout)),
            autocommit=True,
        )
    except psycopg.Error as exc:
        text = _first_line(exc)
        hint = _pg_hint(
            text,
            "NURTURE_PG_HOST and NURTURE_PG_PORT",
            "NURTURE_PG_USER and NURTURE_PG_PASSWORD",
            f"createdb -h {pg.host} -p {pg.port} -U {pg.user} {pg.database}",
        )
        return WarehouseState(fail("warehouse", f"cannot connect to {where} ({text})", hint))
    version = con.info.server_version
    return WarehouseState(
        ok("warehouse", f"{where} (server {version // 10000}.{version % 10000}) answers"),
        WarehouseReader("postgres", con),
    )


def check_schemas(state: WarehouseState) -> Check:
    if state.missing:
        return ok("schemas", "none yet: nothing has been loaded")
    if state.reader is None:
        return skip("schemas", "not checked: the warehouse could not be read")
    present = {
        row[0] for row in state.reader.rows("select schema_name from information_schema.schemata")
    }
    expected = [s for s in SCHEMA_CREATORS if s in present]
    extra = [s for s in OPTIONAL_SCHEMAS if s in present]
    missing = [s for s in SCHEMA_CREATORS if s not in present]
    if not expected:
        return ok("schemas", "none of Nurture's schemas yet: nothing has been loaded")
    if not missing:
        return ok("schemas", f"{', '.join(expected + extra)} present")
    creators = list(dict.fromkeys(SCHEMA_CREATORS[s] for s in missing))
    return warn(
        "schemas",
        f"{', '.join(missing)} missing ({', '.join(expected + extra)} present)",
        f"{', '.join(creators)} create{'s' if len(creators) == 1 else ''} them: "
        "not run yet, or failing (see failed runs)",
    )


def check_quarantine(state: WarehouseState, days: int) -> Check:
    if state.missing:
        return ok("quarantine", "empty: nothing has been loaded")
    if state.reader is None:
        return skip("quarantine", "not checked: the warehouse could not be read")
    reader = state.reader
    exists = reader.rows(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ops' and table_name = 'quarantine'"
    )[0][0]
    if not exists:
        return ok("quarantine", "empty: no record has been set aside")
    since = datetime.now(UTC) - timedelta(days=days)
    recent = reader.rows(
        "select source, count(*) from ops.quarantine where quarantined_at >= ? "
        "group by source order by source",
        [since],
    )
    total = int(reader.rows("select count(*) from ops.quarantine")[0][0])
    if not recent:
        return ok("quarantine", f"nothing in the last {days} days ({total:,} older)")
    count = sum(int(n) for _, n in recent)
    per_source = ", ".join(f"{source} {int(n):,}" for source, n in recent)
    return warn(
        "quarantine",
        f"{plural(count, 'record')} set aside in the last {days} days "
        f"({per_source}; {total:,} in all)",
        "see why with `select source, object, reason, count(*) from ops.quarantine "
        "group by all`; fix them at the source or the contract (docs/contracts.md)",
    )


@dataclass(frozen=True)
class PendingPackage:
    pipeline: str
    load_id: str  # dlt's: the package's creation time in epoch seconds
    failed_jobs: int

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.fromtimestamp(float(self.load_id), tz=UTC)
        except ValueError:
            return None


def _files(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


def pending_packages(pipeline_dir: Path) -> list[PendingPackage]:
    """The load packages dlt would still load, as `Pipeline.has_pending_data` counts them.

    Read from the folders (dlt's NormalizeStorage and LoadStorage layout) rather than
    `dlt.attach`, which takes seconds and writes into the pipeline's folder.
    """
    found = []
    # Extracted but not normalised, and normalised but not (completely) loaded.
    for folder in (pipeline_dir / "normalize" / "extracted", pipeline_dir / "load" / "normalized"):
        if not folder.is_dir():
            continue
        for package in sorted(p for p in folder.iterdir() if p.is_dir()):
            state_file = package / "load_package_state.json"
            if state_file.is_file():
                try:
                    if json.loads(state_file.read_text()).get("abort_requested"):
                        continue  # dlt drops it on the next run: not pending work
                except ValueError:
                    pass
            found.append(
                PendingPackage(pipeline_dir.name, package.name, _files(package / "failed_jobs"))
            )
    return found


def pipeline_busy(pipelines_dir: Path, name: str) -> bool:
    """Whether a run holds the pipeline's lock (nurture.load.locks), its packages in flight.

    A shared, non-blocking probe on the existing lock file: never creates one, never waits.
    """
    path = pipelines_dir / f".{name}.lock"
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def check_dlt_packages(settings: Settings) -> Check:
    root = settings.dlt_dir / settings.warehouse
    pipelines = (
        sorted(p for p in root.iterdir() if (p / "state.json").is_file()) if root.is_dir() else []
    )
    if not pipelines:
        return ok("dlt packages", f"no dlt pipelines in {root} yet")
    pending = [package for p in pipelines for package in pending_packages(p)]
    busy = sorted({p.pipeline for p in pending if pipeline_busy(root, p.pipeline)})
    pending = [p for p in pending if p.pipeline not in busy]
    loading = f"{', '.join(busy)} loading now" if busy else ""
    if not pending:
        idle = f"nothing pending in {plural(len(pipelines), 'pipeline')}"
        return ok("dlt packages", f"{loading}; nothing else pending" if busy else idle)
    now = datetime.now(UTC)
    parts, runs = [], []
    for name in sorted({p.pipeline for p in pending}):
        mine = [p for p in pending if p.pipeline == name]
        stamps = [p.created for p in mine if p.created]
        since = f", oldest {_age((now - min(stamps)).total_seconds())} old" if stamps else ""
        failed = sum(p.failed_jobs for p in mine)
        failed_text = f", {plural(failed, 'failed job')}" if failed else ""
        parts.append(f"{name}: {plural(len(mine), 'package')} not loaded{since}{failed_text}")
        runs.append(PIPELINE_RUNS.get(name, name))
    return warn(
        "dlt packages",
        "; ".join(parts) + " (a load was cut short)" + (f"; {loading}" if busy else ""),
        f"the next {', '.join(sorted(set(runs)))} run loads them first; "
        f"they stay only if those runs fail (packages under {root})",
    )


# ---- airflow ---------------------------------------------------------------------------


@dataclass
class AirflowState:
    check: Check
    engine: Any = None  # a SQLAlchemy engine on a migrated metadata DB


def _quiet_airflow(verbose: bool) -> None:
    """Airflow and the DAG files log at import; the doctor's output is its lines only."""
    if not verbose:
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "CRITICAL"


def open_airflow_db(redact: Redactor, timeout: float) -> AirflowState:
    from airflow.configuration import conf
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    raw_url = conf.get("database", "sql_alchemy_conn")
    url = make_url(raw_url)
    redact.add(url.password)
    shown = url.render_as_string(hide_password=True)
    home = os.environ.get("AIRFLOW_HOME", "~/airflow")
    migrate = "run `airflow db migrate` (with this Airflow's version)"
    backend = url.get_backend_name()
    # SQLite would create an empty file on connect: a missing one means never migrated.
    sqlite_file = url.database if backend == "sqlite" and url.database != ":memory:" else None
    if sqlite_file and not Path(sqlite_file).exists():
        where = f"no metadata DB at {sqlite_file} (AIRFLOW_HOME={home})"
        return AirflowState(fail("airflow db", where, migrate))
    # Without a connect timeout an unreachable server holds the doctor for minutes.
    timed = backend in ("postgresql", "mysql")
    connect_args = {"connect_timeout": max(1, int(timeout))} if timed else {}
    engine = create_engine(raw_url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as con:
            con.execute(text("select 1"))
            from alembic.migration import MigrationContext

            db_heads = set(MigrationContext.configure(con).get_current_heads())
    except Exception as exc:
        problem = _first_line(exc)
        hint = _pg_hint(
            problem,
            "the host in AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "the user and password in AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "create it, then run `airflow db migrate`",
        )
        return AirflowState(
            fail("airflow db", f"cannot use the metadata DB {shown} ({problem})", hint)
        )
    from airflow.version import version

    try:  # the migrations this Airflow ships (a private helper: tolerate its absence)
        from airflow.utils.db import _get_script_object

        code_heads = set(_get_script_object().get_heads())
    except (ImportError, AttributeError):
        code_heads = db_heads
    if not db_heads:
        return AirflowState(
            fail(
                "airflow db",
                f"the metadata DB {shown} has no Airflow tables (never migrated)",
                migrate,
            )
        )
    if db_heads != code_heads:
        return AirflowState(
            fail(
                "airflow db",
                f"the metadata DB {shown} is at migration {', '.join(sorted(db_heads))}; "
                f"Airflow {version} needs {', '.join(sorted(code_heads))}",
                migrate,
            )
        )
    return AirflowState(
        ok("airflow db", f"{shown} reachable and migrated (Airflow {version})"), engine
    )


def _error_summary(path: str, error: str) -> str:
    """`file line N: ExcType: message` from an import error's traceback."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "import failed"
    name = Path(path).name
    frames = re.findall(r'File "([^"]+)", line (\d+)', error)
    line_no = next((n for f, n in reversed(frames) if Path(f).name == name), None)
    if line_no is None:
        match = re.search(r"\(.*?line (\d+)\)", last)
        line_no = match.group(1) if match else None
    return f"{name}" + (f" line {line_no}" if line_no else "") + f": {_one_line(last, 120)}"


def check_dags() -> Check:
    from airflow.configuration import conf

    folder = Path(conf.get("core", "dags_folder")).expanduser()
    if not folder.is_dir():
        return fail(
            "dags", f"the DAGs folder {folder} does not exist", "set AIRFLOW__CORE__DAGS_FOLDER"
        )
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(folder))
    seconds = time.monotonic() - started
    if bag.import_errors:
        errors = [_error_summary(path, error) for path, error in sorted(bag.import_errors.items())]
        return fail(
            "dags",
            f"{plural(len(errors), 'DAG file')} in {folder} failed to import: {'; '.join(errors)}",
            f"`python {folder / sorted(bag.import_errors)[0]}` shows the whole error"
            if len(errors) == 1
            else "`python <file>` shows each whole error",
        )
    if not bag.dags:
        return warn(
            "dags", f"no DAGs in {folder}", "set AIRFLOW__CORE__DAGS_FOLDER to Nurture's dags/"
        )
    return ok("dags", f"{len(bag.dags)} DAGs parse from {folder} in {seconds:.1f} s")


def check_pool(state: AirflowState) -> Check:
    """The pool every Nurture task runs in (nurture.orchestration), sized for the warehouse."""
    if state.engine is None:
        return skip("pool", "not checked: the metadata DB is not usable")
    from airflow.models.pool import Pool
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from nurture.airflow_setup import warehouse_slots
    from nurture.orchestration import WAREHOUSE_POOL

    with Session(state.engine) as session:
        slots = session.execute(select(Pool.slots).where(Pool.pool == WAREHOUSE_POOL)).scalar()
    fix = "run `nurture airflow-init` (after every `airflow db migrate`)"
    if slots is None:
        return fail(
            "pool", f"pool {WAREHOUSE_POOL} does not exist: Nurture's tasks would never start", fix
        )
    try:
        settings = load_settings()
    except ConfigError:
        return ok("pool", f"{WAREHOUSE_POOL}: {plural(slots, 'slot')}")
    wanted = warehouse_slots(settings)
    if slots != wanted:
        return warn(
            "pool",
            f"{WAREHOUSE_POOL} has {plural(slots, 'slot')}, the {settings.warehouse} "
            f"warehouse wants {wanted}",
            fix,
        )
    return ok(
        "pool",
        f"{WAREHOUSE_POOL}: {plural(slots, 'slot')}, as the {settings.warehouse} warehouse wants",
    )


def check_paused(state: AirflowState) -> Check:
    if state.engine is None:
        return skip("paused dags", "not checked: the metadata DB is not usable")
    from airflow.models.dag import DagModel
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    with Session(state.engine) as session:
        rows = session.execute(
            select(DagModel.dag_id, DagModel.is_paused)
            .where(DagModel.is_stale.is_(False))
            .order_by(DagModel.dag_id)
        ).all()
    if not rows:
        return warn(
            "paused dags",
            "no DAGs registered in the metadata DB",
            "the dag-processor registers them: is `airflow dag-processor` running?",
        )
    paused = [dag_id for dag_id, is_paused in rows if is_paused]
    if paused:
        return warn(
            "paused dags",
            f"{len(paused)} of {len(rows)} paused: {_names(paused)}",
            "unpause those that should run: `airflow dags unpause <dag_id>` or the UI toggle "
            "(new DAGs start paused)",
        )
    return ok("paused dags", f"{plural(len(rows), 'DAG')} registered, none paused")


def check_failed_runs(state: AirflowState, hours: int = FAILED_RUNS_HOURS) -> Check:
    if state.engine is None:
        return skip("failed runs", "not checked: the metadata DB is not usable")
    from airflow.models.dagrun import DagRun
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    since = datetime.now(UTC) - timedelta(hours=hours)
    when = func.coalesce(DagRun.end_date, DagRun.start_date, DagRun.run_after)
    with Session(state.engine) as session:
        failed = session.execute(
            select(DagRun.dag_id, func.count())
            .where(DagRun.state == "failed", when >= since)
            .group_by(DagRun.dag_id)
            .order_by(DagRun.dag_id)
        ).all()
        latest = {
            dag_id: session.execute(
                select(DagRun.state)
                .where(DagRun.dag_id == dag_id)
                .order_by(DagRun.run_after.desc(), DagRun.id.desc())
                .limit(1)
            ).scalar()
            for dag_id, _ in failed
        }
    if not failed:
        return ok("failed runs", f"none in the last {hours} h")
    still = [f"{dag_id} ({n})" for dag_id, n in failed if str(latest[dag_id]) == "failed"]
    recovered = [f"{dag_id} ({n})" for dag_id, n in failed if str(latest[dag_id]) != "failed"]
    if still:
        tail = f"; failed earlier, since rerun: {', '.join(recovered)}" if recovered else ""
        return fail(
            "failed runs",
            f"latest run failed: {', '.join(still)} (failed runs in {hours} h){tail}",
            "read the failed task's log in the UI (Dag Runs), fix the cause, then clear the "
            "task to rerun it",
        )
    return warn(
        "failed runs",
        f"runs failed in the last {hours} h, the latest since succeeded or runs: "
        f"{', '.join(recovered)}",
        "look at the failed tasks' logs in the UI if it keeps happening",
    )


# ---- running them ----------------------------------------------------------------------


def safely(name: str, run: Callable[[], Check | list[Check]], verbose: bool) -> list[Check]:
    """A check that crashes becomes a FAIL line, never a traceback (unless -v)."""
    try:
        found = run()
    except Exception as exc:
        if verbose:
            traceback.print_exc(file=sys.stderr)
        what = f"{type(exc).__name__}: {_one_line(_first_line(exc), 120)}"
        hint = "" if verbose else "run `nurture -v doctor` for details"
        return [fail(name, f"the check crashed ({what})", hint)]
    return found if isinstance(found, list) else [found]


def collect_checks(
    groups: Sequence[str],
    emit: Callable[[Check], None],
    redact: Redactor,
    days: int = 7,
    timeout: float = 10.0,
    verbose: bool = False,
) -> None:
    """Run the checks of `groups` in order, handing each result to `emit` as it comes."""

    def run(name: str, check: Callable[[], Check | list[Check]]) -> None:
        for found in safely(name, check, verbose):
            emit(found)

    if "airflow" in groups or "connections" in groups or "sandbox" in groups:
        _quiet_airflow(verbose)

    if "connections" in groups or "sandbox" in groups:
        resolved = [resolve_connection(source, redact) for source in SOURCES]
        if "connections" in groups:
            # In parallel: an unreachable host costs one timeout, not one per system.
            with ThreadPoolExecutor(max_workers=len(resolved)) as pool:
                checks = [
                    pool.submit(safely, r.source, lambda r=r: check_connection(r, timeout), verbose)
                    for r in resolved
                ]
                for future in checks:
                    for found in future.result():
                        emit(found)
        if "sandbox" in groups:
            run("sandbox", lambda: check_sandbox(resolved, min(timeout, 3.0)))

    if "warehouse" in groups:
        try:
            settings = load_settings()
        except ConfigError as exc:
            emit(fail("settings", str(exc), "fix the NURTURE_* environment variables"))
        else:
            warehouse = WarehouseState(skip("warehouse", "not checked"))

            def open_it() -> Check:
                nonlocal warehouse
                warehouse = open_warehouse(settings, timeout)
                return warehouse.check

            run("warehouse", open_it)
            try:
                run("schemas", lambda: check_schemas(warehouse))
                run("quarantine", lambda: check_quarantine(warehouse, days))
            finally:
                if warehouse.reader is not None:
                    warehouse.reader.close()
            run("dlt packages", lambda: check_dlt_packages(settings))

    if "airflow" in groups:
        airflow = AirflowState(skip("airflow db", "not checked"))

        def open_db() -> Check:
            nonlocal airflow
            airflow = open_airflow_db(redact, timeout)
            return airflow.check

        run("airflow db", open_db)
        run("dags", check_dags)
        run("pool", lambda: check_pool(airflow))
        run("paused dags", lambda: check_paused(airflow))
        run("failed runs", lambda: check_failed_runs(airflow))
        if airflow.engine is not None:
            airflow.engine.dispose()


def group_list(value: str) -> tuple[str, ...]:
    """`--skip`/`--only` values: comma-separated group names."""
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown check group {', '.join(unknown)}; choose from {', '.join(GROUPS)}"
        )
    return names


def run_doctor(
    skip_groups: Sequence[str] = (),
    only: Sequence[str] = (),
    days: int = 7,
    timeout: float = 10.0,
    as_json: bool = False,
    verbose: bool = False,
) -> int:
    """Print one line per check (or JSON); 1 when any check failed, else 0."""
    groups = [g for g in (only or GROUPS) if g not in skip_groups]
    redact = Redactor()
    checks: list[Check] = []
    out = sys.stdout

    def emit(check: Check) -> None:
        check = redact.check(check)
        checks.append(check)
        if not as_json:
            print(check.line(), file=out, flush=True)

    try:
        # DAG files and libraries may print while imported: only the checks reach stdout.
        with redirect_stdout(sys.stderr):
            collect_checks(groups, emit, redact, days=days, timeout=timeout, verbose=verbose)
        failed = sum(c.status == "fail" for c in checks)
        warned = sum(c.status == "warn" for c in checks)
        if as_json:
            report = {"ok": not failed, "checks": [asdict(c) for c in checks]}
            print(json.dumps(report, indent=2, ensure_ascii=False), file=out)
        else:
            verdict = f"{failed} failed, {plural(warned, 'warning')}"
            verdict = verdict if failed or warned else "all good"
            print(f"\n{plural(len(checks), 'check')}: {verdict}", file=out)
    except BrokenPipeError:  # `nurture doctor | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 1 if any(c.status == "fail" for c in checks) else 0
