"""Connection details for external systems, from Airflow connections (`AIRFLOW_CONN_*`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any


class ConnectionNotFound(LookupError):
    """No Airflow connection with that id; the message says how to define one."""


@dataclass(frozen=True)
class ApiConnection:
    conn_id: str
    base_url: str
    login: str = ""
    password: str = field(default="", repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def timeout_seconds(self) -> float:
        """Per-request timeout (extra `timeout_seconds`, default 60)."""
        return float(self.extra.get("timeout_seconds", 60))


def _base_url(host: str | None, schema: str | None, port: int | None) -> str:
    host = (host or "").rstrip("/")
    if not host:
        return ""
    if "://" not in host:
        scheme = schema if schema in ("http", "https") else "https"
        host = f"{scheme}://{host}"
    if port and host.count(":") < 2:
        host = f"{host}:{port}"
    return host


def get_connection(conn_id: str) -> ApiConnection:
    """Resolve `conn_id` through Airflow's secrets chain (env vars, then the metadata DB)."""
    from airflow.sdk import Connection  # heavy import, only when a task needs a connection

    _check_env_json(conn_id)
    try:
        conn = Connection.get(conn_id)
    except Exception as exc:  # Airflow raises its own not-found types per backend
        raise ConnectionNotFound(
            f"Airflow connection {conn_id!r} is not defined: set "
            f"AIRFLOW_CONN_{conn_id.upper()} or add it with `airflow connections add`."
        ) from exc
    extra = conn.extra_dejson if conn.extra else {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    return ApiConnection(
        conn_id=conn_id,
        base_url=_base_url(conn.host, conn.schema, conn.port),
        login=conn.login or "",
        password=conn.password or "",
        extra=dict(extra),
    )


def _check_env_json(conn_id: str) -> None:
    """An `AIRFLOW_CONN_*` value in JSON form that does not parse would read as "not
    defined" further on; say what is wrong with it instead (never its content)."""
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = os.environ.get(name, "").strip()
    if not value.startswith("{"):
        return
    try:
        json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConnectionNotFound(
            f"{name} is not valid JSON ({exc.msg} at character {exc.pos}); fix the "
            'variable\'s value, e.g. \'{"conn_type": "http", "host": "https://..."}\'.'
        ) from exc


def connection_env(base_url: str, login: str, password: str, **extra: Any) -> str:
    """The JSON value of an `AIRFLOW_CONN_<ID>` variable (used to point syncs at the sandbox)."""
    return json.dumps(
        {
            "conn_type": "http",
            "host": base_url,
            "login": login,
            "password": password,
            "extra": extra,
        }
    )
