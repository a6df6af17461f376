"""Salesforce records: the reads and writes the REST, Collections and Bulk 2.0 emulators
share (field checks, type coercion, id allocation, upsert by external id)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from nurture.sandbox import clock, leadhistory
from nurture.sandbox.sfids import sf_id, sf_seq
from nurture.sandbox.soql import OBJECTS, READ_ONLY_OBJECTS

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

READ_ONLY = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "SystemModstamp",
    "IsConverted",
    "ConvertedDate",
    "ConvertedAccountId",
    "ConvertedContactId",
    "ConvertedOpportunityId",
    "IsClosed",
    "IsWon",
}
EXTERNAL_IDS = {"Lead": {"Id", "Nurture_Lead_Id__c"}}
REQUIRED = {
    "Lead": ("LastName", "Company"),
    "Contact": ("LastName",),
    "Account": ("Name",),
    "Opportunity": ("Name", "StageName", "CloseDate"),
}


class SfError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.body: list[dict[str, Any]] = [{"message": message, "errorCode": code}]
        if fields is not None:
            self.body[0]["fields"] = fields

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status)


def sf_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None  # Salesforce has no NaN; an unset number field is null
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, date):
        return value.isoformat()
    return value


class SfStore:
    """Field metadata of every served sObject and the write operations on them."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.columns: dict[str, dict[str, str]] = {}  # sobject -> {lower name: name}
        self.types: dict[str, dict[str, str]] = {}  # sobject -> {name: DuckDB type}
        with state.db() as cur:
            for sobject, table in OBJECTS.items():
                desc = cur.execute(f"DESCRIBE {table}").fetchall()
                cols = {r[0]: r[1] for r in desc if r[0] != "person_id"}
                self.columns[sobject] = {c.lower(): c for c in cols}
                self.types[sobject] = cols

    def sobject_of(self, name: str) -> str:
        match = next((o for o in OBJECTS if o.lower() == name.lower()), None)
        if match is None:
            raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
        return match

    def now(self) -> datetime:
        wall = datetime.now()
        base = clock.to_datetime(self.state.today_ts()).replace(tzinfo=None)
        return base.replace(hour=wall.hour, minute=wall.minute, second=wall.second)

    def fetch(self, name: str, field: str, value: str) -> dict[str, Any] | None:
        cols = ", ".join(f'"{c}"' for c in self.types[name])
        deleted = ' AND NOT "IsDeleted"' if "IsDeleted" in self.types[name] else ""
        with self.state.db() as cur:
            cur.execute(
                f'SELECT {cols} FROM {OBJECTS[name]} WHERE "{field}" = ?{deleted} '
                'ORDER BY "Id" LIMIT 1',
                [value],
            )
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        return dict(zip(names, row, strict=True)) if row else None

    def check_writable(self, name: str) -> None:
        if name in READ_ONLY_OBJECTS:
            raise SfError(
                400,
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                f"{name} records are read-only in the sandbox",
            )

    def coerce(self, name: str, fields: dict[str, Any], creating: bool) -> dict[str, Any]:
        self.check_writable(name)
        out = {}
        canon = self.columns[name]
        for key, value in fields.items():
            col = canon.get(key.lower())
            if col is None:
                raise SfError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {name}"
                )
            if col in READ_ONLY:
                raise SfError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {col}. Please check the "
                    "security settings of this field.",
                    [col],
                )
            out[col] = coerce_value(self.types[name][col], value, col)
        if creating:
            missing = [f for f in REQUIRED.get(name, ()) if out.get(f) in (None, "")]
            if missing:
                raise SfError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
        return out

    def insert(self, name: str, fields: dict[str, Any]) -> str:
        values = self.coerce(name, fields, creating=True)
        table = OBJECTS[name]
        with self.state.write_lock, self.state.db() as cur:
            last = cur.execute(f'SELECT max("Id") FROM {table}').fetchone()[0]
            new_id = sf_id(name, (sf_seq(last) if last else 0) + 1)
            stamp = self.now()
            values.update({"Id": new_id, "CreatedDate": stamp, "SystemModstamp": stamp})
            if "IsDeleted" in self.types[name]:
                values["IsDeleted"] = False
            if name == "Lead":
                values["IsConverted"] = False
                values.setdefault("Status", "Open - Not Contacted")
            cols = ", ".join(f'"{c}"' for c in values)
            cur.execute(
                f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()),
            )
            if name == "Lead":
                _history(cur, [(new_id, "created", None, None, stamp)])
        return new_id

    def update(self, name: str, record_id: str, fields: dict[str, Any]) -> None:
        values = self.coerce(name, fields, creating=False)
        values["SystemModstamp"] = self.now()
        sets = ", ".join(f'"{c}" = ?' for c in values)
        tracked = [f for f in leadhistory.TRACKED if f in values] if name == "Lead" else []
        with self.state.write_lock, self.state.db() as cur:
            before: dict[str, Any] = {}
            if tracked:
                cols = ", ".join(f'"{f}"' for f in tracked)
                found = cur.execute(
                    f'SELECT {cols} FROM sf_lead WHERE "Id" = ?', [record_id]
                ).fetchone()
                before = dict(zip(tracked, found or (), strict=False))
            cur.execute(
                f'UPDATE {OBJECTS[name]} SET {sets} WHERE "Id" = ?', [*values.values(), record_id]
            )
            _history(
                cur,
                [
                    (record_id, f, before.get(f), values[f], values["SystemModstamp"])
                    for f in tracked
                    if before.get(f) != values[f]
                ],
            )

    def upsert(
        self, name: str, ext_field: str, ext_value: str, fields: dict[str, Any]
    ) -> tuple[str, bool]:
        canon = self.columns[name].get(ext_field.lower())
        if canon is None or canon not in EXTERNAL_IDS.get(name, {"Id"}):
            raise SfError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {ext_field}",
            )
        with self.state.write_lock:
            row = self.fetch(name, canon, ext_value)
            if row is not None:
                self.update(name, row["Id"], fields)
                return row["Id"], False
            if canon == "Id":
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            return self.insert(name, {**fields, canon: ext_value}), True

    def delete(self, name: str, record_id: str) -> None:
        """Soft delete, as Salesforce does: the record moves to the recycle bin and
        ``queryAll`` still returns it with ``IsDeleted = true``."""
        self.check_writable(name)
        with self.state.write_lock:
            if self.fetch(name, "Id", record_id) is None:
                raise SfError(404, "ENTITY_IS_DELETED", "entity is deleted")
            with self.state.db() as cur:
                cur.execute(
                    f'UPDATE {OBJECTS[name]} SET "IsDeleted" = true, "SystemModstamp" = ? '
                    'WHERE "Id" = ?',
                    [self.now(), record_id],
                )


def _history(cur: Any, rows: list[tuple[str, str, Any, Any, datetime]]) -> None:
    """LeadHistory rows for a REST write (field history tracking on Status and the
    hand-off's Nurture_Lead_Id__c)."""
    for lead_id, field, old, new, at in rows:
        last = cur.execute('SELECT max("Id") FROM sf_lead_history').fetchone()[0]
        cur.execute(
            "INSERT INTO sf_lead_history VALUES (?, ?, ?, ?, ?, ?, false)",
            [
                sf_id("LeadHistory", (sf_seq(last) if last else 0) + 1),
                lead_id,
                field,
                None if old is None else str(old),
                None if new is None else str(new),
                at,
            ],
        )


def sf_type(col: str, duck_type: str) -> str:
    if col == "Id" or col.endswith("Id"):
        return "id" if col == "Id" else "reference"
    return {
        "BOOLEAN": "boolean",
        "TIMESTAMP": "datetime",
        "DATE": "date",
        "DOUBLE": "double",
        "BIGINT": "int",
        "INTEGER": "int",
    }.get(duck_type, "string")


def coerce_value(duck_type: str, value: Any, col: str) -> Any:
    if value is None:
        return None
    try:
        if duck_type == "TIMESTAMP":
            return clock.parse_iso(str(value).replace("+0000", "+00:00"))
        if duck_type == "DATE":
            return date.fromisoformat(str(value)[:10])
        if duck_type == "BOOLEAN":
            if isinstance(value, bool):
                return value
            return str(value).lower() == "true"
        if duck_type in ("DOUBLE", "BIGINT", "INTEGER"):
            number = float(value)
            return number if duck_type == "DOUBLE" else int(number)
    except (TypeError, ValueError) as exc:
        raise SfError(
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{col}: value not of required type: {value}",
            [col],
        ) from exc
    return str(value)
