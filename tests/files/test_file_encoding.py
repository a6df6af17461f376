"""Encodings of dropped files: UTF-8 with or without BOM, cp932, or none that reads."""

import pytest

from nurture.files.encoding import SAMPLE_BYTES, detect_encoding
from tests.files.dropped import FIXTURES

CANDIDATES = ["utf_8", "cp932"]


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("trade_show_japan_it_week_2026.csv", "utf-8-sig"),
        ("tradeshow_cloud_expo_bad_rows.csv", "utf-8"),
        # ㈱ and 髙 exist in cp932 only, not in plain Shift_JIS
        ("sansan_export_202610.csv", "cp932"),
        ("business_cards_corrupt.csv", None),
    ],
)
def test_fixtures(name, encoding):
    assert detect_encoding(FIXTURES / name, CANDIDATES) == encoding


def test_short_japanese_cp932_is_not_taken_for_utf8(tmp_path):
    path = tmp_path / "meishi.csv"
    path.write_bytes("姓,名,メール\n山田,太郎,t@x.jp\n".encode("cp932"))
    assert detect_encoding(path, CANDIDATES) == "cp932"


def test_a_bad_byte_beyond_the_sample_rejects_the_whole_file(tmp_path):
    line = "会社名,メールアドレス\n".encode()
    body = line * (2 * SAMPLE_BYTES // len(line))
    path = tmp_path / "late.csv"
    path.write_bytes(body + b"\xff\xfe,x@y.jp\n")
    assert detect_encoding(path, CANDIDATES) is None
    path.write_bytes(body)
    assert detect_encoding(path, CANDIDATES) == "utf-8"


def test_an_empty_file_reads_as_utf8(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert detect_encoding(path, CANDIDATES) == "utf-8"
