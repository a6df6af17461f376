"""Load throughput into PostgreSQL: Nurture's dlt path against a plain COPY of the same
rows and against pandas ``to_sql``.

The rows are real Marketo activity pages as the connector yields them (bulk export from
the sandbox, typed), held in memory so that only the load is timed.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from nurture.bench.common import Result, Stopwatch, sandbox_connection, sandbox_today
from nurture.config import Settings
from nurture.connectors.marketo import ACTIVITY_TYPES, MarketoClient
from nurture.connectors.records import Quarantine, typed_pages
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow, page_table

Pages = list[list[dict[str, Any]]]
_NO_HEADER = pacsv.WriteOptions(include_header=False)
_PG_TYPES = {
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
    pa.string(): "text",
}


def activity_pages(base_url: str, rows: int) -> Pages:
    """About `rows` typed activity rows from the sandbox, newest windows first."""
    until = sandbox_today(base_url)
    client = MarketoClient(sandbox_connection("marketo", base_url, until))
    pages: Pages = []
    try:
        raw = client.export_activities(until - timedelta(days=730), until)
        for page in typed_pages(
            raw,
            obj="activities",
            key="marketoGUID",
            types=ACTIVITY_TYPES,
            required=("leadId",),
            quarantine=Quarantine("marketo"),
        ):
            pages.append(page)
            if sum(map(len, pages)) >= rows:
                break
    finally:
        client.close()
    return pages


def load_with_nurture(settings: Settings, pages: Pages, dataset: str = "bench_dlt") -> float:
    """The sync's own path: dlt, Arrow pages, Parquet files loaded by binary COPY (ADBC),
    merge on the key."""
    from nurture.warehouse import get_warehouse

    pipeline = dlt.pipeline(
        pipeline_name=f"bench_load_{dataset}",
        destination=get_warehouse(settings).dlt_destination(),
        dataset_name=dataset,
        pipelines_dir=str(settings.home / "bench-dlt"),
    )
    resource = dlt.resource(
        iter(pages), name="activities", primary_key="marketoGUID", write_disposition="merge"
    )
    watch = Stopwatch()
    pipeline.run(as_arrow(resource), loader_file_format=LOAD_FILE_FORMAT)
    return watch.seconds


def _schema(pages: Pages) -> pa.Schema:
    """The union of every page's columns (pages differ: attributes vary by activity type)."""
    return pa.unify_schemas([page_table(p).schema for p in pages], promote_options="permissive")


def _columns(schema: pa.Schema) -> dict[str, str]:
    return {
        f.name: "timestamptz" if pa.types.is_timestamp(f.type) else _PG_TYPES.get(f.type, "text")
        for f in schema
    }


def _conform(page: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    table = page_table(page)
    arrays = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _create(con: psycopg.Connection, table: str, columns: dict[str, str]) -> None:
    cols = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    con.execute(f"create table {table} ({cols})")


def load_with_copy_rows(dsn: str, pages: Pages, table: str = "bench_copy_rows") -> float:
    """psycopg's COPY FROM STDIN, row by row through its C writer."""
    columns = _columns(_schema(pages))
    names = list(columns)
    with psycopg.connect(dsn) as con:
        _create(con, table, columns)
        watch = Stopwatch()
        quoted = ", ".join(f'"{n}"' for n in names)
        with con.cursor() as cur, cur.copy(f"copy {table} ({quoted}) from stdin") as copy:
            for page in pages:
                for row in page:
                    copy.write_row([row.get(n) for n in names])
        con.commit()
        return watch.seconds


def load_with_copy_csv(dsn: str, pages: Pages, table: str = "bench_copy_csv") -> float:
    """COPY of CSV written by Arrow, page by page (the fastest plain COPY we know)."""
    schema = _schema(pages)
    columns = _columns(schema)
    names = list(columns)
    with psycopg.connect(dsn) as con:
        _create(con, table, columns)
        watch = Stopwatch()
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = f"copy {table} ({quoted}) from stdin with (format csv)"
        with con.cursor() as cur, cur.copy(sql) as copy:
            for page in pages:
                buffer = io.BytesIO()
                pacsv.write_csv(_conform(page, schema), buffer, _NO_HEADER)
                copy.write(buffer.getvalue())
        con.commit()
        return watch.seconds


def load_with_to_sql(dsn: str, url: str, pages: Pages, table: str = "bench_to_sql") -> float:
    """pandas `DataFrame.to_sql` (default method), a page per call, into the same table
    shape the other loaders get."""
    columns = _columns(_schema(pages))
    with psycopg.connect(dsn) as con:
        _create(con, table, columns)
    engine = sa.create_engine(url)
    try:
        watch = Stopwatch()
        for page in pages:
            frame = pd.DataFrame(page, columns=list(columns))
            frame.to_sql(table, engine, if_exists="append", index=False)
        return watch.seconds
    finally:
        engine.dispose()


def _rows(pages: Pages) -> Iterator[int]:
    for page in pages:
        yield len(page)


def bench_load(base_url: str, settings: Settings, rows: int, repeats: int = 3) -> list[Result]:
    """Each way `repeats` times, taking each one's best: the first large load of a process
    pays for memory the machine has not handed out yet, whichever way goes first. Each
    round starts with another way, and each load starts with the garbage of the one
    before collected (pandas leaves hundreds of MB)."""
    pages = activity_pages(base_url, rows)
    n = sum(_rows(pages))
    pg = settings.postgres
    dsn = f"host={pg.host} port={pg.port} user={pg.user} dbname={pg.database}"
    if pg.password:
        dsn += f" password={pg.password}"
    # Throughput, not start-up: one page through each path first, so the first timed
    # load does not pay for imports and first connections (dlt's take about a second).
    load_with_nurture(settings, pages[:1], dataset="bench_warm_up")
    load_with_to_sql(dsn, pg.sqlalchemy_url(), pages[:1], table="bench_warm_up_to_sql")
    ways: dict[str, Callable[[int], float]] = {
        "nurture": lambda r: load_with_nurture(settings, pages, dataset=f"bench_dlt_{r}"),
        "copy_rows": lambda r: load_with_copy_rows(dsn, pages, f"bench_copy_rows_{r}"),
        "copy_csv": lambda r: load_with_copy_csv(dsn, pages, f"bench_copy_csv_{r}"),
        "to_sql": lambda r: load_with_to_sql(dsn, pg.sqlalchemy_url(), pages, f"bench_to_sql_{r}"),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    for round_ in range(repeats):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            gc.collect()
            times[name].append(ways[name](round_))
    nurture, copy_rows, copy_csv, to_sql = (min(t) for t in times.values())
    copy_best = min(copy_rows, copy_csv)
    detail = {
        "rows": n,
        "nurture_seconds": round(nurture, 2),
        "copy_rows_seconds": round(copy_rows, 2),
        "copy_csv_seconds": round(copy_csv, 2),
        "to_sql_seconds": round(to_sql, 2),
        "nurture_rows_per_second": round(n / nurture),
        "best_of": repeats,
        "nurture_all_seconds": [round(t, 2) for t in times["nurture"]],
        "at": datetime.now().isoformat(timespec="seconds"),
    }
    return [
        Result(
            "load: throughput vs plain COPY (PostgreSQL)", copy_best / nurture, 0.5, True, detail
        ),
        Result("load: throughput vs pandas to_sql (PostgreSQL)", to_sql / nurture, None, True, {}),
    ]
