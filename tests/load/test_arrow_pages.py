"""Pages become Arrow tables without losing a key that only later rows carry."""

from __future__ import annotations

from nurture.load.arrow_pages import page_table


def test_every_key_of_any_row_becomes_a_column() -> None:
    table = page_table([{"id": 1}, {"id": 2, "mailing_id": "7"}, {"id": 3, "drifted": True}])
    assert table.column_names == ["id", "mailing_id", "drifted"]
    assert table.column("mailing_id").to_pylist() == [None, "7", None]
    assert table.column("drifted").to_pylist() == [None, None, True]


def test_a_column_arrow_cannot_unify_is_kept_as_text() -> None:
    table = page_table([{"id": 1, "value": 5}, {"id": 2, "value": "five"}])
    assert table.column("value").to_pylist() == ["5", "five"]
    assert table.column("id").to_pylist() == [1, 2]
