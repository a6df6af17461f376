"""Import the drop folder: each ready file's rows into `raw_files.<kind>`, the rest to quarantine.

A file is identified by its content (sha256): its rows merge on (file_sha256, row_number)
and `raw_files.imported_files` remembers it, so the same file dropped again, under any
name, changes nothing. Files are read as streams and handed to dlt a page at a time,
so memory does not grow with file size. Read files move to `processed/<date>/` only
after their rows and the run log are in the warehouse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa

from nurture.config import Settings
from nurture.connectors.records import Quarantine
from nurture.files.columns import COLUMNS, LAYOUTS, ROW_KEY
from nurture.files.dropbox import (
    Candidate,
    move_processed,
    resolve_drop_folder,
    scan_drop_folder,
    sha256_of,
)
from nurture.files.reading import HeaderNotFound, Unreadable, find_header, open_records
from nurture.files.results import SOURCE, FileResult, ImportSummary
from nurture.files.rows import DroppedFile, typed_rows
from nurture.files.sources import IMPORTED_FILES_TABLE, Sources, load_sources
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.load.locks import pipeline_lock
from nurture.load.ops_tables import write_ops
from nurture.load.parking import load_pending
from nurture.warehouse import Warehouse, get_warehouse

log = logging.getLogger(__name__)

DATASET = "raw_files"
ROWS_PER_PAGE = 5000
_ARROW_TYPES = {
    "text": pa.string(),
    "email": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),  # as written in the file: no time zone
    "outcome": pa.string(),
    "number": pa.float64(),
}


def row_schema(layout: str) -> pa.Schema:
    """The Arrow schema of raw_files.<kind> for a layout (columns.LAYOUTS)."""
    return pa.schema(
        [
            pa.field("file_sha256", pa.string(), nullable=False),
            pa.field("row_number", pa.int64(), nullable=False),
            *(pa.field(name, _ARROW_TYPES[COLUMNS[name]]) for name in LAYOUTS[layout]),
            pa.field("extra", pa.string()),  # JSON text: the unmapped headers and their values
        ]
    )


ROW_SCHEMA = row_schema("contacts")
IMPORTED_FILES_COLUMNS: dict[str, Any] = {
    "sha256": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text"},
    "kind": {"data_type": "text"},
    "encoding": {"data_type": "text"},
    "rows": {"data_type": "bigint"},
    "quarantined": {"data_type": "bigint"},
    "header_row": {"data_type": "bigint"},
    "skipped_lines": {"data_type": "bigint"},
    "imported_at": {"data_type": "timestamp"},
    "run_id": {"data_type": "text"},
}


class _ArrowPages:
    """A file's rows as Arrow tables of `ROWS_PER_PAGE`, typed by `ROW_SCHEMA` rather than
    guessed page by page, and counted as dlt reads them."""

    def __init__(self, rows: Iterator[dict[str, Any]], schema: pa.Schema = ROW_SCHEMA) -> None:
        self.rows = rows
        self.schema = schema
        self.count = 0

    def __iter__(self) -> Iterator[pa.Table]:
        while page := list(islice(self.rows, ROWS_PER_PAGE)):
            self.count += len(page)
            for row in page:
                if row["extra"] is not None:
                    row["extra"] = json.dumps(row["extra"], ensure_ascii=False)
            yield pa.Table.from_pylist(page, schema=self.schema)


def _file_head(path: Path) -> dict[str, Any]:
    """What quarantine keeps of a file that cannot be read: its size and first bytes."""
    with path.open("rb") as handle:
        head = handle.read(256)
    return {"size_bytes": path.stat().st_size, "head": head.decode("utf-8", "backslashreplace")}


class _FileLoad:
    """One run's pipeline: stages each file's rows, then loads them and the file records."""

    def __init__(self, warehouse: Warehouse, pipelines_dir: str, sources: Sources) -> None:
        self.sources = sources
        self.quarantine = Quarantine(SOURCE)
        self.pipeline = dlt.pipeline(
            pipeline_name="nurture_files",
            destination=warehouse.dlt_destination(),
            dataset_name=DATASET,
            pipelines_dir=pipelines_dir,
        )

    def _stage(self, resource: Any) -> None:
        # Normalise each extract at once: packages then never wait on a schema changed since.
        self.pipeline.extract(resource, loader_file_format=LOAD_FILE_FORMAT)
        self.pipeline.normalize()

    def _reject(
        self, source: DroppedFile, payload: Any, reason: str, encoding: str | None
    ) -> FileResult:
        self.quarantine.reject(source.kind, payload, source.name, reason)
        return FileResult(
            source.name,
            source.kind,
            source.sha256,
            "rejected",
            encoding,
            quarantined=1,
            reason=reason,
        )

    def stage_file(self, path: Path, source: DroppedFile) -> FileResult:
        kind = self.sources.kinds[source.kind]
        with ExitStack() as opened:
            try:
                encoding, records = opened.enter_context(
                    open_records(path, self.sources.encodings, kind.sheet)
                )
            except Unreadable as exc:
                return self._reject(source, _file_head(path), str(exc), None)
            lookup = self.sources.lookup(source.kind)
            try:
                header = find_header(
                    records,
                    lookup,
                    self.sources.header_search_rows,
                    kind.header_min_matches,
                    kind.header_row,
                    kind.key,
                )
            except HeaderNotFound as exc:
                return self._reject(source, {"rows": exc.rows}, str(exc), encoding)
            before = self.quarantine.count(source.kind)
            rows = typed_rows(records, header, source, self.quarantine, kind)
            pages = _ArrowPages(rows, row_schema(kind.layout))
            resource = dlt.resource(
                iter(pages),
                name=source.kind,
                primary_key=ROW_KEY,
                write_disposition="merge",
                # a time as written in the file: no time zone is made up for it
                columns={
                    name: {"data_type": "timestamp", "timezone": False}
                    for name in kind.columns
                    if COLUMNS[name] == "timestamp"
                },
            )
            # as_arrow for the raw tables' load-id convention; the pages are Arrow already.
            self._stage(as_arrow(resource))
        quarantined = self.quarantine.count(source.kind) - before
        return FileResult(
            source.name,
            source.kind,
            source.sha256,
            "imported",
            encoding,
            rows=pages.count,
            quarantined=quarantined,
            header_row=header.row_number,
            skipped=header.skipped,
        )

    def load(self, results: list[FileResult], run_id: str, imported_at: datetime) -> None:
        """Record the files read, then load everything staged."""
        if results:
            self._stage(
                dlt.resource(
                    [r.as_row(run_id, imported_at) for r in results],
                    name=IMPORTED_FILES_TABLE,
                    primary_key="sha256",
                    write_disposition="merge",
                    columns=IMPORTED_FILES_COLUMNS,
                )
            )
        if self.pipeline.has_pending_data:
            self.pipeline.load()


def imported_hashes(warehouse: Warehouse, hashes: set[str]) -> set[str]:
    """Which of `hashes` are files imported before."""
    table = f"{DATASET}.{IMPORTED_FILES_TABLE}"
    if not hashes or not warehouse.table_exists(table):
        return set()
    marks = ", ".join("?" for _ in hashes)
    found = warehouse.query(f"select sha256 from {table} where sha256 in ({marks})", sorted(hashes))
    return set(found["sha256"])


def _run_rows(
    summary: ImportSummary, sources: Sources, logical_date: datetime, started: datetime
) -> list[dict[str, Any]]:
    """One `ops.sync_runs` row per kind, files or not; `pages` counts the files read."""
    rows, quarantined, files_read = summary.rows, summary.quarantined, summary.files_read
    return [
        {
            "run_id": summary.run_id,
            "source": SOURCE,
            "object": kind,
            "logical_date": logical_date,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "rows_loaded": rows.get(kind, 0),
            "rows_quarantined": quarantined.get(kind, 0),
            "pages": files_read.get(kind, 0),
            "retries": 0,
            "status": "success",
        }
        for kind in sources.kinds
    ]


def import_drop_folder(
    settings: Settings,
    *,
    folder: Path | None = None,
    sources: Sources | None = None,
    logical_date: datetime | None = None,
) -> ImportSummary:
    """Import every ready file in the drop folder (or `folder`) and log the run per kind."""
    sources = sources or load_sources()
    drop = resolve_drop_folder(settings, sources, folder)
    started = datetime.now(UTC)
    summary = ImportSummary(run_id=f"{SOURCE}:{started.isoformat()}", folder=str(drop))
    settings.ensure_dirs()
    warehouse = get_warehouse(settings)
    pipelines_dir = str(settings.dlt_dir / warehouse.kind)
    # Two imports at once would both take the same files; the second waits its turn.
    with pipeline_lock(pipelines_dir, "nurture_files"):
        scan = scan_drop_folder(drop, sources, started)
        summary.unmatched, summary.settling = scan.unmatched, scan.settling
        summary.refused = scan.refused
        loader = _FileLoad(warehouse, pipelines_dir, sources)
        # What an earlier run staged but did not load goes first (one that cannot load is
        # set aside: its files were not moved, so they are read again below).
        parked = load_pending(loader.pipeline, pipelines_dir)
        hashes = {candidate.path: sha256_of(candidate.path) for candidate in scan.ready}
        seen = imported_hashes(warehouse, set(hashes.values()))
        for candidate in scan.ready:
            summary.files.append(_read(loader, candidate, hashes[candidate.path], seen))
        loader.load([r for r in summary.files if r.read], summary.run_id, started)
        run_rows = _run_rows(summary, sources, logical_date or started, started)
        write_ops(
            warehouse,
            pipelines_dir,
            loader.quarantine,
            summary.run_id,
            run_rows,
            parked,
            logical_date or started,
        )
        for candidate in scan.ready:
            moved = move_processed(candidate.path, drop, started.date(), hashes[candidate.path])
            summary.moved_to = str(moved.parent)
    log.info("files import: %s", summary.as_dict())
    return summary


def _read(loader: _FileLoad, candidate: Candidate, sha256: str, seen: set[str]) -> FileResult:
    """Stage one file's rows, unless the same content was imported (or read this run)."""
    source = DroppedFile(candidate.kind, candidate.path.name, sha256)
    if sha256 in seen:
        return FileResult(source.name, source.kind, sha256, "already imported")
    seen.add(sha256)
    return loader.stage_file(candidate.path, source)
