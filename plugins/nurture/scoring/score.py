"""Score every lead at once with column operations; keep each score's top reasons.

The lead base becomes a points matrix, one row per lead and one column per reason
group (industry, size band, seniority, department, each negative rule, each activity
type, careers pages). Text columns are mapped through their few distinct values
(titles, industries, domains, URLs), never row by row; events are placed on their lead
with one hash lookup and summed with `np.bincount`. Fit is the sum of the fit and
negative columns, engagement the sum of the decayed activity columns (careers-page
visits subtract from it: they are behaviour, not who the lead is).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np
import pandas as pd

from nurture.scoring.rules import Domains, Rules
from nurture.scoring.words import (
    ACTIVITY_PHRASES,
    CAREERS_PAGES,
    PROGRAM_STATUS_ACTIVITY,
    activity_phrase,
    status_phrase,
)

TOP_REASONS = 3
DAY_NS = 86_400 * 10**9
# engagement columns of program status changes are named by this prefix and the status
STATUS_PREFIX = "program_status:"


def scored_types(rules: Rules) -> list[str]:
    """The engagement columns: the activity types, then each status worth points."""
    statuses = rules.engagement.program_statuses
    return [
        *rules.engagement.activities,
        *(STATUS_PREFIX + status for status, points in statuses.items() if points != 0),
    ]


def type_points(rules: Rules, kind: str) -> float:
    if kind.startswith(STATUS_PREFIX):
        return rules.engagement.program_statuses[kind.removeprefix(STATUS_PREFIX)]
    return rules.engagement.activities[kind]


@dataclass(frozen=True)
class Engagement:
    """Per lead and activity type (columns in rules order): decayed points and counts."""

    activity_types: list[str]
    points: np.ndarray  # (leads, types) float64
    counts: np.ndarray  # (leads, types) int64
    careers_points: np.ndarray  # (leads,) float64, <= 0
    careers_counts: np.ndarray  # (leads,) int64
    days_since_last: np.ndarray  # (leads,) float64, inf without a scored event (or not asked)
    # counted program status changes: lead row, engagement column, programme channel
    status_events: pd.DataFrame | None = None


@dataclass(frozen=True)
class Column:
    """One reason group's points per lead; `label(rows)` names it in words for those rows."""

    name: str
    is_fit: bool
    points: np.ndarray
    label: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PointsMatrix:
    """Every reason group's points per lead (fit and negative rules, then engagement)."""

    columns: list[Column]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_fit(self) -> np.ndarray:
        return np.array([c.is_fit for c in self.columns])

    @property
    def points(self) -> np.ndarray:
        n = len(self.columns[0].points)
        out = np.empty((n, len(self.columns)))
        for j, column in enumerate(self.columns):
            out[:, j] = column.points
        return out

    def total(self, fit: bool) -> np.ndarray:
        """The fit (or engagement) score: the sum of those columns, rounded to cents."""
        chosen = [c.points for c in self.columns if c.is_fit == fit]
        total = np.zeros(len(self.columns[0].points))
        for points in chosen:
            total += points
        return np.round(total, 2)


def _coded(codes: np.ndarray, texts: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    vocabulary = np.array([*texts, ""], dtype=object)  # code -1 picks ""
    return lambda rows: vocabulary[codes[rows]]


def _lookup_column(
    name: str, values: pd.Series, found: Callable[[object], tuple[float, str]]
) -> Column:
    """Points and label of each distinct value, spread to the rows by factorize codes."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [found(u) for u in uniques]
    points = np.array([r[0] for r in results] + [0.0], dtype=float)
    return Column(name, True, points[codes], _coded(codes, [r[1] for r in results]))


def _table_column(name: str, values: pd.Series, table: dict[str, float], prefix: str) -> Column:
    lowered = {key.strip().lower(): (points, key) for key, points in table.items()}

    def found(value: object) -> tuple[float, str]:
        hit = lowered.get(str(value).strip().lower())
        return (float(hit[0]), f"{prefix}{hit[1]}") if hit else (0.0, "")

    return _lookup_column(name, values, found)


def _seniority(titles: pd.Series, rules: Rules) -> Column:
    compiled = [(re.compile(r.pattern, re.IGNORECASE), r) for r in rules.fit.seniority]

    def found(title: object) -> tuple[float, str]:
        for pattern, rule in compiled:
            if pattern.search(str(title)):
                return float(rule.points), rule.reason
        return 0.0, ""

    return _lookup_column("seniority", titles, found)


def _flag(name: str, hit: np.ndarray, points: float, label: str) -> Column:
    values = np.where(hit, float(points), 0.0)
    return Column(name, True, values, lambda rows: np.where(hit[rows], label, "").astype(object))


def _truthy(values: pd.Series) -> np.ndarray:
    return values.fillna(False).to_numpy(dtype=bool)


def _domain_in(name: str, domains: pd.Series, rule: Domains, label: str) -> Column:
    listed = {d.lower() for d in rule.domains}
    return _lookup_column(
        name,
        domains,
        lambda d: (float(rule.points), label) if str(d).strip().lower() in listed else (0.0, ""),
    )


def email_domains(leads: pd.DataFrame) -> pd.Series:
    """dim_lead.email_domain, or the part after @ of the e-mail when that is missing."""
    if "email_domain" in leads:
        return leads["email_domain"]
    return leads["email"].str.rsplit("@", n=1).str[-1]


def lead_locator(lead_ids: pd.Series) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving each event's row in the lead base (-1 when the lead is not scored).

    Integer keys in a compact range use a direct lookup array; others one hash lookup.
    """
    keys = lead_ids.to_numpy()
    index = pd.Index(lead_ids)
    if keys.dtype.kind in "iu" and len(keys) and lead_ids.is_unique:
        low, high = int(keys.min()), int(keys.max())
        if high - low < 64 * len(keys) + 1024:
            table = np.full(high - low + 2, -1, dtype=np.int64)
            table[keys - low] = np.arange(len(keys))
            outside = high - low + 1  # the table's last cell, -1

            def direct(wanted: np.ndarray) -> np.ndarray:
                if wanted.dtype.kind not in "iu":
                    return index.get_indexer(wanted)
                offset = wanted - low
                offset[(offset < 0) | (offset > outside)] = outside
                return table[offset]

            return direct
    return index.get_indexer


# Large event tables are cut into one slice per core (each at least this many events),
# worked on in threads: numpy releases the GIL in the per-event work (gathers, exp2,
# bincount), so the scorer uses the cores a SQL engine would.
EVENTS_PER_SLICE = 2_000_000
# Within a slice, events are worked through in chunks of this many: temporaries of a few
# MB are reused by the allocator instead of faulted in afresh for every array.
EVENTS_PER_CHUNK = 500_000


def engagement_matrix(
    events: pd.DataFrame,
    lead_ids: pd.Series,
    rules: Rules,
    as_of: datetime,
    recency: bool = False,
) -> Engagement:
    """Decayed points and counts per lead and activity type, events at or before `as_of`.

    Each event is worth its type's points times 0.5 ** (age in days / half-life); a
    program status change (with `program_status`) is worth its new status's points.
    With `recency`, also the days since each lead's latest scored event (a model feature).
    """
    types = scored_types(rules)
    n, k = len(lead_ids), len(types)
    table = _EventTable(events, lead_ids, types, rules, as_of, recency)
    workers = max(1, min(os.cpu_count() or 1, len(events) // EVENTS_PER_SLICE))
    bounds = np.linspace(0, len(events), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        placed = list(pool.map(table.place, [slice(a, b) for a, b in pairwise(bounds)]))
        # each event now has its cell (lead × type, or the spare one past the grid when it
        # does not count) and its decayed points: the sums are independent bincounts
        visitor = np.concatenate([p.visitors for p in placed])
        visit_weight = np.concatenate([p.visit_points for p in placed])
        sums = [
            pool.submit(np.bincount, table.cell, table.weight, n * k + 1),
            pool.submit(np.bincount, table.cell, None, n * k + 1),
        ]
        careers_points = np.bincount(visitor, visit_weight, n)
        careers_counts = np.bincount(visitor, None, n)
        points, counts = (f.result()[:-1] for f in sums)
    last = np.full(n, np.inf)
    if recency:
        for part in placed:
            np.minimum(last, part.last, out=last)
    return Engagement(
        activity_types=types,
        points=points.reshape(n, k),
        counts=counts.reshape(n, k),
        careers_points=careers_points,
        careers_counts=careers_counts,
        days_since_last=last,
        status_events=pd.concat([p.statuses for p in placed], ignore_index=True),
    )


@dataclass(frozen=True)
class _Placed:
    """What a slice of events leaves besides its cells: careers-page visits (the visiting
    lead's row and negative points) and, with recency, each lead's days since its latest
    counted event (inf without one; empty without recency)."""

    visitors: np.ndarray
    visit_points: np.ndarray
    last: np.ndarray
    statuses: pd.DataFrame


class _EventTable:
    """Each event's cell in the lead × type grid and its decayed points, filled in a slice
    at a time; per-event conversions happen a chunk at a time, so only the two result
    arrays span the whole table."""

    def __init__(
        self,
        events: pd.DataFrame,
        lead_ids: pd.Series,
        types: list[str],
        rules: Rules,
        as_of: datetime,
        recency: bool,
    ) -> None:
        self.n, self.k = len(lead_ids), len(types)
        self.types = types
        self.recency = recency
        self.locate = lead_locator(lead_ids)
        self.events = events
        self.as_of_ns = pd.Timestamp(as_of).as_unit("ns").value
        self.half_life = rules.engagement.half_life_days
        # the last weight is a dropped event's: its cell is the spare one past the grid
        self.weights = np.array([*(type_points(rules, t) for t in types), 0.0])
        self.statuses = [
            t.removeprefix(STATUS_PREFIX) for t in types if t.startswith(STATUS_PREFIX)
        ]
        self.first_status = len(types) - len(self.statuses)
        self.scores_statuses = bool(self.statuses) and "program_status" in events
        self.has_channel = "channel" in events
        self.cell = np.empty(len(events), dtype=np.int64)
        self.weight = np.empty(len(events))
        careers = rules.negative.careers_pages
        self.careers_weight = careers.points if careers is not None else 0.0
        self.careers: Callable[[pd.Series], np.ndarray] | None = None
        if careers is not None and "webpage_url" in events:
            self.careers = _matcher(re.compile(careers.pattern, re.IGNORECASE))

    def place(self, part: slice) -> _Placed:
        n, k = self.n, self.k
        last = np.full(n if self.recency else 0, np.inf)
        visitors: list[np.ndarray] = []
        visit_points: list[np.ndarray] = []
        statuses: list[pd.DataFrame] = []
        for start in range(part.start, part.stop, EVENTS_PER_CHUNK):
            chunk = slice(start, min(start + EVENTS_PER_CHUNK, part.stop))
            rows = self.events.iloc[chunk]
            position = self.locate(rows["lead_id"].to_numpy())
            type_code = _codes_in(rows["activity_type"], self.types)
            if self.scores_statuses:
                status = _codes_in(rows["program_status"], self.statuses)
                is_change = (rows["activity_type"] == PROGRAM_STATUS_ACTIVITY).to_numpy(bool)
                type_code = np.where(
                    is_change & (status >= 0), self.first_status + status, type_code
                )
            occurred = _epoch_ns(rows["occurred_at"])
            in_time = (occurred <= self.as_of_ns) & (position >= 0)
            age_days = (self.as_of_ns - occurred) / DAY_NS
            decay = np.exp2(-age_days / self.half_life)
            keep = in_time & (type_code >= 0)
            if self.scores_statuses:
                changed = keep & (type_code >= self.first_status)
                channel = rows["channel"].to_numpy(object)[changed] if self.has_channel else None
                statuses.append(
                    pd.DataFrame(
                        {
                            "row": position[changed],
                            "column": type_code[changed],
                            "channel": channel if channel is not None else "",
                        }
                    )
                )
            self.cell[chunk] = np.where(keep, position * k + type_code, n * k)
            self.weight[chunk] = self.weights[np.where(keep, type_code, k)] * decay
            if self.recency and keep.any():
                latest = pd.Series(age_days[keep]).groupby(position[keep]).min()
                where = latest.index.to_numpy()
                last[where] = np.minimum(last[where], latest.to_numpy())
            if self.careers is not None:
                visit = self.careers(rows["webpage_url"]) & in_time
                visitors.append(position[visit])
                visit_points.append(self.careers_weight * decay[visit])
        return _Placed(
            np.concatenate(visitors) if visitors else np.empty(0, dtype=np.int64),
            np.concatenate(visit_points) if visit_points else np.empty(0),
            last,
            pd.concat(statuses, ignore_index=True) if statuses else _NO_STATUSES,
        )


_NO_STATUSES = pd.DataFrame(
    {"row": np.empty(0, dtype=np.int64), "column": np.empty(0, dtype=np.int64), "channel": []}
)


def _matcher(pattern: re.Pattern[str]) -> Callable[[pd.Series], np.ndarray]:
    """Whether each URL matches, testing each distinct URL once."""

    def matches(urls: pd.Series) -> np.ndarray:
        codes, uniques = _distinct(urls)
        hit = np.array([bool(pattern.search(str(u))) for u in uniques] + [False])
        return hit[codes]

    return matches


def _codes_in(values: pd.Series, names: list[str]) -> np.ndarray:
    """Each value's index in `names` (-1 when absent), looking up each distinct value once."""
    codes, uniques = _distinct(values)
    order = np.append(pd.Index(names).get_indexer(uniques), -1)  # code -1 (null) picks -1
    return order[codes]


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for null) and distinct values; a categorical has both already."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), values.cat.categories
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Index(uniques)


def _epoch_ns(values: pd.Series) -> np.ndarray:
    """Timestamps as UTC nanoseconds; naive ones (DuckDB `timestamp`) are taken as UTC."""
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns").asi8


def points_matrix(leads: pd.DataFrame, engagement: Engagement, rules: Rules) -> PointsMatrix:
    """The fit, negative and engagement points of every lead, one column per group."""
    fit, negative = rules.fit, rules.negative
    columns = [
        _table_column("industry", leads["industry"], fit.industry, "industry "),
        _table_column("size_band", leads["size_band"], fit.size_band, "company size "),
        _seniority(leads["job_title"], rules),
        _table_column("department", leads["department"], fit.department, "department "),
        _flag(
            "unsubscribed", _truthy(leads["is_unsubscribed"]), negative.unsubscribed, "unsubscribed"
        ),
        _flag(
            "hard_bounce", _truthy(leads["is_email_invalid"]), negative.hard_bounce, "hard bounce"
        ),
    ]
    domains = email_domains(leads)
    if negative.free_mail:
        columns.append(_domain_in("free_mail", domains, negative.free_mail, "free-mail address"))
    if negative.competitor:
        columns.append(_domain_in("competitor", domains, negative.competitor, "competitor domain"))
    for j, kind in enumerate(engagement.activity_types):
        counts = engagement.counts[:, j]
        if kind.startswith(STATUS_PREFIX):
            label = _status_label(kind.removeprefix(STATUS_PREFIX), j, engagement)
        elif kind in ACTIVITY_PHRASES:
            label = _counted(lambda c, kind=kind: activity_phrase(kind, c), counts)
        else:  # not reachable with validated rules
            label = _counted(lambda c, kind=kind: f"{kind.replace('_', ' ')} ×{c}", counts)
        columns.append(Column(kind, False, engagement.points[:, j], label))
    columns.append(
        Column(
            "careers_pages",
            False,
            engagement.careers_points,
            _counted(CAREERS_PAGES.say, engagement.careers_counts),
        )
    )
    return PointsMatrix(columns)


def _counted(say: Callable[[int], str], counts: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Labels like "clicked 3 emails" for the given rows, formatting each distinct count once."""

    def texts(rows: np.ndarray) -> np.ndarray:
        uniques, inverse = np.unique(counts[rows], return_inverse=True)
        named = np.array([say(int(c)) if c > 0 else "" for c in uniques], dtype=object)
        return named[inverse.reshape(-1)]

    return texts


def _status_label(
    status: str, column: int, engagement: Engagement
) -> Callable[[np.ndarray], np.ndarray]:
    """Labels like "attended 2 webinars and an event": the status's events by channel."""

    def texts(rows: np.ndarray) -> np.ndarray:
        out = np.full(len(rows), "", dtype=object)
        events = engagement.status_events
        if events is None or events.empty:
            return out
        mine = events.loc[(events["column"] == column) & events["row"].isin(rows)]
        if mine.empty:
            return out
        by_lead = mine.groupby(["row", "channel"], dropna=False).size()
        where = {row: i for i, row in enumerate(rows)}
        for row, counts in by_lead.groupby(level="row"):
            channels = {str(ch or ""): int(n) for (_, ch), n in counts.items()}
            out[where[row]] = status_phrase(status, channels)
        return out

    return texts


def grade_and_mql(
    fit_score: np.ndarray, engagement_score: np.ndarray, rules: Rules
) -> tuple[np.ndarray, np.ndarray]:
    """The fit grade (first grade whose floor the fit reaches) and the MQL rule's verdict."""
    floors = np.array([g.min_fit for g in rules.grades])
    names = np.array([g.grade for g in rules.grades], dtype=object)
    thresholds = np.array([rules.mql.get(g.grade, np.inf) for g in rules.grades])
    # grades run from the highest floor down: the first one reached, else the last
    reached = fit_score[:, None] >= floors[None, :]
    index = np.where(reached.any(axis=1), reached.argmax(axis=1), len(floors) - 1)
    return names[index], engagement_score >= thresholds[index]


def top_reasons(matrix: PointsMatrix, top: int = TOP_REASONS) -> np.ndarray:
    """Per lead, the `top` reasons with the largest absolute points, in words with points."""
    points = matrix.points
    n, k = points.shape
    if n == 0:
        return np.array([], dtype=object)
    order = np.argsort(-np.abs(points), axis=1, kind="stable")[:, :top]
    rows = np.arange(n)
    result = np.full(n, "", dtype=object)
    for rank in range(min(top, k)):
        column = order[:, rank]
        value = np.round(points[rows, column], 1)
        label = np.full(n, "", dtype=object)
        for j in np.unique(column):
            picked = np.flatnonzero(column == j)
            label[picked] = matrix.columns[j].label(picked)
        present = (value != 0) & (label != "")
        uniques, inverse = np.unique(value, return_inverse=True)
        shown = np.array([f" ({_signed(v)})" for v in uniques], dtype=object)[inverse.reshape(-1)]
        separator = np.where((result != "") & present, "; ", "")
        result = result + np.where(present, separator + label + shown, "")
    return result


def _signed(value: float) -> str:
    return f"{value:+.0f}" if float(value).is_integer() else f"{value:+.1f}"


def score_leads(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    rules: Rules,
    as_of: datetime,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """One row per lead: fit, engagement, total, grade, MQL rule verdict and top reasons.

    `leads` has the dim_lead columns lead_id, job_title, industry, size_band, department,
    email_domain (or email), is_unsubscribed, is_email_invalid; `events` has lead_id,
    activity_type, occurred_at and optionally webpage_url.
    """
    engagement = engagement_matrix(events, leads["lead_id"], rules, as_of)
    matrix = points_matrix(leads, engagement, rules)
    fit_score, engagement_score = matrix.total(fit=True), matrix.total(fit=False)
    grade, meets = grade_and_mql(fit_score, engagement_score, rules)
    scores = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "fit_score": fit_score,
            "engagement_score": engagement_score,
            "score": np.round(fit_score + engagement_score, 2),
            "grade": grade,
            "meets_mql_rule": meets,
        }
    )
    if with_reasons:
        scores["top_reasons"] = top_reasons(matrix)
    return scores
