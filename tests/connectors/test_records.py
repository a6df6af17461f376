from datetime import UTC, datetime

import pytest

from nurture.connectors.records import Quarantine, parse_bool, parse_timestamp, typed_rows


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-30T12:34:56Z", datetime(2026, 9, 30, 12, 34, 56, tzinfo=UTC)),
        ("2026-09-30T21:34:56+09:00", datetime(2026, 9, 30, 12, 34, 56, tzinfo=UTC)),
        ("2026-09-30T12:34:56.000+0000", datetime(2026, 9, 30, 12, 34, 56, tzinfo=UTC)),
        ("1790858096000", datetime(2026, 10, 1, 12, 34, 56, tzinfo=UTC)),
        ("", None),
    ],
)
def test_parse_timestamp_accepts_every_vendor_form(value, expected):
    assert parse_timestamp(value) == expected


def test_parse_bool_refuses_garbage():
    assert parse_bool("TRUE") is True
    assert parse_bool("0") is False
    with pytest.raises(ValueError):
        parse_bool("maybe")


def test_typed_rows_quarantines_with_reason_and_keeps_going():
    quarantine = Quarantine("marketo")
    records = [
        {"id": "1", "email": "a@example.com", "updatedAt": "2026-09-01T00:00:00Z"},
        {"id": "", "email": "b@example.com", "updatedAt": "2026-09-01T00:00:00Z"},
        {"id": "3", "email": "c@example.com", "updatedAt": "yesterday"},
        {"id": "4", "email": "d@example.com", "updatedAt": "2026-09-02T00:00:00Z"},
    ]
    rows = list(
        typed_rows(
            records,
            obj="leads",
            key="id",
            types={"id": "int", "updatedAt": "timestamp"},
            required=("email",),
            quarantine=quarantine,
        )
    )
    assert [r["id"] for r in rows] == [1, 4]
    reasons = {r.record_key: r.reason for r in quarantine.rejected}
    assert reasons[None] == "missing id"
    assert reasons["3"].startswith("bad updatedAt")
    assert all('"email"' in r.payload for r in quarantine.rejected)


def test_quarantine_spools_rejected_records_instead_of_holding_them():
    """200k bad rows once peaked at 3 GB: rejected records go to a spool file, and only
    their counts stay in memory however many there are."""
    import tracemalloc

    from nurture.connectors.records import Quarantine

    quarantine = Quarantine("files")
    payload = {"会社名": "株式会社サンプル", "氏名": "山田 太郎", "note": "x" * 200}
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(20_000):
            quarantine.reject("trade_show", payload, f"list.csv:{i}", "missing email")
        grown = sum(
            stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename")
        )
    finally:
        tracemalloc.stop()
    assert grown < 2 * 1024 * 1024, grown  # the records themselves are ~8 MB
    assert quarantine.count() == quarantine.count("trade_show") == 20_000
    rows = quarantine.rows("run-1")
    first = next(rows)
    assert first["record_key"] == "list.csv:0" and first["reason"] == "missing email"
    assert sum(1 for _ in rows) == 19_999
    quarantine.reject("trade_show", "raw", "list.csv:x", "late")  # appends after reading
    assert [r.record_key for r in quarantine][-1] == "list.csv:x"
