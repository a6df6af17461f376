"""Pages become Arrow tables without losing a key that only later rows carry."""

from __future__ import annotations

import dlt

from nurture.load.arrow_pages import PagesToArrow, _non_null_columns, not_null, page_table


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
