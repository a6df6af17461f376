"""Pages become Arrow tables without losing a key that only later rows carry, and a
resource's later pages, converted with the type of its earlier ones, hold exactly the
values inference would give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import dlt
import pyarrow as pa

from nurture.load.arrow_pages import (
    PagesToArrow,
    PageTypes,
    _non_null_columns,
    not_null,
    page_table,
)


def _typed_pages(pages: list[list[dict]]) -> tuple[list[pa.Table], int]:
    """Each page through one `PageTypes`, and how many took the typed path."""
    types = PageTypes()
    typed = 0
    tables = []
    for page in pages:
        known = types.wide
        tables.append(types.table(page))
        typed += known is not None and types.wide is known
    return tables, typed


def _values(table: pa.Table) -> dict[str, list]:
    """Column values, leaving out columns that are null throughout (a typed page carries
    every column seen so far; inference makes only the page's own)."""
    return {
        name: table.column(name).to_pylist()
        for name in table.column_names
        if table.column(name).null_count < len(table)
    }


def test_later_pages_take_the_known_type_and_keep_every_value() -> None:
    jst = timezone(timedelta(hours=9))
    pages = [
        [
            {"id": 1, "at": datetime(2026, 1, 5, 9, tzinfo=UTC), "score": 1.5, "note": None},
            {"id": 2, "at": datetime(2026, 1, 5, 10, tzinfo=UTC), "score": 2.0, "note": "x"},
        ],
        [
            {"id": 3, "at": datetime(2026, 1, 6, 18, tzinfo=jst), "score": 3, "note": "y"},
            {"id": 2**53, "at": None, "score": None, "note": "z"},
        ],
        [{"id": 4, "note": "only some keys"}],
    ]
    tables, typed = _typed_pages(pages)
    assert typed == 2
    for page, table in zip(pages, tables, strict=True):
        inferred = page_table(page)
        for name, values in _values(inferred).items():
            assert table.column(name).to_pylist() == values, name
    assert tables[1].column("at").to_pylist()[0] == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert tables[1].schema.field("id").type == pa.int64()
    assert tables[2].column("score").to_pylist() == [None]


def test_a_fractional_value_in_an_integer_field_is_not_truncated() -> None:
    tables, typed = _typed_pages([[{"n": 1}, {"n": 2}], [{"n": 2.5}, {"n": 3}]])
    assert typed == 0
    assert tables[1].column("n").to_pylist() == [2.5, 3.0]


def test_a_new_key_or_an_unfitting_value_falls_back_to_inference() -> None:
    pages = [
        [{"id": 1, "status": "Open"}],
        [{"id": 2, "status": "Open", "drifted": "new"}],  # a key the type lacks
        [{"id": 3, "status": "Working"}],  # typed, with the wider type
        [{"id": 4, "status": 7}],  # a value the type does not take
        [{"id": 2**64, "status": "Open"}],  # past int64: kept as text, as inference does
    ]
    tables, typed = _typed_pages(pages)
    assert typed == 1
    assert tables[1].column("drifted").to_pylist() == ["new"]
    assert tables[2].column("status").to_pylist() == ["Working"]
    assert tables[2].column("drifted").to_pylist() == [None]
    assert tables[3].column("status").to_pylist() == [7]
    assert tables[4].column("id").to_pylist() == [str(2**64)]


def test_every_key_of_any_row_becomes_a_column() -> None:
    table = page_table([{"id": 1}, {"id": 2, "mailing_id": "7"}, {"id": 3, "drifted": True}])
    assert table.column_names == ["id", "mailing_id", "drifted"]
    assert table.column("mailing_id").to_pylist() == [None, "7", None]
    assert table.column("drifted").to_pylist() == [None, None, True]


def test_a_column_arrow_cannot_unify_is_kept_as_text() -> None:
    table = page_table([{"id": 1, "value": 5}, {"id": 2, "value": "five"}])
    assert table.column("value").to_pylist() == ["5", "five"]
    assert table.column("id").to_pylist() == [1, 2]


def test_primary_key_columns_are_marked_non_null_when_they_hold_no_nulls() -> None:
    resource = dlt.resource([], name="leads", primary_key="id", write_disposition="merge")
    assert _non_null_columns(resource) == {"id"}
    step = PagesToArrow(_non_null_columns(resource))
    table = step([{"id": 1, "email": None}, {"id": 2, "email": "a@example.co.jp"}])
    assert not table.schema.field("id").nullable
    assert table.schema.field("email").nullable
    assert table.column("id").to_pylist() == [1, 2]
    # a null key is left for dlt to reject, not hidden by the schema
    holed = not_null(page_table([{"id": None}, {"id": 3}]), frozenset({"id"}))
    assert holed.schema.field("id").nullable
