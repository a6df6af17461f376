"""Marketo bulk extract jobs: create, enqueue, poll, file.

A job moves one step per status poll (Queued, Processing, Completed) so clients must poll
as they do against Marketo. The file is written by DuckDB straight to disk, never held in
memory, and carries a SHA-256 checksum.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from nurture.sandbox import clock
from nurture.sandbox.marketo import (
    LEAD_FIELDS,
    MAX_QUEUED,
    MAX_TYPE_IDS,
    MarketoError,
    window_check,
)
from nurture.sandbox.world import ACTIVITY_ATTRIBUTES

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

MAX_PROCESSING = 2
ACTIVITY_EXPORT_FIELDS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
)


def _now() -> str:
    # Job bookkeeping uses the server's clock; the world itself has no wall clock.
    return clock.iso_z(datetime.now())


class MarketoExports:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.lock = threading.Lock()
        self.dir = Path(state.work_dir) / f"bulk-{uuid.uuid4().hex[:8]}"

    def _jobs(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.state.jobs.setdefault(f"marketo:{kind}", {})

    def _job(self, kind: str, export_id: str) -> dict[str, Any]:
        job = self._jobs(kind).get(export_id)
        if job is None:
            raise MarketoError("1003", f"Export id '{export_id}' not found")
        return job

    def create(self, kind: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise MarketoError("609", "Invalid JSON")
        fmt = str(body.get("format", "CSV")).upper()
        if fmt not in ("CSV", "TSV"):
            raise MarketoError("1003", f"Invalid format '{fmt}'")
        flt = body.get("filter") or {}
        if not isinstance(flt, dict):
            raise MarketoError("1003", "filter must be an object")
        if kind == "leads":
            fields = body.get("fields") or []
            if not fields or not isinstance(fields, list):
                raise MarketoError("1003", "fields cannot be blank")
            unknown = [f for f in fields if f not in LEAD_FIELDS]
            if unknown:
                raise MarketoError("1006", f"Field '{unknown[0]}' not found")
            name, start, end = window_check(flt, ("createdAt", "updatedAt"))
            type_ids: list[int] = []
        else:
            fields = list(body.get("fields") or ACTIVITY_EXPORT_FIELDS)
            unknown = [f for f in fields if f not in ACTIVITY_EXPORT_FIELDS]
            if unknown:
                raise MarketoError("1006", f"Field '{unknown[0]}' not found")
            name, start, end = window_check(flt, ("createdAt",))
            type_ids = [int(t) for t in flt.get("activityTypeIds") or []]
            if len(type_ids) > MAX_TYPE_IDS:
                raise MarketoError("1003", f"Too many activityTypeIds (max {MAX_TYPE_IDS})")
        export_id = str(uuid.uuid4())
        job = {
            "exportId": export_id,
            "format": fmt,
            "status": "Created",
            "createdAt": _now(),
            "_fields": fields,
            "_filter": (name, start, end),
            "_types": type_ids,
        }
        with self.lock:
            self._jobs(kind)[export_id] = job
        return self._public(job)

    def enqueue(self, kind: str, export_id: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(kind, export_id)
            if job["status"] != "Created":
                raise MarketoError("1029", f"Export job '{export_id}' already queued")
            used = self.state.daily.used("marketo_export_bytes", self.state.days_advanced())
            if self.state.limiter.enabled and used >= self.state.quotas.marketo_daily_export_bytes:
                raise MarketoError("1029", "Export daily quota exceeded")
            queued = sum(j["status"] == "Queued" for j in self._jobs(kind).values())
            if queued >= MAX_QUEUED:
                raise MarketoError("1029", "Too many jobs (10) in queue")
            job["status"] = "Queued"
            job["queuedAt"] = _now()
        return self._public(job)

    def status(self, kind: str, export_id: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(kind, export_id)
            if job["status"] == "Queued":
                busy = [j for j in self._jobs(kind).values() if j["status"] == "Processing"]
                if len(busy) < MAX_PROCESSING:
                    job["status"] = "Processing"
                    job["startedAt"] = _now()
                    return self._public(job)
                # Marketo works through its jobs whether anyone polls them or not (a client
                # killed mid-export leaves its job running): the oldest one ahead finishes,
                # and the next poll of this job finds its slot free.
                runs = self._claim(min(busy, key=lambda j: j["startedAt"]))
            else:
                runs = self._claim(job) if job["status"] == "Processing" else None
        if runs is not None:
            self._run(kind, runs)
        return self._public(job)

    @staticmethod
    def _claim(job: dict[str, Any]) -> dict[str, Any] | None:
        """The job, to be run by this request, unless another request runs it already."""
        if job.get("_running"):
            return None
        job["_running"] = True
        return job

    def cancel(self, kind: str, export_id: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(kind, export_id)
            if job["status"] in ("Created", "Queued", "Processing"):
                job["status"] = "Cancelled"
        return self._public(job)

    def file(self, kind: str, export_id: str) -> Path:
        job = self._job(kind, export_id)
        if job["status"] != "Completed":
            raise MarketoError("1003", f"Export '{export_id}' is not completed")
        return Path(job["_path"])

    def list(self, kind: str) -> list[dict[str, Any]]:
        return [self._public(j) for j in self._jobs(kind).values()]

    def _run(self, kind: str, job: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{job['exportId']}.csv"
        name, start, end = job["_filter"]
        delim = "," if job["format"] == "CSV" else "\t"
        if kind == "leads":
            cols = ", ".join(_lead_col(f) for f in job["_fields"])
            sql = (
                f'SELECT {cols} FROM mkto_lead WHERE "{name}" >= $start '
                f'AND "{name}" <= $end ORDER BY id'
            )
            params: dict[str, Any] = {"start": start, "end": end}
        else:
            cols = ", ".join(_activity_col(f) for f in job["_fields"])
            sql = (
                f"SELECT {cols} FROM activities "
                "WHERE activity_date >= $start AND activity_date <= $end"
            )
            params = {"start": start, "end": end}
            if job["_types"]:
                sql += f" AND activity_type_id IN ({', '.join(str(t) for t in job['_types'])})"
            sql += " ORDER BY id"
        target = str(path).replace("'", "''")
        try:
            with self.state.db() as cur:
                cur.execute(f"COPY ({sql}) TO '{target}' (HEADER, DELIMITER '{delim}')", params)
                count = cur.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
        except duckdb.Error as exc:
            with self.lock:
                job.update(status="Failed", errorMsg=str(exc).splitlines()[0])
            return
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        with self.lock:
            if job["status"] == "Processing":
                # The quota is spent by what is extracted, known once the file exists.
                self.state.daily.add(
                    "marketo_export_bytes", self.state.days_advanced(), path.stat().st_size
                )
                job.update(
                    status="Completed",
                    finishedAt=_now(),
                    numberOfRecords=int(count),
                    fileSize=path.stat().st_size,
                    fileChecksum=f"sha256:{digest.hexdigest()}",
                    _path=str(path),
                )

    @staticmethod
    def _public(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if not k.startswith("_")}


def _lead_col(field: str) -> str:
    if field in ("createdAt", "updatedAt"):
        return f'strftime("{field}", \'%Y-%m-%dT%H:%M:%SZ\') AS "{field}"'
    return f'"{field}"'


def _activity_col(field: str) -> str:
    if field == "attributes":
        pairs = ", ".join(
            f"{{'k': '{name}', 'v': CAST({col} AS VARCHAR)}}"
            for col, name in ACTIVITY_ATTRIBUTES.items()
        )
        kept = f"list_filter([{pairs}], lambda x: x.v IS NOT NULL)"
        return f"to_json(map_from_entries({kept})) AS attributes"
    mapping = {
        "marketoGUID": "marketo_guid",
        "leadId": "lead_id",
        "activityDate": "strftime(activity_date, '%Y-%m-%dT%H:%M:%SZ')",
        "activityTypeId": "activity_type_id",
        "campaignId": "campaign_id",
        "primaryAttributeValueId": "primary_attribute_value_id",
        "primaryAttributeValue": "primary_attribute_value",
    }
    return f'{mapping[field]} AS "{field}"'
