"""HubSpot CRM v3 emulator: contacts list with ``after`` paging, search (10,000-result cap,
200 per page), single and batch read/create/update/upsert, owners; rate-limit headers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from nurture.sandbox import clock
from nurture.sandbox.faults import rate_limited

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

PROPERTIES: tuple[str, ...] = (
    "email",
    "firstname",
    "lastname",
    "company",
    "jobtitle",
    "industry",
    "lifecyclestage",
    "hs_lead_status",
    "hubspot_owner_id",
    "createdate",
    "lastmodifieddate",
)
WRITABLE = PROPERTIES[:9]
DEFAULT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
BATCH_LIMIT = 100
DRIFT_PROPERTY = "hs_persona"
_OPERATORS = {"EQ": "=", "NEQ": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


class HubSpotError(Exception):
    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category

    def response(self) -> JSONResponse:
        return JSONResponse(
            {
                "status": "error",
                "message": self.message,
                "correlationId": str(uuid.uuid4()),
                "category": self.category,
            },
            status_code=self.status,
        )


def hs_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _column(prop: str) -> str:
    if prop == "hs_object_id":
        return "id"
    if prop not in PROPERTIES:
        raise HubSpotError(400, f"Unable to search on unknown property '{prop}'")
    return prop


def _value(prop: str, raw: Any) -> Any:
    """A filter value as the column's type: dates come as epoch millis or ISO strings."""
    if prop in ("createdate", "lastmodifieddate"):
        text = str(raw)
        if text.isdigit():
            return clock.to_datetime(int(text) // 1000).replace(tzinfo=None)
        try:
            return clock.parse_iso(text)
        except ValueError as exc:
            raise HubSpotError(400, f"Invalid date value '{raw}' for {prop}") from exc
    if prop == "hs_object_id":
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise HubSpotError(400, f"Invalid id value '{raw}'") from exc
    return str(raw)


def contact_json(row: dict[str, Any], props: list[str], drift: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for p in props:
        if p == "hs_object_id":
            properties[p] = str(row["id"])
        elif p in PROPERTIES:
            value = row[p]
            properties[p] = hs_time(value) if isinstance(value, datetime) else value
    if drift:
        properties[DRIFT_PROPERTY] = "persona_1"
    body = {
        "id": str(row["id"]),
        "properties": properties,
        "createdAt": hs_time(row["createdate"]),
        "updatedAt": hs_time(row["lastmodifieddate"]),
        "archived": bool(row["archived"]),
    }
    if row["archived"]:
        body["archivedAt"] = hs_time(row["lastmodifieddate"])
    return body


def _props(raw: str | list[str] | None) -> list[str]:
    if not raw:
        return list(DEFAULT_PROPERTIES)
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = [p.strip() for p in items if p and p.strip()]
    for p in ("hs_object_id", "createdate", "lastmodifieddate"):
        if p not in wanted:
            wanted.append(p)  # HubSpot always returns these
    return wanted


_SELECT = "SELECT id, " + ", ".join(PROPERTIES) + ", archived FROM hs_contact"


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["hubspot"])

    def rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with state.db() as cur:
            cur.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def call(request: Request, handler, search: bool = False) -> Response:  # type: ignore[no-untyped-def]
        from nurture.sandbox.app import bearer

        if not state.token_ok(bearer(request)):
            return HubSpotError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            ).response()
        # Search has its own limit and sends no rate-limit headers, as HubSpot does.
        allowed, remaining, window = state.limiter.hit("hubspot_search" if search else "hubspot")
        if not allowed:
            return rate_limited("hubspot", "SECONDLY")
        daily_limit = state.quotas.hubspot_daily
        within_day, daily_left = state.spend_daily("hubspot", daily_limit)
        if not within_day:
            return rate_limited("hubspot", "DAILY", retry_after=3600)
        try:
            status, body = handler()
        except HubSpotError as exc:
            response: Response = exc.response()
        else:
            response = (
                JSONResponse(body, status_code=status)
                if body is not None
                else Response(status_code=status)
            )
        if not search:
            response.headers["X-HubSpot-RateLimit-Max"] = str(window.limit)
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(
                int(window.seconds * 1000)
            )
            response.headers["X-HubSpot-RateLimit-Daily"] = str(daily_limit)
            response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_left)
        return response

    def by_ids(
        values: list[Any], id_property: str | None, archived: bool = False
    ) -> dict[str, dict[str, Any]]:
        if not values:
            return {}
        if id_property in (None, "", "hs_object_id"):
            keys = []
            for v in values:
                try:
                    keys.append(int(v))
                except (TypeError, ValueError):
                    continue
            if not keys:
                return {}
            found = rows(
                f"{_SELECT} WHERE id IN ({', '.join('?' * len(keys))}) AND archived = ?",
                [*keys, archived],
            )
            return {str(r["id"]): r for r in found}
        if id_property != "email":
            raise HubSpotError(400, f"Property '{id_property}' is not a unique identifier")
        keys = [str(v).strip().lower() for v in values]
        found = rows(
            f"{_SELECT} WHERE lower(trim(email)) IN ({', '.join('?' * len(keys))}) "
            "AND archived = ? ORDER BY id",
            [*keys, archived],
        )
        out: dict[str, dict[str, Any]] = {}
        for r in found:
            out.setdefault(str(r["email"]).strip().lower(), r)
        return out

    @api.get("/crm/v3/objects/contacts")
    def list_contacts(
        request: Request,
        limit: int = 10,
        after: str | None = None,
        properties: str | None = None,
        archived: bool = False,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            if not 1 <= limit <= LIST_LIMIT:
                raise HubSpotError(400, f"limit must be between 1 and {LIST_LIMIT}")
            try:
                start = int(after) if after else 0
            except ValueError as exc:
                raise HubSpotError(400, f"Invalid after value '{after}'") from exc
            size = limit
            key = f"hs-list:{after}:{limit}:{archived}"
            if state.faults.page_fault("truncate", key):
                size = max(1, size // 3)
            page = rows(
                f"{_SELECT} WHERE id >= ? AND archived = ? ORDER BY id LIMIT ?",
                [start, archived, size + 1],
            )
            more = len(page) > size
            page = page[:size]
            props = _props(properties)
            results = [contact_json(r, props, state.faults.drifted(("hs", r["id"]))) for r in page]
            body: dict[str, Any] = {"results": results}
            if more:
                nxt = page[-1]["id"] + 1
                if len(page) > 1 and state.faults.page_fault("shift", key):
                    nxt = page[-1]["id"]  # the last record comes again on the next page
                link = str(request.url.include_query_params(after=str(nxt)))
                body["paging"] = {"next": {"after": str(nxt), "link": link}}
            if len(results) > 1 and state.faults.page_fault("duplicate", key):
                results.insert(1, results[0])
            return 200, body

        return call(request, handler)

    @api.get("/crm/v3/objects/contacts/{contact_id}")
    def get_contact(
        request: Request,
        contact_id: str,
        properties: str | None = None,
        idProperty: str | None = None,
        archived: bool = False,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            found = by_ids([contact_id], idProperty, archived)
            row = next(iter(found.values()), None)
            if row is None:
                raise HubSpotError(
                    404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND"
                )
            return 200, contact_json(row, _props(properties), False)

        return call(request, handler)

    @api.patch("/crm/v3/objects/contacts/{contact_id}")
    async def update_contact(
        request: Request, contact_id: str, idProperty: str | None = None
    ) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            found = by_ids([contact_id], idProperty)
            row = next(iter(found.values()), None)
            if row is None:
                raise HubSpotError(
                    404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND"
                )
            updated = write([(row["id"], _input_props(body))])[0]
            return 200, contact_json(updated, _props(None) + list(_input_props(body)), False)

        return call(request, handler)

    @api.post("/crm/v3/objects/contacts")
    async def create_contact(request: Request) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            props = _input_props(body)
            return 201, contact_json(create([props])[0], _props(None) + list(props), False)

        return call(request, handler)

    @api.post("/crm/v3/objects/contacts/search")
    async def search(request: Request) -> Response:
        body = await _json(request)
        return call(request, lambda: (200, run_search(body)), search=True)

    @api.post("/crm/v3/objects/contacts/batch/read")
    async def batch_read(request: Request, archived: bool = False) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = _inputs(body)
            found = by_ids([i.get("id") for i in inputs], body.get("idProperty"), archived)
            props = _props(body.get("properties"))
            results = []
            for i in inputs:
                key = str(i.get("id"))
                key = key.strip().lower() if body.get("idProperty") == "email" else key
                if key in found:
                    results.append(contact_json(found[key], props, False))
            return 200, _batch(results)

        return call(request, handler)

    @api.post("/crm/v3/objects/contacts/batch/update")
    async def batch_update(request: Request) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = _inputs(body)
            found = by_ids([i.get("id") for i in inputs], body.get("idProperty"))
            missing = [str(i.get("id")) for i in inputs if str(i.get("id")) not in found]
            if missing:
                raise HubSpotError(
                    404,
                    f"Could not get some CONTACT objects, they may be "
                    f"deleted or not exist. Check that ids are valid. "
                    f"{', '.join(missing)}",
                    "OBJECT_NOT_FOUND",
                )
            changes = [(found[str(i["id"])]["id"], _input_props(i)) for i in inputs]
            updated = write(changes)
            return 200, _batch([contact_json(r, _props(None), False) for r in updated])

        return call(request, handler)

    @api.post("/crm/v3/objects/contacts/batch/create")
    async def batch_create(request: Request) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            created = create([_input_props(i) for i in _inputs(body)])
            return 201, _batch([contact_json(r, _props(None), False) for r in created])

        return call(request, handler)

    @api.post("/crm/v3/objects/contacts/batch/upsert")
    async def batch_upsert(request: Request) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = _inputs(body)
            id_property = {i.get("idProperty") for i in inputs}
            if len(id_property) != 1 or None in id_property:
                raise HubSpotError(400, "Every input needs the same idProperty")
            prop = id_property.pop()
            with state.write_lock:
                found = by_ids([i.get("id") for i in inputs], prop)
                results = []
                for i in inputs:
                    key = str(i.get("id")).strip().lower() if prop == "email" else str(i.get("id"))
                    props = _input_props(i)
                    if key in found:
                        row = write([(found[key]["id"], props)])[0]
                        results.append({**contact_json(row, _props(None), False), "new": False})
                    else:
                        if prop == "email":
                            props.setdefault("email", str(i.get("id")))
                        row = create([props])[0]
                        found[key] = row
                        results.append({**contact_json(row, _props(None), False), "new": True})
            return 200, _batch(results)

        return call(request, handler)

    @api.get("/crm/v3/owners")
    @api.get("/crm/v3/owners/")
    def owners(request: Request, limit: int = 100, after: str | None = None) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            found = rows(
                'SELECT id, email, "firstName", "lastName", "userId", "createdAt", '
                '"updatedAt", archived FROM hs_owner WHERE id > ? ORDER BY id LIMIT ?',
                [after or "", limit],
            )
            return 200, {
                "results": [
                    {
                        **r,
                        "createdAt": hs_time(r["createdAt"]),
                        "updatedAt": hs_time(r["updatedAt"]),
                    }
                    for r in found
                ]
            }

        return call(request, handler)

    def now() -> datetime:
        """Writes are stamped with world time: today plus the time of day on the server."""
        wall = datetime.now()
        base = clock.to_datetime(state.today_ts()).replace(tzinfo=None)
        return base.replace(
            hour=wall.hour,
            minute=wall.minute,
            second=wall.second,
            microsecond=wall.microsecond // 1000 * 1000,
        )

    def write(changes: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        with state.write_lock, state.db() as cur:
            for contact_id, props in changes:
                sets = ", ".join(f"{p} = ?" for p in props)
                params = [*props.values(), now(), contact_id]
                cur.execute(
                    f"UPDATE hs_contact SET {sets}{', ' if sets else ''}"
                    "lastmodifieddate = ? WHERE id = ?",
                    params,
                )
        ids = [c for c, _ in changes]
        return rows(f"{_SELECT} WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids)

    def create(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with state.write_lock, state.db() as cur:
            emails = [str(p["email"]).strip().lower() for p in items if p.get("email")]
            if emails:
                dup = cur.execute(
                    f"SELECT id FROM hs_contact WHERE NOT archived AND lower(trim(email)) IN "
                    f"({', '.join('?' * len(emails))}) LIMIT 1",
                    emails,
                ).fetchone()
                if dup:
                    raise HubSpotError(
                        409, f"Contact already exists. Existing ID: {dup[0]}", "CONFLICT"
                    )
            next_id = cur.execute("SELECT coalesce(max(id), 1000) + 1 FROM hs_contact").fetchone()[
                0
            ]
            ids = []
            for props in items:
                stamp = now()
                cols = ["id", *props, "createdate", "lastmodifieddate", "archived"]
                cur.execute(
                    f"INSERT INTO hs_contact ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [next_id, *props.values(), stamp, stamp, False],
                )
                ids.append(next_id)
                next_id += 1
        return rows(f"{_SELECT} WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids)

    def run_search(body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= SEARCH_LIMIT:
            raise HubSpotError(400, f"limit must be between 1 and {SEARCH_LIMIT}")
        try:
            after = int(body.get("after") or 0)
        except ValueError as exc:
            raise HubSpotError(400, "after must be a number for search") from exc
        if after + limit > SEARCH_CAP:
            raise HubSpotError(
                400,
                f"Cannot page past {SEARCH_CAP} results. Narrow the search with filters "
                "on lastmodifieddate or hs_object_id ranges.",
            )
        where, params = _filters(body.get("filterGroups") or [])
        if body.get("query"):
            where.append("(email ILIKE ? OR firstname ILIKE ? OR lastname ILIKE ?)")
            params += [f"%{body['query']}%"] * 3
        where.append("NOT archived")
        clause = " WHERE " + " AND ".join(where)
        order = _sorts(body.get("sorts") or [])
        with state.db() as cur:
            total = cur.execute(f"SELECT count(*) FROM hs_contact{clause}", params).fetchone()[0]
        page = rows(f"{_SELECT}{clause} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, after])
        props = _props(body.get("properties"))
        out: dict[str, Any] = {
            "total": int(total),
            "results": [
                contact_json(r, props, state.faults.drifted(("hs", r["id"]))) for r in page
            ],
        }
        if after + len(page) < min(total, SEARCH_CAP) and page:
            out["paging"] = {"next": {"after": str(after + len(page))}}
        return out

    return api


def _filters(groups: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    if len(groups) > 5:
        raise HubSpotError(400, "Too many filter groups (max 5)")
    total = sum(len(g.get("filters") or []) for g in groups)
    if total > 25 or any(len(g.get("filters") or []) > 10 for g in groups):
        raise HubSpotError(400, "Too many filters (max 10 per group, 25 in all)")
    ors: list[str] = []
    params: list[Any] = []
    for group in groups:
        ands: list[str] = []
        for flt in group.get("filters") or []:
            prop = str(flt.get("propertyName", ""))
            col = _column(prop)
            op = str(flt.get("operator", "EQ")).upper()
            if op in _OPERATORS:
                ands.append(f"{col} {_OPERATORS[op]} ?")
                params.append(_value(prop, flt.get("value")))
            elif op == "BETWEEN":
                ands.append(f"{col} BETWEEN ? AND ?")
                params += [_value(prop, flt.get("value")), _value(prop, flt.get("highValue"))]
            elif op in ("IN", "NOT_IN"):
                values = [_value(prop, v) for v in flt.get("values") or []]
                if not values:
                    raise HubSpotError(400, f"{op} needs values")
                neg = "NOT " if op == "NOT_IN" else ""
                ands.append(f"{col} {neg}IN ({', '.join('?' * len(values))})")
                params += values
            elif op == "HAS_PROPERTY":
                ands.append(f"{col} IS NOT NULL")
            elif op == "NOT_HAS_PROPERTY":
                ands.append(f"{col} IS NULL")
            elif op == "CONTAINS_TOKEN":
                ands.append(f"{col} ILIKE ?")
                params.append("%" + str(flt.get("value", "")).strip("*") + "%")
            else:
                raise HubSpotError(400, f"Unsupported operator '{op}'")
        if ands:
            ors.append("(" + " AND ".join(ands) + ")")
    return (["(" + " OR ".join(ors) + ")"] if ors else []), params


def _sorts(sorts: list[Any]) -> str:
    parts = []
    for s in sorts[:1]:  # HubSpot honours one sort
        if isinstance(s, str):
            prop, desc = s.lstrip("-"), s.startswith("-")
        else:
            prop = str(s.get("propertyName", ""))
            desc = str(s.get("direction", "ASCENDING")).upper() == "DESCENDING"
        parts.append(f"{_column(prop)} {'DESC' if desc else 'ASC'}")
    parts.append("id ASC")
    return ", ".join(parts)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise HubSpotError(400, "inputs must be a non-empty list")
    if len(inputs) > BATCH_LIMIT:
        raise HubSpotError(400, f"Batch size {len(inputs)} exceeds the limit of {BATCH_LIMIT}")
    return [i if isinstance(i, dict) else {"id": i} for i in inputs]


def _input_props(item: dict[str, Any]) -> dict[str, Any]:
    props = item.get("properties") or {}
    if not isinstance(props, dict):
        raise HubSpotError(400, "properties must be an object")
    unknown = [p for p in props if p not in WRITABLE]
    if unknown:
        raise HubSpotError(
            400,
            f'Property values were not valid: [{{"name":"{unknown[0]}",'
            f'"error":"PROPERTY_DOESNT_EXIST"}}]',
        )
    return {k: (None if v is None else str(v)) for k, v in props.items()}


def _batch(results: list[dict[str, Any]]) -> dict[str, Any]:
    stamp = hs_time(datetime.now())
    return {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}
