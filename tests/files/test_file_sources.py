"""include/files/sources.yaml: what it maps, and errors that name the line and field."""

import unicodedata
from pathlib import Path

import pytest

from nurture.files.sources import SOURCES_PATH, SourcesError, load_sources


def test_shipped_sources_map_japanese_and_english_headers(sources):
    assert list(sources.kinds) == [
        "trade_show",
        "business_cards",
        "leads",
        "outcomes",
        "activities",
    ]
    trade_show = sources.lookup("trade_show")
    assert trade_show["メールアドレス"] == trade_show["e-mail"] == "email"
    assert trade_show["会社名"] == "company"
    assert trade_show["展示会名"] == "event_name"
    cards = sources.lookup("business_cards")
    assert cards["部署名"] == "department"
    assert cards["名刺交換日"] == "met_on"
    assert "展示会名" not in cards


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("trade_show_japan_it_week_2026.csv", "trade_show"),
        ("IT週間_来場者リスト.csv", "trade_show"),
        ("Sansan_Export_202610.CSV", "business_cards"),
        # macOS writes decomposed (NFD) names: デ arrives as テ + a combining mark
        (unicodedata.normalize("NFD", "名刺データ_2026.csv"), "business_cards"),
        ("notes.txt", None),
    ],
)
def test_kinds_are_matched_by_glob(sources, name, kind):
    assert sources.kind_of(name) == kind


def edited(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = SOURCES_PATH.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def line_with(text: str, needle: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "  department: [部署",
            "  departmnt: [部署",
            "departmnt:",
            "field headers.departmnt: Value error, unknown column 'departmnt'",
        ),
        ("settle_seconds: 60", "settle_seconds: -1", "settle_seconds", "field settle_seconds: "),
        (
            "encodings: [utf_8, cp932]",
            "encodings: [utf_8, sjis-ish]",
            "encodings",
            "field encodings: Value error, 'sjis-ish' is not an encoding Python knows",
        ),
        (
            "  trade_show:\n",
            "  Trade-Show:\n",
            "Trade-Show:",
            "field kinds.Trade-Show: Value error, kind 'Trade-Show' names a table",
        ),
        (
            "    globs: [sansan*.csv, eight*.csv, 名刺*.csv, business_cards*.csv,\n"
            "            sansan*.xlsx, eight*.xlsx, 名刺*.xlsx, business_cards*.xlsx]",
            "    globs: []",
            "globs: []",
            "field kinds.business_cards.globs: List should have at least 1 item",
        ),
        (
            "      owner: [所有者,",
            "      owner: [会社名, 所有者,",
            "kinds:",
            "field kinds: Value error, kind business_cards: header '会社名' is mapped to both "
            "company and owner",
        ),
    ],
)
def test_errors_name_line_and_field(tmp_path, old, new, needle, message):
    path, text = edited(tmp_path, old, new)
    with pytest.raises(SourcesError) as err:
        load_sources(path)
    assert f"{path}: line {line_with(text, needle)}, {message}" in str(err.value)


def test_a_kind_needs_an_email_header(tmp_path):
    path, _ = edited(
        tmp_path,
        "  email: [メールアドレス, メール, Eメール, E-mail, Email, Email Address, Mail]\n",
        "",
    )
    with pytest.raises(SourcesError, match="kind trade_show: no header is mapped to email"):
        load_sources(path)


def test_unknown_field_is_refused(tmp_path):
    path, _ = edited(tmp_path, "settle_seconds: 60", "settle_seconds: 60\ndrop_dir: /x")
    with pytest.raises(SourcesError, match="field drop_dir: Extra inputs are not permitted"):
        load_sources(path)


def test_broken_yaml_and_missing_file_are_one_sentence(tmp_path):
    path, _ = edited(tmp_path, "kinds:\n", "kinds: [\n")
    with pytest.raises(SourcesError, match="not valid YAML"):
        load_sources(path)
    with pytest.raises(SourcesError, match="cannot read file sources"):
        load_sources(tmp_path / "nope.yaml")
