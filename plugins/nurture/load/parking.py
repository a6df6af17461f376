"""A load package that cannot load is set aside, so that it never blocks the loads after it.

A dlt pipeline loads the packages an earlier run left before anything new, and dlt keeps
a package whose job failed pending: a damaged Parquet file, or a value the warehouse
refuses, failed every later run of that pipeline the same way. Here the packages an
earlier run left are loaded first, as before; one that fails for a reason a retry cannot
fix (not `nurture.retryable.is_transient`) is parked:

- the rows its completed jobs put in the dataset (and its staging dataset) are deleted,
  so nothing of it stays half-applied (`_dlt_load_id` names the package);
- dlt aborts it (`Pipeline.abort_packages`): the packages extracted after it are dropped
  and the pipeline's state (the incremental cursors) rewinds to where the package began,
  so the run that goes on extracts its records again from the source (the drop folder's
  files were not moved: they are read again);
- its folder moves to `NURTURE_HOME/parked/<warehouse>/<pipeline>/<load_id>/package`,
  beside `reason.json` (the step, the failed job, the error);
- the caller records it in `ops.sync_runs` (status `parked`) and `ops.quarantine`.

A package whose load failed for a transient reason (the warehouse is down, a connection
dropped) stays pending, and the next run completes it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PARKED_FOLDER = "parked"
PARKED_OBJECT = "(load package)"
PARKED_STATUS = "parked"
LOAD_ID_COLUMN = "_dlt_load_id"
# the steps that work on packages: a failure in any other step (`sync` with the
# destination, `extract` from a source) is not a package's fault
PACKAGE_STEPS = ("normalize", "load")


@dataclass(frozen=True)
class ParkedPackage:
    """A load package set aside, and why."""

    pipeline: str
    load_id: str
    step: str
    reason: str
    folder: Path
    parked_at: datetime
    jobs: tuple[str, ...] = ()
    rows_undone: dict[str, int] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.pipeline.removeprefix("nurture_")

    def run_row(self, logical_date: datetime | None = None) -> dict[str, Any]:
        """Its row in `ops.sync_runs`: a run id of its own, never overwritten by a re-run."""
        return {
            "run_id": f"{self.source}:parked:{self.load_id}",
            "source": self.source,
            "object": PARKED_OBJECT,
            "logical_date": logical_date or self.parked_at,
            "started_at": self.parked_at,
            "finished_at": self.parked_at,
            "rows_loaded": 0,
            "rows_quarantined": 0,
            "pages": 0,
            "retries": 0,
            "status": PARKED_STATUS,
            "error": self.reason[:1000],
        }

    def quarantine_row(self, run_id: str) -> dict[str, Any]:
        """Its row in `ops.quarantine`, where `nurture doctor` looks for what was set aside."""
        return {
            "source": self.source,
            "object": PARKED_OBJECT,
            "record_key": f"{self.pipeline}/{self.load_id}",
            "reason": f"load package set aside: {self.reason}"[:1000],
            "payload": json.dumps(self.as_dict(), ensure_ascii=False),
            "run_id": run_id,
            "quarantined_at": self.parked_at,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "load_id": self.load_id,
            "step": self.step,
            "reason": self.reason,
            "jobs": list(self.jobs),
            "rows_undone": self.rows_undone,
            "folder": str(self.folder),
            "parked_at": self.parked_at.isoformat(),
        }


def parked_root(pipelines_dir: str | Path) -> Path:
    """`NURTURE_HOME/parked/<warehouse>` for `pipelines_dir` = `NURTURE_HOME/dlt/<warehouse>`."""
    folder = Path(pipelines_dir)
    return folder.parent.parent / PARKED_FOLDER / folder.name


def has_pending(pipeline: Any) -> bool:
    """Whether the pipeline holds packages to load, or one whose abort was cut short (dlt's
    `has_pending_data` leaves that out, and its next load would then drop the packages of
    the run that follows instead of loading them)."""
    return bool(pipeline.list_normalized_load_packages() or pipeline.list_extracted_load_packages())


def load_pending(pipeline: Any, pipelines_dir: str | Path) -> list[ParkedPackage]:
    """Load the packages an earlier run left, oldest first; park each one that fails for a
    reason a retry cannot fix. A transient failure is raised, its package kept pending.
    Call it holding the pipeline's lock (`nurture.load.locks`), before extracting anew."""
    parked: list[ParkedPackage] = []
    while has_pending(pipeline):
        before = _pending_ids(pipeline)
        try:
            _load_step(pipeline)
        except Exception as exc:
            package = _failed_package(pipeline, exc)
            if package is None:
                raise
            load_id, step = package
            if step == "normalize" and _normalized(pipeline):
                continue  # the packages normalised before it load first, then it is parked
            if any(p.load_id == load_id for p in parked):
                raise  # parking did not take it out of the way: never loop on it
            parked.append(park(pipeline, pipelines_dir, load_id, step, exc))
            continue
        if _pending_ids(pipeline) == before:
            raise RuntimeError(
                f"pipeline {pipeline.pipeline_name}: packages {sorted(before)} neither load "
                "nor fail; see the log above"
            )
    return parked


def _pending_ids(pipeline: Any) -> set[str]:
    return set(pipeline.list_normalized_load_packages()) | set(
        pipeline.list_extracted_load_packages()
    )


def _load_step(pipeline: Any) -> None:
    """One step towards no pending packages: load the normalised packages (oldest first;
    one flagged for abort completes its abort), else normalise the extracted ones. dlt's
    `run` would normalise first, and would drop the whole working folder (state and
    packages) when the dataset does not exist yet."""
    if pipeline.list_normalized_load_packages():
        pipeline.load()
    else:
        pipeline.normalize()


def _normalized(pipeline: Any) -> list[str]:
    """Normalised packages still to load (an abort-flagged one is being dropped, not loaded)."""
    storage = pipeline._get_load_storage()
    return [
        load_id
        for load_id in pipeline.list_normalized_load_packages()
        if not storage.normalized_packages.has_abort_flag(load_id)
    ]


def _failed_package(pipeline: Any, exc: BaseException) -> tuple[str, str] | None:
    """(load id, step) of the package `exc` failed, when it is one to park."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    from nurture.retryable import is_transient

    if not isinstance(exc, PipelineStepFailed) or exc.step not in PACKAGE_STEPS:
        return None
    if is_transient(exc):
        log.warning(
            "pipeline %s: a pending package did not load for a transient reason; it stays "
            "for the next run: %s",
            pipeline.pipeline_name,
            _reason(exc),
        )
        return None
    pending = _normalized(pipeline) + list(pipeline.list_extracted_load_packages())
    load_id = exc.load_id if exc.load_id in pending else (pending[0] if pending else None)
    return (load_id, str(exc.step)) if load_id else None


def park(
    pipeline: Any, pipelines_dir: str | Path, load_id: str, step: str, exc: BaseException
) -> ParkedPackage:
    """Set the pending package `load_id` aside (see the module's docstring)."""
    name = pipeline.pipeline_name
    normalized = load_id in pipeline.list_normalized_load_packages()
    working = Path(pipeline.working_dir)
    source = (
        working / "load" / "normalized" / load_id
        if normalized
        else working / "normalize" / "extracted" / load_id
    )
    folder = parked_root(pipelines_dir) / name / load_id
    reason = _reason(exc)
    jobs = _failed_jobs(exc, source)
    # Undone first: should the warehouse fail now, the package stays pending for next time.
    rows_undone = _undo_rows(pipeline, load_id) if normalized else {}
    _link_tree(source, folder / "package")
    if normalized:
        pipeline.abort_packages(load_id)
    else:
        # dlt aborts an extracted package only with all pending ones (none is normalised now)
        pipeline.abort_packages()
    shutil.rmtree(working / "load" / "loaded" / load_id, ignore_errors=True)
    package = ParkedPackage(
        pipeline=name,
        load_id=load_id,
        step=step,
        reason=reason,
        folder=folder,
        parked_at=datetime.now(UTC),
        jobs=jobs,
        rows_undone=rows_undone,
    )
    (folder / "reason.json").write_text(
        json.dumps(package.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    undone = sum(rows_undone.values())
    log.error(
        "pipeline %s: load package %s cannot %s (%s); set aside in %s with its reason, "
        "%d half-loaded row(s) of it deleted, state rewound to before it; the run goes on",
        name,
        load_id,
        step,
        reason,
        folder,
        undone,
    )
    return package


def _reason(exc: BaseException) -> str:
    """`<job>: <Type>: <first line>` of the error a person should read."""
    from nurture.alerts import error_first_line
    from nurture.connectors.http import redact_url_secrets
    from nurture.retryable import root_cause

    jobs = _named_jobs(exc)
    text = redact_url_secrets(error_first_line(root_cause(exc)))
    return f"{jobs[0]}: {text}" if jobs else text


def _named_jobs(exc: BaseException) -> list[str]:
    from nurture.retryable import _chain

    return list(dict.fromkeys(e.job_id for e in _chain(exc) if getattr(e, "job_id", None)))


def _failed_jobs(exc: BaseException, package: Path) -> tuple[str, ...]:
    """The job the error names, else the jobs dlt put back for a retry or failed."""
    named = _named_jobs(exc)
    if named:
        return tuple(named)
    found = []
    for folder in ("failed_jobs", "new_jobs", "started_jobs"):
        path = package / folder
        if path.is_dir():
            found += sorted(p.name for p in path.iterdir() if not p.name.endswith(".exception"))
    return tuple(found)


def _undo_rows(pipeline: Any, load_id: str) -> dict[str, int]:
    """Delete the rows of `load_id` from the dataset and its staging dataset: a merge whose
    table chain completed before another job failed wrote its rows already."""
    from contextlib import nullcontext

    undone: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for staging in (False, True):
            with client.with_staging_dataset() if staging else nullcontext():
                dataset = client.dataset_name
                tables = client.execute_sql(
                    "select table_name from information_schema.columns "
                    "where table_schema = %s and column_name = %s",
                    dataset,
                    LOAD_ID_COLUMN,
                )
                for (table,) in sorted(set(map(tuple, tables or []))):
                    qualified = client.make_qualified_table_name(table)
                    where = f"where {LOAD_ID_COLUMN} = %s"
                    count = client.execute_sql(f"select count(*) from {qualified} {where}", load_id)
                    rows = int(count[0][0]) if count else 0
                    if rows:
                        client.execute_sql(f"delete from {qualified} {where}", load_id)
                        undone[f"{dataset}.{table}"] = rows
    return undone


def _link_tree(source: Path, target: Path) -> None:
    """A copy of the package folder made of hard links (instant, no second copy of the
    rows on disk): dlt then moves and deletes its own names as it aborts the package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)
