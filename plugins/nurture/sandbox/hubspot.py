"""HubSpot CRM emulator: contacts and companies (list with ``after`` paging and archived,
search with the 10,000-result cap and 200 per page, single and batch read/create/update/
upsert), owners, and associations (``hs_associations``); rate-limit headers as HubSpot's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from nurture.sandbox import clock, hs_associations
from nurture.sandbox.hs_common import (
    HubSpotError,
    batch_body,
    batch_inputs,
    hs_time,
    not_found,
    query,
    read_json,
    respond,
)
from nurture.sandbox.hs_objects import SPECS, ObjectSpec, search_order, search_where

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
OWNER_LIMIT = 500
_OWNER_SELECT = (
    'SELECT id, email, "firstName", "lastName", "userId", "createdAt", "updatedAt", archived '
    "FROM hs_owner"
)


class ObjectStore:
    """Reads and writes of one object type in the world file."""

    def __init__(self, state: SandboxState, spec: ObjectSpec) -> None:
        self.state = state
        self.spec = spec

    def rows(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        return query(self.state, f"{self.spec.select} {where}", params)

    def json(
        self, rows: list[dict[str, Any]], props: list[str], drift: bool = False
    ) -> list[dict[str, Any]]:
        faults = self.state.faults
        return [
            self.spec.as_json(r, props, drift and faults.drifted((self.spec.name, r["id"])))
            for r in rows
        ]

    def by_ids(
        self, values: list[Any], id_property: str | None, archived: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Rows by object id or by the unique property, keyed as the inputs name them."""
        if not values:
            return {}
        if id_property in (None, "", "hs_object_id"):
            keys = [int(v) for v in values if str(v).strip().isdigit()]
            if not keys:
                return {}
            found = self.rows(
                f"WHERE id IN ({', '.join('?' * len(keys))}) AND archived = ?", [*keys, archived]
            )
            return {str(r["id"]): r for r in found}
        if id_property != self.spec.unique:
            raise HubSpotError(400, f"Property '{id_property}' is not a unique identifier")
        keys = [str(v).strip().lower() for v in values]
        found = self.rows(
            f"WHERE lower(trim({id_property})) IN ({', '.join('?' * len(keys))}) "
            "AND archived = ? ORDER BY id",
            [*keys, archived],
        )
        out: dict[str, dict[str, Any]] = {}
        for r in found:
            out.setdefault(str(r[id_property]).strip().lower(), r)
        return out

    def input_key(self, value: Any, id_property: str | None) -> str:
        text = str(value)
        return text.strip().lower() if id_property and id_property == self.spec.unique else text

    def list_page(
        self, request: Request, limit: int, after: str | None, archived: bool, props: list[str]
    ) -> dict[str, Any]:
        """One page in id order; the messy fault profiles truncate, shift and duplicate."""
        if not 1 <= limit <= LIST_LIMIT:
            raise HubSpotError(400, f"limit must be between 1 and {LIST_LIMIT}")
        try:
            start = int(after) if after else 0
        except ValueError as exc:
            raise HubSpotError(400, f"Invalid after value '{after}'") from exc
        faults = self.state.faults
        key = f"hs-list:{self.spec.name}:{after}:{limit}:{archived}"
        size = max(1, limit // 3) if faults.page_fault("truncate", key) else limit
        page = self.rows(
            "WHERE id >= ? AND archived = ? ORDER BY id LIMIT ?", [start, archived, size + 1]
        )
        more = len(page) > size
        page = page[:size]
        results = self.json(page, props, drift=True)
        body: dict[str, Any] = {"results": results}
        if more:
            nxt = page[-1]["id"] + 1
            if len(page) > 1 and faults.page_fault("shift", key):
                nxt = page[-1]["id"]  # the last record comes again on the next page
            link = str(request.url.include_query_params(after=str(nxt)))
            body["paging"] = {"next": {"after": str(nxt), "link": link}}
        if len(results) > 1 and faults.page_fault("duplicate", key):
            results.insert(1, results[0])
        return body

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
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
                f"on {self.spec.modified} or hs_object_id ranges.",
            )
        where, params = search_where(self.spec, body)
        order = search_order(self.spec, body.get("sorts") or [])
        with self.state.db() as cur:
            total = cur.execute(f"SELECT count(*) FROM {self.spec.table}{where}", params)
            total = int(total.fetchone()[0])
        page = self.rows(f"{where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, after])
        out: dict[str, Any] = {
            "total": total,
            "results": self.json(page, self.spec.wanted(body.get("properties")), drift=True),
        }
        if after + len(page) < min(total, SEARCH_CAP) and page:
            out["paging"] = {"next": {"after": str(after + len(page))}}
        return out

    def now(self) -> datetime:
        """Writes are stamped with world time: today plus the time of day on the server."""
        wall = datetime.now()
        base = clock.to_datetime(self.state.today_ts()).replace(tzinfo=None)
        return base.replace(
            hour=wall.hour,
            minute=wall.minute,
            second=wall.second,
            microsecond=wall.microsecond // 1000 * 1000,
        )

    def write(self, changes: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        spec = self.spec
        with self.state.write_lock, self.state.db() as cur:
            for object_id, props in changes:
                sets = "".join(f"{p} = ?, " for p in props)
                cur.execute(
                    f"UPDATE {spec.table} SET {sets}{spec.modified} = ? WHERE id = ?",
                    [*props.values(), self.now(), object_id],
                )
        ids = [c for c, _ in changes]
        return self.rows(f"WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids)

    def create(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        spec = self.spec
        with self.state.write_lock, self.state.db() as cur:
            self._refuse_duplicates(cur, items)
            next_id = cur.execute(f"SELECT coalesce(max(id), 1000) + 1 FROM {spec.table}")
            next_id = next_id.fetchone()[0]
            ids = []
            for props in items:
                stamp = self.now()
                cols = ["id", *props, "createdate", spec.modified, "archived"]
                cur.execute(
                    f"INSERT INTO {spec.table} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [next_id, *props.values(), stamp, stamp, False],
                )
                ids.append(next_id)
                next_id += 1
        return self.rows(f"WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids)

    def _refuse_duplicates(self, cur: Any, items: list[dict[str, Any]]) -> None:
        unique = self.spec.unique
        values = [str(p[unique]).strip().lower() for p in items if unique and p.get(unique)]
        if not values:
            return
        dup = cur.execute(
            f"SELECT id FROM {self.spec.table} WHERE NOT archived AND lower(trim({unique})) IN "
            f"({', '.join('?' * len(values))}) LIMIT 1",
            values,
        ).fetchone()
        if dup:
            raise HubSpotError(
                409,
                f"{self.spec.singular.title()} already exists. Existing ID: {dup[0]}",
                "CONFLICT",
            )


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["hubspot"])
    for spec in SPECS:
        _object_routes(api, state, ObjectStore(state, spec))
    _owner_routes(api, state)
    api.include_router(hs_associations.router(state))
    return api


def _object_routes(api: APIRouter, state: SandboxState, store: ObjectStore) -> None:
    spec = store.spec
    base = f"/crm/v3/objects/{spec.name}"

    def with_associations(bodies: list[dict[str, Any]], associations: str | None) -> None:
        if not associations:
            return
        ids = [int(body["id"]) for body in bodies]
        blocks = hs_associations.v3_blocks(state, spec, associations, ids)
        for body in bodies:
            if int(body["id"]) in blocks:
                body["associations"] = blocks[int(body["id"])]

    @api.get(base)
    def list_objects(
        request: Request,
        limit: int = 10,
        after: str | None = None,
        properties: str | None = None,
        associations: str | None = None,
        archived: bool = False,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            body = store.list_page(request, limit, after, archived, spec.wanted(properties))
            with_associations(body["results"], associations)
            return 200, body

        return respond(state, request, handler)

    @api.get(base + "/{object_id}")
    def get_object(
        request: Request,
        object_id: str,
        properties: str | None = None,
        associations: str | None = None,
        idProperty: str | None = None,
        archived: bool = False,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            row = next(iter(store.by_ids([object_id], idProperty, archived).values()), None)
            if row is None:
                raise not_found()
            body = spec.as_json(row, spec.wanted(properties), False)
            with_associations([body], associations)
            return 200, body

        return respond(state, request, handler)

    @api.patch(base + "/{object_id}")
    async def update_object(
        request: Request, object_id: str, idProperty: str | None = None
    ) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            row = next(iter(store.by_ids([object_id], idProperty).values()), None)
            if row is None:
                raise not_found()
            props = spec.input_props(body)
            updated = store.write([(row["id"], props)])[0]
            return 200, spec.as_json(updated, spec.wanted(None) + list(props), False)

        return respond(state, request, handler)

    @api.post(base)
    async def create_object(request: Request) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            props = spec.input_props(body)
            return 201, spec.as_json(
                store.create([props])[0], spec.wanted(None) + list(props), False
            )

        return respond(state, request, handler)

    @api.post(base + "/search")
    async def search(request: Request) -> Response:
        body = await read_json(request)
        return respond(state, request, lambda: (200, store.search(body)), search=True)

    @api.post(base + "/batch/read")
    async def batch_read(request: Request, archived: bool = False) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = batch_inputs(body)
            id_property = body.get("idProperty")
            found = store.by_ids([i.get("id") for i in inputs], id_property, archived)
            keys = [store.input_key(i.get("id"), id_property) for i in inputs]
            rows = [found[k] for k in keys if k in found]
            return 200, batch_body(store.json(rows, spec.wanted(body.get("properties"))))

        return respond(state, request, handler)

    @api.post(base + "/batch/update")
    async def batch_update(request: Request) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = batch_inputs(body)
            found = store.by_ids([i.get("id") for i in inputs], body.get("idProperty"))
            missing = [str(i.get("id")) for i in inputs if str(i.get("id")) not in found]
            if missing:
                raise HubSpotError(
                    404,
                    f"Could not get some {spec.singular.upper()} objects, they may be "
                    f"deleted or not exist. Check that ids are valid. {', '.join(missing)}",
                    "OBJECT_NOT_FOUND",
                )
            changes = [(found[str(i["id"])]["id"], spec.input_props(i)) for i in inputs]
            return 200, batch_body(store.json(store.write(changes), spec.wanted(None)))

        return respond(state, request, handler)

    @api.post(base + "/batch/create")
    async def batch_create(request: Request) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            created = store.create([spec.input_props(i) for i in batch_inputs(body)])
            return 201, batch_body(store.json(created, spec.wanted(None)))

        return respond(state, request, handler)

    @api.post(base + "/batch/upsert")
    async def batch_upsert(request: Request) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            inputs = batch_inputs(body)
            id_property = {i.get("idProperty") for i in inputs}
            if len(id_property) != 1 or None in id_property:
                raise HubSpotError(400, "Every input needs the same idProperty")
            prop = id_property.pop()
            with state.write_lock:
                return 200, batch_body([_upsert_one(store, prop, i) for i in inputs])

        return respond(state, request, handler)


def _upsert_one(store: ObjectStore, prop: str, item: dict[str, Any]) -> dict[str, Any]:
    """Update the object the input names, or create it (with the unique property set)."""
    spec = store.spec
    props = spec.input_props(item)
    found = store.by_ids([item.get("id")], prop)
    existing = found.get(store.input_key(item.get("id"), prop))
    if existing is not None:
        row = store.write([(existing["id"], props)])[0]
    else:
        if prop == spec.unique:
            props.setdefault(prop, str(item.get("id")))
        row = store.create([props])[0]
    return {**spec.as_json(row, spec.wanted(None), False), "new": existing is None}


def _owner_routes(api: APIRouter, state: SandboxState) -> None:
    @api.get("/crm/v3/owners")
    @api.get("/crm/v3/owners/")
    def owners(
        request: Request,
        limit: int = 100,
        after: str | None = None,
        email: str | None = None,
        archived: bool = False,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            if not 1 <= limit <= OWNER_LIMIT:
                raise HubSpotError(400, f"limit must be between 1 and {OWNER_LIMIT}")
            where, params = "WHERE archived = ? AND id > ?", [archived, after or ""]
            if email:
                where, params = where + " AND lower(email) = ?", [*params, email.lower()]
            found = query(
                state, f"{_OWNER_SELECT} {where} ORDER BY id LIMIT ?", [*params, limit + 1]
            )
            body: dict[str, Any] = {"results": [_owner_json(r) for r in found[:limit]]}
            if len(found) > limit:
                nxt = found[limit - 1]["id"]
                link = str(request.url.include_query_params(after=nxt))
                body["paging"] = {"next": {"after": nxt, "link": link}}
            return 200, body

        return respond(state, request, handler)


def _owner_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "type": "PERSON",
        "userIdIncludingInactive": row["userId"],
        "createdAt": hs_time(row["createdAt"]),
        "updatedAt": hs_time(row["updatedAt"]),
    }
