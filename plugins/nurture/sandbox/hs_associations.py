"""HubSpot associations between contacts and companies: the v3 ``associations`` block of an
object read and the v4 association reads (batch, with 207 errors for ids that have none).

A primary association carries two types, the labeled one (contact to company: 1
"Primary") and the unlabeled default (279); any other association only the unlabeled one.
Archived objects have none (the ``hs_contact_company_live`` view).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from nurture.sandbox.hs_common import (
    HubSpotError,
    batch_body,
    batch_inputs,
    query,
    read_json,
    respond,
)
from nurture.sandbox.hs_objects import COMPANIES, CONTACTS, ObjectSpec, spec_of

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

V4_BATCH_LIMIT = 1000
V4_PAGE_LIMIT = 500
CATEGORY = "HUBSPOT_DEFINED"


@dataclass(frozen=True)
class Pair:
    """One direction of an association between two object types."""

    source: ObjectSpec
    target: ObjectSpec
    source_column: str
    target_column: str
    primary_type: int
    primary_label: str
    unlabeled_type: int

    @property
    def v3_name(self) -> str:
        return f"{self.source.singular}_to_{self.target.singular}"

    def types(self, primary: bool) -> list[dict[str, Any]]:
        """v4 association types of one link."""
        unlabeled = {"category": CATEGORY, "typeId": self.unlabeled_type, "label": None}
        if not primary:
            return [unlabeled]
        return [
            unlabeled,
            {"category": CATEGORY, "typeId": self.primary_type, "label": self.primary_label},
        ]

    def v3_results(self, target_id: int, primary: bool) -> list[dict[str, str]]:
        names = [f"{self.v3_name}_unlabeled"] + ([self.v3_name] if primary else [])
        return [{"id": str(target_id), "type": name} for name in names]


PAIRS = {
    ("contacts", "companies"): Pair(
        CONTACTS, COMPANIES, "contact_id", "company_id", 1, "Primary", 279
    ),
    ("companies", "contacts"): Pair(
        COMPANIES, CONTACTS, "company_id", "contact_id", 2, "Contact with Primary Company", 280
    ),
}


def pair_of(source: ObjectSpec, target: ObjectSpec) -> Pair:
    pair = PAIRS.get((source.name, target.name))
    if pair is None:
        raise HubSpotError(400, f"No association between {source.name} and {target.name}")
    return pair


def links(state: SandboxState, pair: Pair, ids: list[int]) -> dict[int, list[tuple[int, bool]]]:
    """Source id -> [(target id, primary)], in target id order, for the ids that have any."""
    if not ids:
        return {}
    rows = query(
        state,
        f"SELECT {pair.source_column} AS src, {pair.target_column} AS dst, is_primary "
        f"FROM hs_contact_company_live WHERE {pair.source_column} IN "
        f"({', '.join('?' * len(ids))}) ORDER BY src, dst",
        ids,
    )
    found: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for r in rows:
        found[r["src"]].append((r["dst"], bool(r["is_primary"])))
    return dict(found)


def v3_blocks(
    state: SandboxState, source: ObjectSpec, wanted: str | None, ids: list[int]
) -> dict[int, dict[str, Any]]:
    """The ``associations`` block of each object read with ``?associations=a,b``. HubSpot
    leaves the block out when there are none; types the sandbox does not hold are ignored."""
    blocks: dict[int, dict[str, Any]] = defaultdict(dict)
    for name in (wanted or "").split(","):
        target = _known(name.strip())
        pair = PAIRS.get((source.name, target.name)) if target else None
        if pair is None:
            continue
        for src, targets in links(state, pair, ids).items():
            results = [r for dst, primary in targets for r in pair.v3_results(dst, primary)]
            blocks[src][target.name] = {"results": results}
    return dict(blocks)


def _known(name: str) -> ObjectSpec | None:
    try:
        return spec_of(name) if name else None
    except HubSpotError:
        return None


def _no_associations(pair: Pair, source_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {pair.target.singular} is associated with {pair.source.singular} "
        f"{source_id}.",
        "context": {
            "fromObjectId": [source_id],
            "fromObjectType": [pair.source.singular],
            "toObjectType": [pair.target.singular],
        },
        "links": {},
        "errors": [],
    }


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["hubspot"])

    @api.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    async def batch_read(request: Request, from_type: str, to_type: str) -> Response:
        body = await read_json(request)

        def handler() -> tuple[int, dict[str, Any]]:
            pair = pair_of(spec_of(from_type), spec_of(to_type))
            wanted = [str(i.get("id")) for i in batch_inputs(body, V4_BATCH_LIMIT)]
            found = links(state, pair, _ids(wanted))
            results, errors = [], []
            for source_id in dict.fromkeys(wanted):
                targets = found.get(int(source_id)) if source_id.isdigit() else None
                if not targets:
                    errors.append(_no_associations(pair, source_id))
                    continue
                to = [
                    {"toObjectId": dst, "associationTypes": pair.types(primary)}
                    for dst, primary in targets
                ]
                results.append({"from": {"id": source_id}, "to": to})
            return (207 if errors else 200), batch_body(results, errors)

        return respond(state, request, handler)

    @api.get("/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}")
    def object_associations(
        request: Request,
        object_type: str,
        object_id: str,
        to_type: str,
        limit: int = V4_PAGE_LIMIT,
        after: str | None = None,
    ) -> Response:
        def handler() -> tuple[int, dict[str, Any]]:
            pair = pair_of(spec_of(object_type), spec_of(to_type))
            if not 1 <= limit <= V4_PAGE_LIMIT:
                raise HubSpotError(400, f"limit must be between 1 and {V4_PAGE_LIMIT}")
            start = int(after) if after and after.isdigit() else 0
            ids = _ids([object_id])
            targets = links(state, pair, ids).get(ids[0], []) if ids else []
            page = targets[start : start + limit]
            body: dict[str, Any] = {
                "results": [
                    {"toObjectId": dst, "associationTypes": pair.types(primary)}
                    for dst, primary in page
                ]
            }
            if start + limit < len(targets):
                nxt = str(start + limit)
                link = str(request.url.include_query_params(after=nxt))
                body["paging"] = {"next": {"after": nxt, "link": link}}
            return 200, body

        return respond(state, request, handler)

    return api
