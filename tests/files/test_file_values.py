"""Values as people type them: e-mail addresses, dates in Japanese forms, names."""

from datetime import date

import pytest

from nurture.files.values import complete_names, normalise_email, parse_date, split_full_name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" Taro.Yamada＠Example.CO.JP ", "taro.yamada@example.co.jp"),
        ("ｉｃｈｉｒｏ．ｓｕｚｕｋｉ＠ｍｉｒａｉ．ｊｐ", "ichiro.suzuki@mirai.jp"),
        ("\u3000hanako@techlab.jp\u3000", "hanako@techlab.jp"),
        ("", None),
        (None, None),
    ],
)
def test_emails_are_normalised(typed, expected):
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "sho.mori(at)hooli.example",
        "a@b",
        "a@@b.jp",
        "山田 太郎",
        # accepted by the old pattern: a formula, spaces, a quoted-string trick, dots
        "=cmd|' /C calc'!A0@evil.co",
        "a..b@c.jp",
        ".a@c.jp",
        "a@-c.jp",
        "a b@c.jp",
    ],
)
def test_what_is_not_an_address_is_an_error(typed):
    with pytest.raises(ValueError, match="not an e-mail address"):
        normalise_email(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "2026/10/01",
        "2026-10-01",
        "2026.10.1",
        "2026年10月1日",
        "２０２６／１０／０１",
        "2026/10/01 9:30",
        "20261001",
        "令和8年10月1日",
        "㋿8年10月1日",
        "R8.10.1",
    ],
)
def test_dates_in_the_forms_lists_use(typed):
    assert parse_date(typed) == date(2026, 10, 1)


def test_first_years_of_an_era():
    assert parse_date("令和元年5月1日") == date(2019, 5, 1)
    assert parse_date("H31.4.30") == date(2019, 4, 30)


@pytest.mark.parametrize("typed", ["2026/13/45", "2026/02/30", "26/10/01", "来週", "10月1日"])
def test_what_is_not_a_date_is_an_error(typed):
    with pytest.raises(ValueError, match="not a date"):
        parse_date(typed)


@pytest.mark.parametrize(
    ("full_name", "last_first"),
    [
        ("山田 太郎", ("山田", "太郎")),
        ("山田\u3000太郎", ("山田", "太郎")),
        ("Taro Yamada", ("Yamada", "Taro")),
        ("Yamada, Taro", ("Yamada", "Taro")),
        ("José María García", ("García", "José María")),
        ("山田太郎", (None, None)),
    ],
)
def test_full_names_split_in_their_script_order(full_name, last_first):
    assert split_full_name(full_name) == last_first


def test_names_complete_each_other():
    split = {"full_name": "佐藤　花子", "last_name": None, "first_name": None}
    complete_names(split)
    assert (split["last_name"], split["first_name"]) == ("佐藤", "花子")
    joined = {"full_name": None, "last_name": "Brown", "first_name": "Emily"}
    complete_names(joined)
    assert joined["full_name"] == "Emily Brown"
    kept = {"full_name": "山田 太郎", "last_name": "山田", "first_name": None}
    complete_names(kept)
    assert kept["first_name"] is None
