"""Salesforce emulator: OAuth token, SOQL query/queryAll with nextRecordsUrl, sObject
describe/read/create/update/upsert by external id/delete and sObject Collections.
Any API version in the path is served.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from nurture.sandbox import clock, sf_bulk
from nurture.sandbox.sfids import sf_id
from nurture.sandbox.sfstore import (
    EXTERNAL_IDS,
    READ_ONLY,
    REQUIRED,
    SfError,
    SfStore,
    sf_type,
    sf_value,
)
from nurture.sandbox.soql import OBJECTS, Query, SoqlError, parse

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

BATCH = 2000
COLLECTION_LIMIT = 200
_VERSION = r"v\d+\.\d"
DRIFT_FIELD = "Nurture_Segment__c"


def record_json(
    sobject: str, version: str, row: dict[str, Any], fields: list[str], drift: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/{version}/sobjects/{sobject}/{row['Id']}",
        },
    }
    for f in fields:
        out[f] = sf_value(row[f])
    if drift:
        out[DRIFT_FIELD] = "B2B"
    return out


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["salesforce"])
    store = SfStore(state)
    columns, types = store.columns, store.types
    fetch, insert, update, upsert, now = (
        store.fetch,
        store.insert,
        store.update,
        store.upsert,
        store.now,
    )

    def guarded(request: Request, handler) -> Response:  # type: ignore[no-untyped-def]
        from nurture.sandbox.app import bearer

        if not state.token_ok(bearer(request)):
            return SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").response()
        try:
            status, body = handler()
        except SfError as exc:
            return exc.response()
        except SoqlError as exc:
            return SfError(400, exc.code, exc.message).response()
        if body is None:
            return Response(status_code=status)
        return JSONResponse(body, status_code=status)

    def check_version(version: str) -> None:
        if not re.fullmatch(_VERSION, version):
            raise SfError(404, "NOT_FOUND", "The requested resource does not exist")

    sobject_of = store.sobject_of

    @api.post("/services/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        grant = str(form.get("grant_type", ""))
        if grant not in ("client_credentials", "password", "refresh_token"):
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                status_code=400,
            )
        secret = str(form.get("client_secret", "")) or str(form.get("password", ""))
        if not form.get("client_id") or (
            state.token is not None
            and state.token
            not in (str(form.get("client_secret", "")), str(form.get("password", "")))
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status_code=400,
            )
        access = (
            state.token
            or "00D5g000000SANDBOX!"
            + hashlib.sha256(f"{form.get('client_id')}:{secret}".encode()).hexdigest()[:40]
        )
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "access_token": access,
                "instance_url": base,
                "id": f"{base}/id/00D5g000000SANDBOX/{sf_id('User', 1)}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "signature": hashlib.sha256(access.encode()).hexdigest()[:44],
            }
        )

    @api.get("/services/data")
    @api.get("/services/data/")
    def versions() -> list[dict[str, str]]:
        return [
            {"label": f"Release {v}", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(55, 63)
        ]

    @api.get("/services/data/{version}/query")
    @api.get("/services/data/{version}/query/")
    def query(request: Request, version: str, q: str = "") -> Response:
        return guarded(request, lambda: start_query(request, version, q, include_deleted=False))

    @api.get("/services/data/{version}/queryAll")
    @api.get("/services/data/{version}/queryAll/")
    def query_all(request: Request, version: str, q: str = "") -> Response:
        return guarded(request, lambda: start_query(request, version, q, include_deleted=True))

    @api.get("/services/data/{version}/query/{locator}")
    @api.get("/services/data/{version}/queryAll/{locator}")
    def more(request: Request, version: str, locator: str) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            check_version(version)
            key, _, offset = locator.rpartition("-")
            cursor = state.cursors.get(key)
            if cursor is None or not offset.isdigit():
                raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return 200, page(cursor, int(offset), version)

        return guarded(request, handler)

    def batch_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        m = re.search(r"batchSize=(\d+)", options)
        return max(200, min(int(m.group(1)), BATCH)) if m else BATCH

    def start_query(
        request: Request, version: str, q: str, include_deleted: bool
    ) -> tuple[int, dict[str, Any]]:
        check_version(version)
        if not q.strip():
            raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
        parsed = parse(q, columns, clock.today(state.days_advanced()))
        where = parsed.where
        if not include_deleted and "IsDeleted" in types[parsed.sobject]:
            where = f'({where}) AND NOT "IsDeleted"' if where else 'NOT "IsDeleted"'
        sql_where = f" WHERE {where}" if where else ""
        base = f"FROM {parsed.table}{sql_where}"
        with state.db() as cur:
            total = cur.execute(
                f"SELECT count(*) FROM (SELECT 1 {base} LIMIT ? OFFSET ?)",
                [
                    *parsed.params,
                    parsed.limit if parsed.limit is not None else 2**62,
                    parsed.offset,
                ],
            ).fetchone()[0]
        if parsed.count_only:
            return 200, {"totalSize": int(total), "done": True, "records": []}
        cursor = {
            "query": parsed,
            "base": base,
            "total": int(total),
            "size": batch_size(request),
            "endpoint": "queryAll" if include_deleted else "query",
        }
        key = "01g5g" + uuid.uuid4().hex[:10].upper()
        state.cursors[key] = cursor
        cursor["key"] = key
        return 200, page(cursor, 0, version)

    def page(cursor: dict[str, Any], offset: int, version: str) -> dict[str, Any]:
        parsed: Query = cursor["query"]
        total = cursor["total"]
        size = min(cursor["size"], max(total - offset, 0))
        key = f"sf:{cursor['key']}:{offset}"
        if size > 1 and state.faults.page_fault("truncate", key):
            size //= 3
        cols = ", ".join(f'"{c}"' for c in dict.fromkeys(["Id", *parsed.fields]))
        rows: list[dict[str, Any]] = []
        if size > 0:
            with state.db() as cur:
                cur.execute(
                    f"SELECT {cols} {cursor['base']} ORDER BY {parsed.order} LIMIT ? OFFSET ?",
                    [*parsed.params, size, parsed.offset + offset],
                )
                names = [d[0] for d in cur.description]
                rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        records = [
            record_json(
                parsed.sobject, version, r, parsed.fields, state.faults.drifted(("sf", r["Id"]))
            )
            for r in rows
        ]
        if len(records) > 1 and state.faults.page_fault("duplicate", key):
            records.insert(1, records[0])
        body: dict[str, Any] = {
            "totalSize": total,
            "done": offset + len(rows) >= total,
            "records": records,
        }
        if not body["done"]:
            nxt = offset + len(rows)
            if len(rows) > 1 and state.faults.page_fault("shift", key):
                nxt -= 1  # the last record comes again on the next page
            body["nextRecordsUrl"] = (
                f"/services/data/{version}/{cursor['endpoint']}/{cursor['key']}-{nxt}"
            )
        else:
            state.cursors.pop(cursor["key"], None)
        return body

    @api.get("/services/data/{version}/sobjects/{sobject}/describe")
    @api.get("/services/data/{version}/sobjects/{sobject}/describe/")
    def describe(request: Request, version: str, sobject: str) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            check_version(version)
            name = sobject_of(sobject)
            fields = []
            for col, typ in types[name].items():
                fields.append(
                    {
                        "name": col,
                        "label": col,
                        "type": sf_type(col, typ),
                        "nillable": col not in REQUIRED.get(name, ()) and col != "Id",
                        "updateable": col not in READ_ONLY,
                        "createable": col not in READ_ONLY,
                        "externalId": col in EXTERNAL_IDS.get(name, set()) - {"Id"},
                        "custom": col.endswith("__c"),
                    }
                )
            return 200, {
                "name": name,
                "label": name,
                "queryable": True,
                "fields": fields,
                "urls": {"sobject": f"/services/data/{version}/sobjects/{name}"},
            }

        return guarded(request, handler)

    @api.get("/services/data/{version}/sobjects/{sobject}/{record_id}")
    def get_record(request: Request, version: str, sobject: str, record_id: str) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            check_version(version)
            name = sobject_of(sobject)
            row = fetch(name, "Id", record_id)
            if row is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            return 200, record_json(name, version, row, list(types[name]))

        return guarded(request, handler)

    @api.post("/services/data/{version}/sobjects/{sobject}")
    @api.post("/services/data/{version}/sobjects/{sobject}/")
    async def create_record(request: Request, version: str, sobject: str) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            check_version(version)
            name = sobject_of(sobject)
            new_id = insert(name, body)
            return 201, {"id": new_id, "success": True, "errors": []}

        return guarded(request, handler)

    @api.patch("/services/data/{version}/sobjects/{sobject}/{record_id}")
    async def update_record(
        request: Request, version: str, sobject: str, record_id: str
    ) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, None]:
            check_version(version)
            name = sobject_of(sobject)
            if fetch(name, "Id", record_id) is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            update(name, record_id, body)
            return 204, None

        return guarded(request, handler)

    @api.delete("/services/data/{version}/sobjects/{sobject}/{record_id}")
    def delete_record(request: Request, version: str, sobject: str, record_id: str) -> Response:
        def handler() -> tuple[int, None]:
            check_version(version)
            name = sobject_of(sobject)
            if fetch(name, "Id", record_id) is None:
                raise SfError(404, "ENTITY_IS_DELETED", "entity is deleted")
            with state.write_lock, state.db() as cur:
                cur.execute(
                    f'UPDATE {OBJECTS[name]} SET "IsDeleted" = true, "SystemModstamp" = ? '
                    'WHERE "Id" = ?',
                    [now(), record_id],
                )
            return 204, None

        return guarded(request, handler)

    @api.patch("/services/data/{version}/sobjects/{sobject}/{ext_field}/{ext_value}")
    async def upsert_record(
        request: Request, version: str, sobject: str, ext_field: str, ext_value: str
    ) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            check_version(version)
            name = sobject_of(sobject)
            record_id, created = upsert(name, ext_field, ext_value, body)
            return (201 if created else 200), {
                "id": record_id,
                "success": True,
                "errors": [],
                "created": created,
            }

        return guarded(request, handler)

    @api.post("/services/data/{version}/composite/sobjects")
    async def collection_create(request: Request, version: str) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, list[dict[str, Any]]]:
            check_version(version)
            records = _collection(body)
            results = []
            for rec in records:
                try:
                    name = sobject_of(str((rec.get("attributes") or {}).get("type", "")))
                    fields = {k: v for k, v in rec.items() if k != "attributes"}
                    results.append({"id": insert(name, fields), "success": True, "errors": []})
                except SfError as exc:
                    results.append(
                        {
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": exc.body[0]["errorCode"],
                                    "message": exc.body[0]["message"],
                                    "fields": exc.body[0].get("fields", []),
                                }
                            ],
                        }
                    )
            return 200, results

        return guarded(request, handler)

    @api.patch("/services/data/{version}/composite/sobjects/{sobject}/{ext_field}")
    async def collection_upsert(
        request: Request, version: str, sobject: str, ext_field: str
    ) -> Response:
        body = await _json(request)

        def handler() -> tuple[int, list[dict[str, Any]]]:
            check_version(version)
            name = sobject_of(sobject)
            results = []
            for rec in _collection(body):
                fields = {k: v for k, v in rec.items() if k != "attributes"}
                value = fields.pop(ext_field, None)
                try:
                    if value in (None, ""):
                        raise SfError(400, "MISSING_ARGUMENT", f"{ext_field} not specified")
                    record_id, created = upsert(name, ext_field, str(value), fields)
                    results.append(
                        {"id": record_id, "success": True, "errors": [], "created": created}
                    )
                except SfError as exc:
                    results.append(
                        {
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": exc.body[0]["errorCode"],
                                    "message": exc.body[0]["message"],
                                    "fields": exc.body[0].get("fields", []),
                                }
                            ],
                        }
                    )
            return 200, results

        return guarded(request, handler)

    sf_bulk.add_routes(api, state, store, check_version)
    return api


def _collection(body: Any) -> list[dict[str, Any]]:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise SfError(400, "INVALID_FIELD", "records must be a non-empty list")
    if len(records) > COLLECTION_LIMIT:
        raise SfError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records "
            "into this call",
        )
    return [r for r in records if isinstance(r, dict)]


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
