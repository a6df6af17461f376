"""Source freshness, judged at the run's window end instead of the wall clock.

The thresholds and loaded-at columns are dbt's own (`freshness` and `loaded_at_field`
in dbt_project/models/staging/*/_*__sources.yml, thresholds from dbt vars), read from
the manifest of `dbt parse`. The query is ours, not `dbt source freshness`: that one
measures age against the warehouse's now(), which is wrong whenever the run's data
window is not "now" - a backfill, a late run, or the sandbox, whose world ends at its
own today (2026-09-30 plus the days advanced) while the wall clock is later. Here the
age of a table is `as_of - max(loaded_at_field)`, with `as_of` the window end the
syncs loaded up to. A loaded-at field that is the load time (`_dlt_load_id`) can be
later than `as_of`; such a table is fresh (it was loaded after the window closed).

Status per table, with dbt's rule: error when the age exceeds `error_after`, warn
when it exceeds `warn_after`, else pass; a table that does not exist or has no rows
gets the most severe status it is configured for. Optional sources that have not
loaded anything yet (dropped files, see `nurture.transform.dbt.absent_sources`) are
skipped, as `dbt build` leaves their models out.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from nurture.config import Settings

log = logging.getLogger(__name__)

Status = Literal["pass", "warn", "error"]
_SEVERITY: dict[str, int] = {"pass": 0, "warn": 1, "error": 2}
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_PERIOD_UNITS = {"minute": "min", "hour": "h", "day": "days"}


class FreshnessCheckFailed(RuntimeError):
    """The freshness check could not run (dbt could not parse the project)."""


@dataclass(frozen=True)
class Threshold:
    """A dbt `warn_after` / `error_after`, kept as configured for the messages."""

    count: int
    period: str  # dbt's periods: minute, hour, day

    @property
    def delta(self) -> timedelta:
        return self.count * _PERIODS[self.period]

    def __str__(self) -> str:
        return f"{self.count} {_PERIOD_UNITS[self.period]}"


@dataclass(frozen=True)
class SourceCheck:
    """One source table with a freshness threshold, as the dbt manifest declares it."""

    source: str
    table: str
    schema: str
    identifier: str
    loaded_at_field: str
    warn_after: Threshold | None
    error_after: Threshold | None
    filter: str | None = None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.identifier}"


@dataclass(frozen=True)
class TableFreshness:
    check: SourceCheck
    status: Status
    max_loaded_at: datetime | None
    age: timedelta | None
    problem: str | None = None  # "does not exist", "has no rows"

    @property
    def source(self) -> str:
        return self.check.source

    @property
    def relation(self) -> str:
        return self.check.relation

    @property
    def reason(self) -> str:
        """'raw_hubspot.contacts: newest row is 5 days old (error after 72 h)'."""
        check = self.check
        # the threshold it crossed; a passing table shows the one it has yet to cross
        level = "error" if self.status == "error" or not check.warn_after else "warn"
        threshold = check.error_after if level == "error" else check.warn_after
        limit = f" ({level} after {threshold})" if threshold else ""
        if self.problem:
            return f"{check.relation} {self.problem}{limit}"
        if self.age is None or self.age < timedelta(0):
            return f"{check.relation}: newest row is newer than the window end"
        return f"{check.relation}: newest row is {format_duration(self.age)} old{limit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.check.source,
            "table": self.check.table,
            "relation": self.check.relation,
            "status": self.status,
            "max_loaded_at": self.max_loaded_at.isoformat() if self.max_loaded_at else None,
            "age_hours": round(self.age.total_seconds() / 3600, 2) if self.age else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FreshnessReport:
    as_of: datetime
    tables: tuple[TableFreshness, ...]
    skipped: tuple[str, ...] = field(default=())  # sources with no data yet

    @property
    def status(self) -> Status:
        return _worst(t.status for t in self.tables)

    @property
    def sources(self) -> dict[str, Status]:
        """Worst status per dbt source (marketo, hubspot, salesforce, files)."""
        found: dict[str, list[Status]] = {}
        for t in self.tables:
            found.setdefault(t.source, []).append(t.status)
        return {source: _worst(statuses) for source, statuses in found.items()}

    def with_status(self, status: Status) -> list[TableFreshness]:
        return [t for t in self.tables if t.status == status]

    def failure_reason(self) -> str:
        """First line: every table in error (what a failure alert shows); then the warnings."""
        errors = "; ".join(t.reason for t in self.with_status("error"))
        lines = [f"stale sources at {format_time(self.as_of)}: {errors}"]
        lines += [f"also warn: {t.reason}" for t in self.with_status("warn")]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "sources": self.sources,
            "skipped": list(self.skipped),
            "tables": [t.as_dict() for t in self.tables],
        }


def _worst(statuses: Any) -> Status:
    return max(statuses, key=_SEVERITY.__getitem__, default="pass")


def format_duration(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 96:  # hours up to 4 days: comparable with thresholds set in hours
        return f"{int(hours)} h"
    days, rest = divmod(int(hours), 24)
    return f"{days} days" + (f" {rest} h" if rest else "")


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _threshold(time: Any) -> Threshold | None:
    count = getattr(time, "count", None)
    period = getattr(getattr(time, "period", None), "value", None)
    if not count or period not in _PERIODS:
        return None
    return Threshold(int(count), period)


def source_checks(
    settings: Settings, dbt_vars: Mapping[str, Any] | None = None
) -> list[SourceCheck]:
    """The source tables with a freshness threshold, from `dbt parse`'s manifest."""
    from dbt.cli.main import dbtRunner

    from nurture.transform.dbt import (
        DBT_PROFILE,
        dbt_args,
        dbt_env,
        parse_cache_dir,
        publish_parse,
        reuse_parse,
    )

    os.environ.update(dbt_env(settings))
    # its own target path: a `dbt build` of the same warehouse may be writing the other
    work_dir = settings.home / "dbt" / settings.warehouse / "freshness"
    target = work_dir / "target"
    # Start from the parse the dbt tasks cached and leave ours for them: the check parses
    # first in a run, so the layers after it find the project parsed. Other vars make
    # another parse, which is not shared.
    cache = parse_cache_dir(settings) if not dbt_vars else None
    reused = reuse_parse(cache, target) if cache else None
    args = [
        *dbt_args("parse", settings, work_dir),
        # named as cosmos names it: dbt re-parses in full when the --profile differs
        "--profile",
        DBT_PROFILE,
        "--quiet",
        # the sources come from the result; manifest.json would cost a second to write
        "--no-write-json",
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars))]
    result = dbtRunner().invoke(args)
    if not result.success or result.result is None:
        raise FreshnessCheckFailed(f"dbt parse failed: {result.exception!r}")
    if cache:
        publish_parse(target, cache, reused)
    checks = []
    for source in result.result.sources.values():
        freshness = source.freshness
        warn_after = _threshold(getattr(freshness, "warn_after", None))
        error_after = _threshold(getattr(freshness, "error_after", None))
        if not (warn_after or error_after) or not source.loaded_at_field:
            continue
        checks.append(
            SourceCheck(
                source=source.source_name,
                table=source.name,
                schema=source.schema,
                identifier=source.identifier,
                loaded_at_field=source.loaded_at_field,
                warn_after=warn_after,
                error_after=error_after,
                filter=getattr(freshness, "filter", None),
            )
        )
    return sorted(checks, key=lambda c: (c.source, c.table))


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        # a date or text from an unusual loaded-at column; pandas reads them as dbt does
        import pandas as pd

        if pd.isna(value):
            return None
        value = pd.Timestamp(value).to_pydatetime()
    # dbt reads a timestamp without a zone as UTC; so do we
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def judge(check: SourceCheck, max_loaded_at: datetime | None, as_of: datetime) -> TableFreshness:
    """The status of one table whose newest row was loaded at `max_loaded_at`."""
    if max_loaded_at is None:
        status: Status = "error" if check.error_after else "warn"
        return TableFreshness(check, status, None, None, problem="has no rows")
    age = as_of - max_loaded_at
    if check.error_after and age > check.error_after.delta:
        status = "error"
    elif check.warn_after and age > check.warn_after.delta:
        status = "warn"
    else:
        status = "pass"
    return TableFreshness(check, status, max_loaded_at, age)


def check_freshness(
    settings: Settings,
    sources: Sequence[str] | None = None,
    *,
    as_of: datetime | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
) -> FreshnessReport:
    """Freshness of every checked source table at `as_of` (default: now).

    `sources` limits the check to dbt sources ("hubspot") or tables ("hubspot.contacts");
    `dbt_vars` overrides dbt vars such as freshness_warn_after_hours for this check.
    """
    from nurture.transform.dbt import absent_sources
    from nurture.warehouse import get_warehouse

    as_of = as_of or datetime.now(UTC)
    as_of = as_of.astimezone(UTC) if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    skipped = tuple(absent_sources(settings))
    wanted = set(sources or ())
    declared = source_checks(settings, dbt_vars)
    if (
        unknown := wanted
        - {c.source for c in declared}
        - {f"{c.source}.{c.table}" for c in declared}
    ):
        raise ValueError(f"no freshness check for {sorted(unknown)}")
    checks = [
        c
        for c in declared
        if c.source not in skipped
        and (not wanted or c.source in wanted or f"{c.source}.{c.table}" in wanted)
    ]
    warehouse = get_warehouse(settings)
    tables = []
    for check in checks:
        if not warehouse.table_exists(check.relation):
            status: Status = "error" if check.error_after else "warn"
            tables.append(TableFreshness(check, status, None, None, problem="does not exist"))
            continue
        # loaded_at_field and filter are SQL from our own dbt project, never raw input
        where = f" where {check.filter}" if check.filter else ""
        newest = warehouse.scalar(
            f"select max({check.loaded_at_field}) from {check.relation}{where}"
        )
        tables.append(judge(check, _as_utc(newest), as_of))
    report = FreshnessReport(as_of=as_of, tables=tuple(tables), skipped=skipped)
    log.info("source freshness at %s: %s", format_time(as_of), report.sources)
    return report


def warning_message(report: FreshnessReport) -> str:
    """The Slack text (mrkdwn) listing the tables past their warn threshold."""
    from nurture.escaping import mrkdwn as mrkdwn_escape

    lines = [
        f":warning: Stale sources at {format_time(report.as_of)} (warning; the pipeline goes on):"
    ]
    lines += [f"• {mrkdwn_escape(t.reason)}" for t in report.with_status("warn")]
    return "\n".join(lines)


def freshness_task(
    settings: Settings,
    *,
    as_of: datetime | None = None,
    sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The freshness step of a cycle, at the run's window end `as_of`.

    pass: return the report. warn: post one Slack message (`slack_default`) listing the
    stale tables and their age, then return. error: fail at once (no retries: waiting
    does not make the data fresher) with the stale tables as the reason.
    """
    report = check_freshness(settings, sources, as_of=as_of)
    if report.status == "error":
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(report.failure_reason())
    if report.status == "warn":
        from nurture.alerts import post_alert

        # a warning that cannot reach Slack is logged, not escalated to a failure
        post_alert(warning_message(report))
        log.warning("%s", warning_message(report))
    return report.as_dict()
