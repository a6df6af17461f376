"""The HubSpot CRM objects the emulator serves, one spec each (table, properties, defaults,
modified-date property), and what turns a row into HubSpot's JSON or a search into SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurture.sandbox import clock
from nurture.sandbox.hs_common import HubSpotError, hs_time

_OPERATORS = {"EQ": "=", "NEQ": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


@dataclass(frozen=True)
class ObjectSpec:
    name: str  # as in the URL: contacts
    singular: str  # as in error messages: contact
    type_id: str  # HubSpot's object type id: 0-1
    table: str
    properties: tuple[str, ...]  # served and searchable (hs_object_id is the id)
    defaults: tuple[str, ...]  # returned when a request names no properties
    modified: str  # the last-modified property: contacts and companies differ
    unique: str | None  # a unique property usable as idProperty, besides hs_object_id
    text_search: tuple[str, ...]  # what a search `query` matches
    drift: tuple[str, str]  # the property (and value) that appears under schema drift
    numeric: tuple[str, ...] = ()

    @property
    def writable(self) -> tuple[str, ...]:
        """Every served property but the timestamps HubSpot stamps itself."""
        return tuple(p for p in self.properties if p not in ("createdate", self.modified))

    @property
    def always(self) -> tuple[str, ...]:
        """Returned whatever the request asks for, as HubSpot does."""
        return ("hs_object_id", "createdate", self.modified)

    @property
    def select(self) -> str:
        return f"SELECT id, {', '.join(self.properties)}, archived FROM {self.table}"

    def column(self, prop: str) -> str:
        if prop == "hs_object_id":
            return "id"
        if prop not in self.properties:
            raise HubSpotError(400, f"Unable to search on unknown property '{prop}'")
        return prop

    def value(self, prop: str, raw: Any) -> Any:
        """A filter value as the column's type: dates come as epoch millis or ISO strings."""
        if prop in ("createdate", self.modified):
            text = str(raw)
            if text.isdigit():
                return clock.to_datetime(int(text) // 1000).replace(tzinfo=None)
            try:
                return clock.parse_iso(text)
            except ValueError as exc:
                raise HubSpotError(400, f"Invalid date value '{raw}' for {prop}") from exc
        if prop == "hs_object_id" or prop in self.numeric:
            try:
                return int(raw)
            except (TypeError, ValueError) as exc:
                raise HubSpotError(400, f"Invalid number '{raw}' for {prop}") from exc
        return str(raw)

    def wanted(self, raw: str | list[str] | None) -> list[str]:
        """The properties a request asks for (comma list or JSON list), plus those always sent."""
        if not raw:
            return list(self.defaults)
        items = raw.split(",") if isinstance(raw, str) else list(raw)
        wanted = [p.strip() for p in items if p and p.strip()]
        return wanted + [p for p in self.always if p not in wanted]

    def as_json(self, row: dict[str, Any], props: list[str], drift: bool) -> dict[str, Any]:
        """A row as HubSpot sends an object; every property value is a string, as there."""
        properties: dict[str, Any] = {}
        for p in props:
            if p == "hs_object_id":
                properties[p] = str(row["id"])
            elif p in self.properties:
                properties[p] = _text(row[p])
        if drift:
            properties[self.drift[0]] = self.drift[1]
        body = {
            "id": str(row["id"]),
            "properties": properties,
            "createdAt": hs_time(row["createdate"]),
            "updatedAt": hs_time(row[self.modified]),
            "archived": bool(row["archived"]),
        }
        if row["archived"]:
            body["archivedAt"] = hs_time(row[self.modified])
        return body

    def input_props(self, item: dict[str, Any]) -> dict[str, Any]:
        """Writable properties of a create/update input, checked as HubSpot checks them."""
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            raise HubSpotError(400, "properties must be an object")
        unknown = [p for p in props if p not in self.writable]
        if unknown:
            raise HubSpotError(
                400,
                f'Property values were not valid: [{{"name":"{unknown[0]}",'
                f'"error":"PROPERTY_DOESNT_EXIST"}}]',
            )
        for p in self.numeric:
            if props.get(p) not in (None, "") and not str(props[p]).lstrip("-").isdigit():
                raise HubSpotError(
                    400,
                    f'Property values were not valid: [{{"name":"{p}","error":"INVALID_INTEGER"}}]',
                )
        return {k: (None if v in (None, "") else str(v)) for k, v in props.items()}


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return hs_time(value)
    return None if value is None else str(value)


CONTACTS = ObjectSpec(
    name="contacts",
    singular="contact",
    type_id="0-1",
    table="hs_contact",
    properties=(
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
    ),
    defaults=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    modified="lastmodifieddate",
    unique="email",
    text_search=("email", "firstname", "lastname"),
    drift=("hs_persona", "persona_1"),
)
COMPANIES = ObjectSpec(
    name="companies",
    singular="company",
    type_id="0-2",
    table="hs_company",
    properties=(
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "city",
        "country",
        "lifecyclestage",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
    ),
    defaults=("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    modified="hs_lastmodifieddate",
    unique=None,  # HubSpot does not hold company domains unique
    text_search=("name", "domain"),
    drift=("hs_ideal_customer_profile", "tier_1"),
    numeric=("numberofemployees",),
)
SPECS = (CONTACTS, COMPANIES)
# Every way a URL may name an object type: plural, singular, or HubSpot's type id.
BY_NAME = {key: s for s in SPECS for key in (s.name, s.singular, s.type_id)}


def spec_of(name: str) -> ObjectSpec:
    try:
        return BY_NAME[name.lower()]
    except KeyError:
        raise HubSpotError(400, f"Unable to infer object type from: {name}") from None


def search_where(spec: ObjectSpec, body: dict[str, Any]) -> tuple[str, list[Any]]:
    """The WHERE clause of a search body; archived objects are never found."""
    where, params = _filters(spec, body.get("filterGroups") or [])
    if body.get("query"):
        where.append("(" + " OR ".join(f"{c} ILIKE ?" for c in spec.text_search) + ")")
        params += [f"%{body['query']}%"] * len(spec.text_search)
    where.append("NOT archived")
    return " WHERE " + " AND ".join(where), params


def _filters(spec: ObjectSpec, groups: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    if len(groups) > 5:
        raise HubSpotError(400, "Too many filter groups (max 5)")
    total = sum(len(g.get("filters") or []) for g in groups)
    if total > 25 or any(len(g.get("filters") or []) > 10 for g in groups):
        raise HubSpotError(400, "Too many filters (max 10 per group, 25 in all)")
    ors: list[str] = []
    params: list[Any] = []
    for group in groups:
        ands = [_filter(spec, flt, params) for flt in group.get("filters") or []]
        if ands:
            ors.append("(" + " AND ".join(ands) + ")")
    return (["(" + " OR ".join(ors) + ")"] if ors else []), params


def _filter(spec: ObjectSpec, flt: dict[str, Any], params: list[Any]) -> str:
    """One filter as SQL; its values are appended to ``params``."""
    prop = str(flt.get("propertyName", ""))
    col = spec.column(prop)
    op = str(flt.get("operator", "EQ")).upper()
    if op in _OPERATORS:
        params.append(spec.value(prop, flt.get("value")))
        return f"{col} {_OPERATORS[op]} ?"
    if op == "BETWEEN":
        params += [spec.value(prop, flt.get("value")), spec.value(prop, flt.get("highValue"))]
        return f"{col} BETWEEN ? AND ?"
    if op in ("IN", "NOT_IN"):
        values = [spec.value(prop, v) for v in flt.get("values") or []]
        if not values:
            raise HubSpotError(400, f"{op} needs values")
        params += values
        return f"{col} {'NOT ' if op == 'NOT_IN' else ''}IN ({', '.join('?' * len(values))})"
    if op == "HAS_PROPERTY":
        return f"{col} IS NOT NULL"
    if op == "NOT_HAS_PROPERTY":
        return f"{col} IS NULL"
    if op == "CONTAINS_TOKEN":
        params.append("%" + str(flt.get("value", "")).strip("*") + "%")
        return f"{col} ILIKE ?"
    raise HubSpotError(400, f"Unsupported operator '{op}'")


def search_order(spec: ObjectSpec, sorts: list[Any]) -> str:
    parts = []
    for s in sorts[:1]:  # HubSpot honours one sort
        if isinstance(s, str):
            prop, desc = s.lstrip("-"), s.startswith("-")
        else:
            prop = str(s.get("propertyName", ""))
            desc = str(s.get("direction", "ASCENDING")).upper() == "DESCENDING"
        parts.append(f"{spec.column(prop)} {'DESC' if desc else 'ASC'}")
    parts.append("id ASC")
    return ", ".join(parts)
