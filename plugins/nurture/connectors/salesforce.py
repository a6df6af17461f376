"""Salesforce: OAuth token, SOQL `queryAll` on a `SystemModstamp` window with `nextRecordsUrl`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt

from nurture.connections import ApiConnection
from nurture.connectors.http import ApiError, RetryingClient
from nurture.connectors.records import Quarantine, typed_pages
from nurture.connectors.windows import window_cursor, window_start

LEAD_FIELDS = (
    "Id",
    "Email",
    "FirstName",
    "LastName",
    "Company",
    "Title",
    "Industry",
    "Status",
    "LeadSource",
    "OwnerId",
    "IsConverted",
    "IsDeleted",
    "CreatedDate",
    "SystemModstamp",
)
LEAD_TYPES = {
    "IsConverted": "bool",
    "IsDeleted": "bool",
    "CreatedDate": "timestamp",
    "SystemModstamp": "timestamp",
}
DEFAULT_API_VERSION = "v60.0"


def soql_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceClient:
    def __init__(self, conn: ApiConnection) -> None:
        self.conn = conn
        self.api_version = str(conn.extra.get("api_version", DEFAULT_API_VERSION))
        self._token: str | None = None
        self.http = RetryingClient(
            conn.base_url,
            auth_headers=self._auth_headers,
            on_unauthorized=self._expire_token,
            timeout=conn.timeout_seconds,
        )

    def close(self) -> None:
        self.http.close()

    def _expire_token(self) -> None:
        self._token = None

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None:
            self._refresh_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _refresh_token(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.conn.login,
            "client_secret": self.conn.password,
        }
        if self.conn.extra.get("username"):
            form.update(
                grant_type="password",
                username=self.conn.extra["username"],
                password=self.conn.extra.get("user_password", ""),
            )
        try:
            response = self.http.post("/services/oauth2/token", data=form, authenticated=False)
        except ApiError as exc:
            raise ApiError(
                f"Salesforce OAuth refused the credentials ({exc}); check the connection's "
                "login (client id) and password (client secret)."
            ) from exc
        self._token = response.json()["access_token"]

    def query_all(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a SOQL `queryAll` (deleted rows included, flagged `IsDeleted`)."""
        url: str | None = f"/services/data/{self.api_version}/queryAll"
        params: dict[str, str] | None = {"q": soql}
        while url:
            body = self.http.get(url, params=params).json()
            self.http.stats.pages += 1
            records = body.get("records") or []
            if records:
                yield [{k: v for k, v in r.items() if k != "attributes"} for r in records]
            url = None if body.get("done", True) else body.get("nextRecordsUrl")
            params = None

    def leads_modified(
        self, since: datetime, until: datetime, fields: tuple[str, ...] = LEAD_FIELDS
    ) -> Iterator[list[dict[str, Any]]]:
        soql = (
            f"SELECT {', '.join(fields)} FROM Lead "
            f"WHERE SystemModstamp >= {soql_datetime(since)} "
            f"AND SystemModstamp < {soql_datetime(until)} ORDER BY SystemModstamp"
        )
        return self.query_all(soql)


@dlt.source(name="salesforce", max_table_nesting=0)
def salesforce_source(
    client: SalesforceClient,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool = False,
) -> Any:
    @dlt.resource(name="leads", primary_key="Id", write_disposition="merge")
    def leads(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            "SystemModstamp", history_start, until, lookback, backfill
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        since = window_start(cursor, history_start)
        yield from typed_pages(
            client.leads_modified(since, until),
            obj="leads",
            key="Id",
            types=LEAD_TYPES,
            required=("SystemModstamp",),
            quarantine=quarantine,
        )

    return leads
