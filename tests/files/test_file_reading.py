"""From records to typed rows: the header among title lines, mapping, quarantine reasons."""

import io
import json
import re

import pytest

from nurture.connectors.records import Quarantine
from nurture.files.reading import Header, HeaderNotFound, find_header, read_records
from nurture.files.rows import DroppedFile, typed_rows

SOURCE = DroppedFile("trade_show", "list.csv", "f" * 64)


def records(text: str):
    return read_records(io.StringIO(text, newline=""))


def header_of(text: str, sources, search_rows: int = 10) -> Header:
    return find_header(records(text), sources.lookup("trade_show"), search_rows)


def rows_of(text: str, sources) -> tuple[list[dict], Quarantine]:
    stream = records(text)
    header = find_header(stream, sources.lookup("trade_show"), 10)
    quarantine = Quarantine("files")
    return list(typed_rows(stream, header, SOURCE, quarantine)), quarantine


def test_title_lines_above_the_header_are_skipped(sources):
    header = header_of("来場者リスト 2026/10\n\n会社名,氏名,E-mail,部署\n", sources)
    assert header.row_number == 3
    assert header.columns == ("company", "full_name", "email", "department")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "会社名,氏名\n株式会社A,山田 太郎\n",
            "no e-mail header in the first 10 rows (found 会社名, 氏名)",
        ),
        ("a,b,c\n1,2,3\n", "no recognised header in the first 10 rows"),
        ("", "no recognised header in the first 10 rows"),
    ],
)
def test_without_an_email_header_there_is_no_header(sources, text, reason):
    with pytest.raises(HeaderNotFound, match=re.escape(reason)):
        header_of(text, sources)


def test_the_header_is_searched_in_the_first_rows_only(sources):
    with pytest.raises(HeaderNotFound):
        header_of("title\n" * 3 + "Email\n", sources, search_rows=3)


def test_rows_are_mapped_typed_and_keyed_by_record_number(sources):
    text = (
        "展示会名,来場日,会社名,氏名,メールアドレス,電話番号,アンケート,アンケート\n"
        "EXPO,2026/10/01, 株式会社A ,山田　太郎,Taro＠A.jp,03-0000-0000,MA,SFA\n"
        ",,,,,,,\n"
        "EXPO,令和8年10月2日,B社,Jane Doe,jane@b.example\n"
    )
    rows, quarantine = rows_of(text, sources)
    assert quarantine.rejected == []
    first, second = rows
    assert (first["file_sha256"], first["row_number"]) == (SOURCE.sha256, 2)
    assert first["company"] == "株式会社A"
    assert (first["last_name"], first["first_name"]) == ("山田", "太郎")
    assert first["email"] == "taro@a.jp"
    assert first["phone"] == "03-0000-0000"  # a phone number stays text: leading zeros
    assert first["extra"] == {"アンケート": "MA", "アンケート (2)": "SFA"}
    # the blank record 3 is skipped; a short record is padded with nulls
    assert second["row_number"] == 4
    assert (second["last_name"], second["first_name"]) == ("Doe", "Jane")
    assert str(second["met_on"]) == "2026-10-02"
    assert second["phone"] is None


def test_rejected_records_keep_their_payload_and_reason(sources):
    text = (
        "Company,Email,Visit Date\n"
        "A,,2026-10-01\n"
        "B,b(at)b.jp,2026-10-01\n"
        "C,c@c.jp,2026-02-30\n"
        "D,d@d.jp,2026-10-01,shifted\n"
        "E,e@e.jp,2026-10-01,,\n"
    )
    rows, quarantine = rows_of(text, sources)
    assert [row["row_number"] for row in rows] == [6]
    rejected = {r.record_key: r for r in quarantine.rejected}
    assert {key: r.reason for key, r in rejected.items()} == {
        "list.csv:2": "missing email",
        "list.csv:3": (
            "bad email: not an e-mail address (An email address must have an @-sign.): 'b(at)b.jp'"
        ),
        "list.csv:4": "bad met_on: not a date (day is out of range for month): '2026-02-30'",
        "list.csv:5": "row has 4 fields but the header has 3",
    }
    assert {r.object for r in quarantine.rejected} == {"trade_show"}
    assert json.loads(rejected["list.csv:5"].payload) == {
        "Company": "D",
        "Email": "d@d.jp",
        "Visit Date": "2026-10-01",
        "(beyond the header)": ["shifted"],
    }


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("B," + "x" * 1_000_000, "record of 1,000,003 characters, longer than 131,072"),
        ('B,"b@b.jp,unclosed', "a quoted field is never closed (unbalanced quote)"),
        ('B,"b@b.jp"x,oops', "unreadable CSV: ',' expected after '\"'"),
    ],
)
def test_one_bad_record_is_quarantined_alone_and_reading_goes_on(sources, bad_line, reason):
    good_after = "".join(f"C{i},c{i}@c.jp\n" for i in range(30))
    text = "Company,Email\nA,a@a.jp\n" + bad_line + "\n" + good_after
    rows, quarantine = rows_of(text, sources)
    assert [row["company"] for row in rows] == ["A", *(f"C{i}" for i in range(30))]
    (rejected,) = quarantine.rejected
    assert rejected.record_key == "list.csv:3"
    assert rejected.reason == reason
    payload = json.loads(rejected.payload)
    assert payload["raw"] == (bad_line + "\n")[:2000]
    assert payload["chars"] == len(bad_line) + 1


def test_quoted_fields_may_span_lines_and_nul_is_dropped(sources):
    text = 'Company,Email,Address\nA,a@a.jp,"1-2-3 Chiyoda\nTokyo ""HQ"""\nB\x00,b@b.jp,x\n'
    rows, quarantine = rows_of(text, sources)
    assert quarantine.rejected == []
    assert [row["company"] for row in rows] == ["A", "B"]
    assert [row["row_number"] for row in rows] == [2, 3]
