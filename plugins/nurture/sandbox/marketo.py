"""Marketo Engage emulator: identity, activities with paging tokens, leads, bulk extract,
programs and emails. Errors come back as HTTP 200 with ``success: false``, as Marketo does.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from nurture.sandbox import clock
from nurture.sandbox.activity import ACTIVITY_TYPES
from nurture.sandbox.faults import rate_limited
from nurture.sandbox.world import ACTIVITY_ATTRIBUTES

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

LEAD_FIELDS: tuple[str, ...] = (
    "id",
    "email",
    "firstName",
    "lastName",
    "company",
    "title",
    "industry",
    "numberOfEmployees",
    "leadSource",
    "unsubscribed",
    "emailInvalid",
    "createdAt",
    "updatedAt",
)
DEFAULT_LEAD_FIELDS = ("id", "updatedAt", "lastName", "email", "createdAt", "firstName")
MAX_BATCH = 300
MAX_TYPE_IDS = 10
MAX_EXPORT_DAYS = 31
MAX_QUEUED = 10
ACTIVITY_COLUMNS = (
    "id",
    "marketo_guid",
    "lead_id",
    "activity_date",
    "activity_type_id",
    "campaign_id",
    "primary_attribute_value_id",
    "primary_attribute_value",
    *ACTIVITY_ATTRIBUTES,
)
_DATA_TYPES = {"Mailing ID": "integer", "Campaign Run ID": "integer", "Is Mobile Device": "boolean"}


class MarketoError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def envelope(result: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    from nurture.sandbox.app import request_id

    body: dict[str, Any] = {"requestId": request_id(), "success": True}
    if result is not None:
        body["result"] = result
    body.update(extra)
    return body


def failure(code: str, message: str) -> JSONResponse:
    from nurture.sandbox.app import request_id

    return JSONResponse(
        {
            "requestId": request_id(),
            "success": False,
            "errors": [{"code": code, "message": message}],
        }
    )


def encode_token(last_id: int) -> str:
    return base64.b32encode(f"nurture-activity:{last_id}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 8)
        prefix, _, value = base64.b32decode(padded.encode()).decode().partition(":")
        if prefix != "nurture-activity":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MarketoError("1003", f"Invalid paging token '{token}'") from exc


def _iso(value: Any) -> Any:
    return clock.iso_z(value) if isinstance(value, datetime) else value


def activity_json(row: dict[str, Any], drift: bool) -> dict[str, Any]:
    attributes = [
        {"name": name, "value": row[col]}
        for col, name in ACTIVITY_ATTRIBUTES.items()
        if row.get(col) is not None
    ]
    if drift:
        # Schema drift: a newer Marketo release starts sending one more attribute.
        attributes.append({"name": "Browser", "value": "Chrome"})
    return {
        "id": row["id"],
        "marketoGUID": row["marketo_guid"],
        "leadId": row["lead_id"],
        "activityDate": clock.iso_z(row["activity_date"]),
        "activityTypeId": row["activity_type_id"],
        "campaignId": row["campaign_id"],
        "primaryAttributeValueId": row["primary_attribute_value_id"],
        "primaryAttributeValue": row["primary_attribute_value"],
        "attributes": attributes,
    }


def _ints(raw: str | None, name: str, limit: int) -> list[int]:
    if not raw:
        return []
    try:
        values = [int(v) for v in raw.split(",") if v.strip()]
    except ValueError as exc:
        raise MarketoError("1003", f"Invalid value for '{name}'") from exc
    if len(values) > limit:
        raise MarketoError("1003", f"Too many values for '{name}' (max {limit})")
    return values


def _parse_dt(value: Any, name: str) -> datetime:
    try:
        return clock.parse_iso(str(value))
    except ValueError as exc:
        raise MarketoError("1003", f"Invalid date '{value}' for '{name}'") from exc


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["marketo"])

    def guard(request: Request) -> JSONResponse | None:
        from nurture.sandbox.app import bearer

        token = bearer(request)
        if not state.token_ok(token):
            return failure("601", "Access token invalid")
        if state.marketo_tokens.check(str(token)) == "expired":
            return failure("602", "Access token expired")
        allowed, _, _ = state.limiter.hit("marketo")
        if not allowed:
            return rate_limited("marketo", "SECONDLY")  # type: ignore[return-value]
        within_day, _ = state.spend_daily("marketo_calls", state.quotas.marketo_daily_calls)
        if not within_day:
            return failure("607", "Daily quota reached")
        return None

    def run(request: Request, handler) -> Any:  # type: ignore[no-untyped-def]
        denied = guard(request)
        if denied is not None:
            return denied
        try:
            return handler()
        except MarketoError as exc:
            return failure(exc.code, exc.message)

    @api.get("/identity/oauth/token")
    def identity(
        grant_type: str = "", client_id: str = "", client_secret: str = ""
    ) -> JSONResponse:
        if grant_type != "client_credentials" or not client_id or not client_secret:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Bad client credentials"},
                status_code=401,
            )
        if state.token is not None and client_secret != state.token:
            return JSONResponse(
                {"error": "unauthorized", "error_description": "Bad client credentials"},
                status_code=401,
            )

        # With --token the token is fixed (it is still tracked, so it expires and is
        # renewed like any other); otherwise each issue gets a new serial.
        def make(serial: int) -> str:
            digest = hashlib.sha256(f"{client_id}:{serial}".encode()).hexdigest()[:24]
            return state.token or f"sandbox-{digest}"

        token, expires_in = state.marketo_tokens.issue(client_id, make)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": expires_in,
                "scope": "api@nurture-sandbox",
            }
        )

    @api.get("/rest/v1/activities/types.json")
    def activity_types(request: Request) -> Any:
        def handler() -> dict[str, Any]:
            result = []
            for type_id, (name, primary) in ACTIVITY_TYPES.items():
                result.append(
                    {
                        "id": type_id,
                        "name": name,
                        "description": name,
                        "primaryAttribute": {"name": primary, "dataType": "integer"},
                        "attributes": [
                            {"name": n, "dataType": _DATA_TYPES.get(n, "string")}
                            for n in ACTIVITY_ATTRIBUTES.values()
                        ],
                    }
                )
            return envelope(result)

        return run(request, handler)

    @api.get("/rest/v1/activities/pagingtoken.json")
    def paging_token(request: Request, sinceDatetime: str = "") -> Any:
        def handler() -> dict[str, Any]:
            if not sinceDatetime:
                raise MarketoError("701", "sinceDatetime cannot be blank")
            since = _parse_dt(sinceDatetime, "sinceDatetime")
            with state.db() as cur:
                # Deleted-lead records (merges on advance) share the activity id space.
                first = cur.execute(
                    "SELECT min(id) FROM (SELECT id FROM activities WHERE activity_date >= ? "
                    "UNION ALL SELECT id FROM mkto_deleted_lead WHERE activity_date >= ?)",
                    [since, since],
                ).fetchone()[0]
                if first is None:
                    first = (
                        cur.execute(
                            "SELECT greatest((SELECT coalesce(max(id), 0) FROM activities), "
                            "(SELECT coalesce(max(id), 0) FROM mkto_deleted_lead))"
                        ).fetchone()[0]
                        or 0
                    ) + 1
            return envelope(None, nextPageToken=encode_token(int(first) - 1))

        return run(request, handler)

    @api.get("/rest/v1/activities.json")
    def activities(
        request: Request,
        nextPageToken: str = "",
        activityTypeIds: str = "",
        batchSize: int = MAX_BATCH,
        leadIds: str = "",
    ) -> Any:
        def handler() -> dict[str, Any]:
            if not nextPageToken:
                raise MarketoError("701", "nextPageToken cannot be blank")
            after = decode_token(nextPageToken)
            types = _ints(activityTypeIds, "activityTypeIds", MAX_TYPE_IDS)
            if not types:
                raise MarketoError("701", "activityTypeIds cannot be blank")
            leads = _ints(leadIds, "leadIds", 30)
            size = max(1, min(batchSize, MAX_BATCH))
            key = f"activities:{nextPageToken}:{activityTypeIds}:{leadIds}:{size}"
            faults = state.faults
            if faults.page_fault("truncate", key):
                size = max(1, size // 3)
            sql = (
                f"SELECT {', '.join(ACTIVITY_COLUMNS)} FROM activities WHERE id > ? "
                f"AND activity_type_id IN ({', '.join('?' * len(types))})"
            )
            params: list[Any] = [after, *types]
            if leads:
                sql += f" AND lead_id IN ({', '.join('?' * len(leads))})"
                params += leads
            sql += " ORDER BY id LIMIT ?"
            params.append(size + 1)
            with state.db() as cur:
                cur.execute(sql, params)
                cols = [d[0] for d in cur.description]
                rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
            more = len(rows) > size
            rows = rows[:size]
            result = [activity_json(r, faults.drifted(("activity", r["id"]))) for r in rows]
            last = rows[-1]["id"] if rows else after
            if rows and faults.page_fault("shift", key):
                last = rows[-2]["id"] if len(rows) > 1 else after  # last record comes again
            if len(result) > 1 and faults.page_fault("duplicate", key):
                result.insert(1, result[0])
            return envelope(result, moreResult=more, nextPageToken=encode_token(int(last)))

        return run(request, handler)

    @api.get("/rest/v1/activities/deletedleads.json")
    def deleted_leads(request: Request, nextPageToken: str = "", batchSize: int = MAX_BATCH) -> Any:
        def handler() -> dict[str, Any]:
            if not nextPageToken:
                raise MarketoError("701", "nextPageToken cannot be blank")
            after = decode_token(nextPageToken)
            size = max(1, min(batchSize, MAX_BATCH))
            with state.db() as cur:
                rows = cur.execute(
                    "SELECT id, marketo_guid, lead_id, activity_date, activity_type_id, "
                    "primary_attribute_value_id, primary_attribute_value, merged_into "
                    "FROM mkto_deleted_lead WHERE id > ? ORDER BY id LIMIT ?",
                    [after, size + 1],
                ).fetchall()
            more = len(rows) > size
            rows = rows[:size]
            result = [
                {
                    "id": r[0],
                    "marketoGUID": r[1],
                    "leadId": r[2],
                    "activityDate": clock.iso_z(r[3]),
                    "activityTypeId": r[4],
                    "primaryAttributeValueId": r[5],
                    "primaryAttributeValue": r[6],
                    "attributes": (
                        [{"name": "Merged Into Lead ID", "value": r[7]}] if r[7] else []
                    ),
                }
                for r in rows
            ]
            last = rows[-1][0] if rows else after
            return envelope(result, moreResult=more, nextPageToken=encode_token(int(last)))

        return run(request, handler)

    @api.get("/rest/v1/leads.json")
    def leads(
        request: Request,
        filterType: str = "",
        filterValues: str = "",
        fields: str = "",
    ) -> Any:
        def handler() -> dict[str, Any]:
            wanted = _fields(fields) if fields else list(DEFAULT_LEAD_FIELDS)
            values = [v.strip() for v in filterValues.split(",") if v.strip()]
            if not filterType or not values:
                raise MarketoError("1003", "filterType and filterValues are required")
            if len(values) > MAX_BATCH:
                raise MarketoError("1003", f"Too many values in filterValues (max {MAX_BATCH})")
            cols = ", ".join(f'"{f}"' for f in wanted)
            if filterType == "id":
                ids = _ints(filterValues, "filterValues", MAX_BATCH)
                where, params = f"id IN ({', '.join('?' * len(ids))})", list(ids)
            elif filterType == "email":
                where = f"lower(trim(email)) IN ({', '.join('?' * len(values))})"
                params = [v.lower() for v in values]
            else:
                raise MarketoError("1003", f"Invalid filterType '{filterType}'")
            with state.db() as cur:
                cur.execute(f"SELECT {cols} FROM mkto_lead WHERE {where} ORDER BY id", params)
                rows = cur.fetchall()
            return envelope([{f: _iso(v) for f, v in zip(wanted, r, strict=True)} for r in rows])

        return run(request, handler)

    @api.get("/rest/v1/leads/describe.json")
    def describe(request: Request) -> Any:
        def handler() -> dict[str, Any]:
            types = {
                "id": "integer",
                "numberOfEmployees": "integer",
                "unsubscribed": "boolean",
                "emailInvalid": "boolean",
                "createdAt": "datetime",
                "updatedAt": "datetime",
                "email": "email",
            }
            return envelope(
                [
                    {
                        "id": i + 1,
                        "displayName": f,
                        "dataType": types.get(f, "string"),
                        "rest": {"name": f, "readOnly": f in ("id", "createdAt", "updatedAt")},
                    }
                    for i, f in enumerate(LEAD_FIELDS)
                ]
            )

        return run(request, handler)

    @api.get("/rest/asset/v1/programs.json")
    def programs(request: Request, offset: int = 0, maxReturn: int = 20) -> Any:
        def handler() -> Any:
            rows = _launched_assets(
                state,
                "SELECT campaign_id, name, program_type, channel, content_type, launch_at, "
                "end_at, (SELECT list({'startDate': cast(k.start_date AS VARCHAR), "
                "'cost': k.cost, 'note': k.note} ORDER BY k.start_date) FROM campaign_costs "
                "AS k WHERE k.campaign_id = c.campaign_id AND k.start_date < "
                "cast(to_timestamp(?) AS DATE)) AS costs "
                "FROM campaigns AS c WHERE launch_at < to_timestamp(?)::timestamp "
                "ORDER BY campaign_id LIMIT ? OFFSET ?",
                offset,
                maxReturn,
            )
            if not rows:
                return envelope(None, warnings=["No assets found for the given search criteria."])
            return envelope(
                [
                    {
                        "id": r[0],
                        "name": r[1],
                        "type": r[2],
                        "channel": r[3],
                        "status": "",
                        "workspace": "Default",
                        "createdAt": clock.iso_z(r[5]),
                        "updatedAt": clock.iso_z(r[5]),
                        "startDate": clock.iso_z(r[5]),
                        "endDate": clock.iso_z(r[6]),
                        "tags": [{"tagType": "Content Type", "tagValue": r[4]}] if r[4] else [],
                        # period costs started by the end of the sandbox day
                        "costs": r[7] or [],
                    }
                    for r in rows
                ]
            )

        return run(request, handler)

    @api.get("/rest/asset/v1/emails.json")
    def emails(request: Request, offset: int = 0, maxReturn: int = 20) -> Any:
        def handler() -> Any:
            rows = _launched_assets(
                state,
                "SELECT mailing_id, name, subject, campaign_id, variant, creative_id, "
                "content_type, send_at FROM emails WHERE send_at < to_timestamp(?)::timestamp "
                "ORDER BY mailing_id LIMIT ? OFFSET ?",
                offset,
                maxReturn,
            )
            if not rows:
                return envelope(None, warnings=["No assets found for the given search criteria."])
            return envelope(
                [
                    {
                        "id": r[0],
                        "name": r[1],
                        "subject": {"type": "Text", "value": r[2]},
                        "folder": {"type": "Program", "value": r[3]},
                        "status": "approved",
                        "description": f"variant={r[4]}; creative={r[5]}; content_type={r[6]}",
                        "createdAt": clock.iso_z(r[7]),
                        "updatedAt": clock.iso_z(r[7]),
                        "isOpenTrackingDisabled": False,
                    }
                    for r in rows
                ]
            )

        return run(request, handler)

    _bulk_routes(api, state, run)
    return api


def _fields(raw: str) -> list[str]:
    wanted = [f.strip() for f in raw.split(",") if f.strip()]
    for f in wanted:
        if f not in LEAD_FIELDS:
            raise MarketoError("1006", f"Field '{f}' not found")
    return wanted


def _launched_assets(
    state: SandboxState, sql: str, offset: int, max_return: int
) -> list[tuple[Any, ...]]:
    """One page of assets launched by the end of the sandbox day (Marketo caps pages at 200)."""
    size = max(1, min(max_return, 200))
    end = state.today_ts() + 86_400
    with state.db() as cur:
        cur.execute(sql, [end] * sql.count("to_timestamp(?)") + [size, max(offset, 0)])
        return cur.fetchall()


def _bulk_routes(api: APIRouter, state: SandboxState, run) -> None:  # type: ignore[no-untyped-def]
    from nurture.sandbox.bulk import MarketoExports

    exports = MarketoExports(state)

    for kind in ("leads", "activities"):

        def make(kind: str = kind) -> None:
            @api.post(f"/bulk/v1/{kind}/export/create.json")
            async def create(request: Request) -> Any:
                try:
                    body = await request.json()
                except ValueError:
                    body = None
                return run(request, lambda: envelope([exports.create(kind, body)]))

            @api.post(f"/bulk/v1/{kind}/export/{{export_id}}/enqueue.json")
            def enqueue(request: Request, export_id: str) -> Any:
                return run(request, lambda: envelope([exports.enqueue(kind, export_id)]))

            @api.get(f"/bulk/v1/{kind}/export/{{export_id}}/status.json")
            def status(request: Request, export_id: str) -> Any:
                return run(request, lambda: envelope([exports.status(kind, export_id)]))

            @api.post(f"/bulk/v1/{kind}/export/{{export_id}}/cancel.json")
            def cancel(request: Request, export_id: str) -> Any:
                return run(request, lambda: envelope([exports.cancel(kind, export_id)]))

            @api.get(f"/bulk/v1/{kind}/export/{{export_id}}/file.json")
            def file(request: Request, export_id: str) -> Any:
                def handler() -> Any:
                    path = exports.file(kind, export_id)
                    return FileResponse(path, media_type="text/csv")

                return run(request, handler)

            @api.get(f"/bulk/v1/{kind}/export.json")
            def list_jobs(request: Request) -> Any:
                return run(request, lambda: envelope(exports.list(kind)))

        make()


def window_check(flt: dict[str, Any], names: tuple[str, ...]) -> tuple[str, datetime, datetime]:
    """The single date filter of a bulk export, at most 31 days long."""
    present = [n for n in names if n in flt]
    if len(present) != 1:
        raise MarketoError("1003", f"Exactly one of {', '.join(names)} filters is required")
    name = present[0]
    spec = flt[name]
    if not isinstance(spec, dict) or "startAt" not in spec or "endAt" not in spec:
        raise MarketoError("1003", f"{name} filter needs startAt and endAt")
    start = _parse_dt(spec["startAt"], f"{name}.startAt")
    end = _parse_dt(spec["endAt"], f"{name}.endAt")
    if end < start:
        raise MarketoError("1003", f"{name}.endAt must not be before startAt")
    if end - start > timedelta(days=MAX_EXPORT_DAYS):
        raise MarketoError(
            "1003", f"Date range for {name} exceeds the maximum of {MAX_EXPORT_DAYS} days"
        )
    return name, start, end


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
