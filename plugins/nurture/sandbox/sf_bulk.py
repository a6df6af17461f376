"""Salesforce Bulk API 2.0: query jobs (CSV results paged by locator) and ingest jobs
(insert/update/upsert/delete from an uploaded CSV).

A query job snapshots its result into a Parquet file when created, as Salesforce does
(later writes do not change a running job's result), so paging never repeats or skips
records. Job state moves on as the client polls, not by wall clock, so tests are
deterministic: a job reports ``InProgress`` on the first poll and ``JobComplete`` after.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from nurture.sandbox import clock
from nurture.sandbox.sfids import sf_id
from nurture.sandbox.sfstore import EXTERNAL_IDS, SfError, SfStore
from nurture.sandbox.soql import SoqlError, parse

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

DEFAULT_PAGE = 50_000
MAX_PAGE = 100_000
QUERY_OPERATIONS = ("query", "queryAll")
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^"}
DELIMITERS["BACKQUOTE"] = "`"
POLLS_TO_COMPLETE = 2  # InProgress on the first poll after the job starts, then done


@dataclass
class Job:
    id: str
    kind: str  # "query" or "ingest"
    operation: str
    sobject: str
    version: str
    created: datetime
    delimiter: str = "COMMA"
    line_ending: str = "LF"
    state: str = "UploadComplete"
    polls: int = 0
    records: int = 0
    failed: int = 0
    # query jobs
    result_file: Path | None = None
    columns: list[str] = field(default_factory=list)
    # ingest jobs
    external_id: str | None = None
    upload: bytes = b""
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        stamp = self.created.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": sf_id("User", 1),
            "createdDate": stamp,
            "systemModstamp": stamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version.lstrip("v")),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
        }
        if self.kind == "ingest":
            body["contentUrl"] = f"services/data/{self.version}/jobs/ingest/{self.id}/batches"
            if self.external_id:
                body["externalIdFieldName"] = self.external_id
        if self.state == "JobComplete":
            body["numberRecordsProcessed"] = self.records
            body["retries"] = 0
            body["totalProcessingTime"] = 100
            if self.kind == "ingest":
                body["numberRecordsFailed"] = self.failed
        return body

    def poll(self) -> None:
        """Move a started job on by one poll."""
        if self.state in ("UploadComplete", "InProgress"):
            self.polls += 1
            self.state = "JobComplete" if self.polls >= POLLS_TO_COMPLETE else "InProgress"


def csv_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""  # null, as Salesforce writes it (it has no NaN)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encode_locator(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not re.fullmatch(r"o\d+", text):
        raise SfError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    return int(text[1:])


def add_routes(
    api: APIRouter,
    state: SandboxState,
    store: SfStore,
    check_version: Callable[[str], None],
) -> None:
    """Add the ``/services/data/vXX.X/jobs/...`` routes to the Salesforce router."""
    from nurture.sandbox.app import bearer

    jobs: dict[str, Job] = {}
    seq = itertools.count(1)
    lock = threading.Lock()
    out_dir = state.world_path.parent / f"{state.world_path.stem}-sfbulk"

    def run(request: Request, handler: Callable[[], Response]) -> Response:
        if not state.token_ok(bearer(request)):
            return SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").response()
        try:
            return handler()
        except SfError as exc:
            return exc.response()
        except SoqlError as exc:
            return SfError(400, exc.code, exc.message).response()

    def new_job(kind: str, operation: str, sobject: str, version: str, body: dict) -> Job:
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        line_ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS or line_ending not in ("LF", "CRLF"):
            raise SfError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        with lock:
            job_id = sf_id("Job", next(seq))
        now = clock.to_datetime(state.today_ts()).replace(tzinfo=None)
        job = Job(job_id, kind, operation, sobject, version, now, delimiter, line_ending)
        jobs[job_id] = job
        return job

    def job_of(job_id: str, kind: str) -> Job:
        job = jobs.get(job_id)
        if job is None or job.kind != kind:
            raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    # ---- query jobs -------------------------------------------------------------------

    @api.post("/services/data/{version}/jobs/query")
    async def create_query(request: Request, version: str) -> Response:
        body = await _json(request)

        def handler() -> Response:
            check_version(version)
            operation = body.get("operation")
            if operation not in QUERY_OPERATIONS:
                raise SfError(400, "INVALIDJOB", f"Invalid operation: {operation}")
            soql = str(body.get("query") or "")
            if not soql.strip():
                raise SfError(400, "INVALIDJOB", "A query is required")
            parsed = parse(soql, store.columns, clock.today(state.days_advanced()))
            if parsed.count_only or parsed.offset:
                raise SfError(400, "INVALIDJOB", "COUNT() and OFFSET are not supported")
            job = new_job("query", operation, parsed.sobject, version, body)
            where = parsed.where
            if operation == "query" and "IsDeleted" in store.types[parsed.sobject]:
                where = f'({where}) AND NOT "IsDeleted"' if where else 'NOT "IsDeleted"'
            limit = f" LIMIT {int(parsed.limit)}" if parsed.limit is not None else ""
            cols = ", ".join(f'"{c}"' for c in parsed.fields)
            out_dir.mkdir(parents=True, exist_ok=True)
            job.result_file = out_dir / f"{job.id}.parquet"
            job.columns = parsed.fields
            select = (
                f"SELECT row_number() OVER (ORDER BY {parsed.order}) - 1 AS _n, {cols} "
                f"FROM {parsed.table}{' WHERE ' + where if where else ''} "
                f"ORDER BY {parsed.order}{limit}"
            )
            with state.db() as cur:
                cur.execute(
                    f"COPY ({select}) TO '{_sql_path(job.result_file)}' (FORMAT parquet)",
                    parsed.params,
                )
                job.records = int(
                    cur.execute(
                        f"SELECT count(*) FROM read_parquet('{_sql_path(job.result_file)}')"
                    ).fetchone()[0]
                )
            return JSONResponse(job.info())

        return run(request, handler)

    @api.get("/services/data/{version}/jobs/{kind}/{job_id}")
    def job_info(request: Request, version: str, kind: str, job_id: str) -> Response:
        """Status of a query or an ingest job (a job is found only under its own kind)."""

        def handler() -> Response:
            check_version(version)
            job = job_of(job_id, kind)
            job.poll()
            return JSONResponse(job.info())

        return run(request, handler)

    @api.get("/services/data/{version}/jobs/query/{job_id}/results")
    def query_results(
        request: Request,
        version: str,
        job_id: str,
        locator: str = "",
        maxRecords: int = DEFAULT_PAGE,  # the API names it so
    ) -> Response:
        def handler() -> Response:
            check_version(version)
            job = job_of(job_id, "query")
            if job.state != "JobComplete" or job.result_file is None:
                raise SfError(412, "INVALIDJOBSTATE", f"Job is not complete: {job.state}")
            if not 1 <= maxRecords <= MAX_PAGE:
                raise SfError(400, "INVALIDPARAMETER", f"maxRecords must be 1 to {MAX_PAGE}")
            start = decode_locator(locator) if locator and locator != "null" else 0
            with state.db() as cur:
                cur.execute(
                    f"SELECT * EXCLUDE (_n) FROM read_parquet('{_sql_path(job.result_file)}') "
                    "WHERE _n >= ? AND _n < ? ORDER BY _n",
                    [start, start + maxRecords],
                )
                rows = cur.fetchall()
            end = start + len(rows)
            text = _csv([job.columns, *([csv_value(v) for v in r] for r in rows)], job)
            return Response(
                text,
                media_type="text/csv",
                headers={
                    "Sforce-NumberOfRecords": str(len(rows)),
                    "Sforce-Locator": encode_locator(end) if end < job.records else "null",
                },
            )

        return run(request, handler)

    # ---- ingest jobs ------------------------------------------------------------------

    @api.post("/services/data/{version}/jobs/ingest")
    async def create_ingest(request: Request, version: str) -> Response:
        body = await _json(request)

        def handler() -> Response:
            check_version(version)
            operation = body.get("operation")
            if operation not in INGEST_OPERATIONS:
                raise SfError(400, "INVALIDJOB", f"Invalid operation: {operation}")
            sobject = store.sobject_of(str(body.get("object") or ""))
            external = body.get("externalIdFieldName")
            if operation == "upsert":
                canon = store.columns[sobject].get(str(external or "").lower())
                if canon is None or canon not in EXTERNAL_IDS.get(sobject, {"Id"}):
                    raise SfError(
                        400, "INVALIDJOB", f"InvalidJob : Field name not found : {external}"
                    )
                external = canon
            job = new_job("ingest", operation, sobject, version, body)
            job.state = "Open"
            job.external_id = external if operation == "upsert" else None
            return JSONResponse(job.info())

        return run(request, handler)

    @api.put("/services/data/{version}/jobs/ingest/{job_id}/batches")
    async def upload(request: Request, version: str, job_id: str) -> Response:
        data = await request.body()

        def handler() -> Response:
            check_version(version)
            job = job_of(job_id, "ingest")
            if job.state != "Open":
                raise SfError(409, "INVALIDJOBSTATE", f"Job is not open: {job.state}")
            if job.upload:
                raise SfError(409, "INVALIDJOBSTATE", "Only one upload is allowed per job")
            if not data.strip():
                raise SfError(400, "INVALIDBATCH", "The upload is empty")
            job.upload = data
            return Response(status_code=201)

        return run(request, handler)

    @api.patch("/services/data/{version}/jobs/ingest/{job_id}")
    @api.patch("/services/data/{version}/jobs/query/{job_id}")
    async def set_state(request: Request, version: str, job_id: str) -> Response:
        body = await _json(request)
        kind = "query" if "/jobs/query/" in request.url.path else "ingest"

        def handler() -> Response:
            check_version(version)
            job = job_of(job_id, kind)
            wanted = body.get("state")
            if wanted == "Aborted" and job.state not in ("JobComplete", "Failed", "Aborted"):
                job.state = "Aborted"
                if kind == "ingest":
                    job.header, job.unprocessed = _rows(job)
            elif wanted == "UploadComplete" and kind == "ingest" and job.state == "Open":
                if not job.upload:
                    raise SfError(400, "INVALIDJOBSTATE", "No data was uploaded")
                process(job)
                job.state = "UploadComplete"
            else:
                raise SfError(400, "INVALIDJOBSTATE", f"Cannot go from {job.state} to {wanted}")
            return JSONResponse(job.info())

        return run(request, handler)

    @api.get("/services/data/{version}/jobs/ingest/{job_id}/{kind}")
    def ingest_results(request: Request, version: str, job_id: str, kind: str) -> Response:
        def handler() -> Response:
            check_version(version)
            job = job_of(job_id, "ingest")
            which = kind.lower()
            if which == "successfulresults":
                rows = [["sf__Id", "sf__Created", *job.header], *job.successes]
            elif which == "failedresults":
                rows = [["sf__Id", "sf__Error", *job.header], *job.failures]
            elif which == "unprocessedrecords":
                rows = [job.header, *job.unprocessed]
            else:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            return Response(_csv(rows, job, quote=True), media_type="text/csv")

        return run(request, handler)

    @api.delete("/services/data/{version}/jobs/ingest/{job_id}")
    @api.delete("/services/data/{version}/jobs/query/{job_id}")
    def delete_job(request: Request, version: str, job_id: str) -> Response:
        def handler() -> Response:
            check_version(version)
            job = jobs.pop(job_id, None)
            if job is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            if job.result_file is not None:
                job.result_file.unlink(missing_ok=True)
            return Response(status_code=204)

        return run(request, handler)

    def process(job: Job) -> None:
        """Apply every uploaded row now; the client sees the outcome once it polls."""
        header, rows = _rows(job)
        job.header = header
        for values in rows:
            record = dict(zip(header, values, strict=False))
            # An empty cell leaves the field as it is; #N/A sets it to null (Bulk API rule).
            fields: dict[str, Any] = {
                k: (None if v == "#N/A" else v) for k, v in record.items() if v != ""
            }
            try:
                record_id, created = apply(job, fields)
                job.successes.append([record_id, "true" if created else "false", *values])
            except SfError as exc:
                error = exc.body[0]
                fields_part = ",".join(error.get("fields", []))
                message = f"{error['errorCode']}:{error['message']}:{fields_part} --"
                job.failures.append(["", message, *values])
                job.failed += 1
            job.records += 1

    def apply(job: Job, fields: dict[str, Any]) -> tuple[str, bool]:
        name = job.sobject
        if job.operation == "insert":
            return store.insert(name, fields), True
        if job.operation == "upsert":
            ext = str(job.external_id)
            key = next((k for k in fields if k.lower() == ext.lower()), None)
            if key is None or fields[key] in (None, ""):
                raise SfError(400, "MISSING_ARGUMENT", f"{ext} not specified", [ext])
            value = str(fields.pop(key))
            return store.upsert(name, ext, value, fields)
        key = next((k for k in fields if k.lower() == "id"), None)
        if key is None:
            raise SfError(400, "MISSING_ARGUMENT", "Id not specified", ["Id"])
        record_id = str(fields.pop(key))
        if job.operation == "delete":
            store.delete(name, record_id)
        else:
            if store.fetch(name, "Id", record_id) is None:
                raise SfError(404, "ENTITY_IS_DELETED", "entity is deleted")
            store.update(name, record_id, fields)
        return record_id, False


def _rows(job: Job) -> tuple[list[str], list[list[str]]]:
    text = job.upload.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
    rows = [r for r in reader if r]
    if not rows:
        return [], []
    return rows[0], rows[1:]


def _csv(rows: list[list[str]] | Any, job: Job, quote: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=DELIMITERS[job.delimiter],
        lineterminator="\r\n" if job.line_ending == "CRLF" else "\n",
        quoting=csv.QUOTE_ALL if quote else csv.QUOTE_MINIMAL,
    )
    writer.writerows(rows)
    return out.getvalue()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
