"""Identity normalisation is true Unicode NFKC, the same on DuckDB and PostgreSQL.

DuckDB used to fold only full-width ASCII and ㈱/㈲ with `translate`: half-width
katakana, ㍿ and other compatibility forms were left as they were, so the two
warehouses could resolve the same people differently.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from nurture.transform.dbt import dbt_args, dbt_env
from tests.conftest import scratch_database, settings_for

# Japanese company and person forms as they arrive from forms, badges and card scans
FORMS = [
    "ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼｮｳｼﾞ",  # half-width katakana, voiced marks as separate characters
    "㈱山田商事",  # parenthesised ideograph
    "山田商事㍿",  # square 株式会社
    "㈲佐藤製作所",
    "ＡＢＣ　Ｃｏ．，Ｌｔｄ．",  # full-width letters, ideographic space
    "ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ",
    "Ｔｅｌ：０３－１２３４－５６７８",
    "ﾊﾟｰｿﾙ ｷｬﾘｱ",
    "①②③ ⅢⅣ ㌔㍍",  # circled digits, roman numerals, square units
    "Ａ\u00a0Ｂ",  # no-break space
    "ﬁnance ﬂow",  # ligatures
    "髙橋 﨑",  # ideographs without compatibility decompositions stay
    "already plain",
]


def _normalised(settings) -> list[str | None]:
    values = " union all ".join(f"select {i} as i, '{text}' as t" for i, text in enumerate(FORMS))
    sql = f"select i, {{{{ nfkc('t') }}}} as n from ({values}) as forms order by i"
    work_dir = settings.home / "dbt-nfkc"
    args = [
        *dbt_args("show", settings, work_dir),
        "--inline",
        sql,
        "--limit",
        str(len(FORMS)),
        "--output",
        "json",
        "--log-format",
        "json",
    ]
    result = dbtRunner().invoke(args)
    assert result.success, result.exception
    table = result.result.results[0].agate_table
    return [row["n"] for row in table]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path: Path, monkeypatch) -> Iterator:
    if request.param == "duckdb":
        chosen = settings_for(tmp_path, "duckdb")
        for name, value in dbt_env(chosen).items():
            monkeypatch.setenv(name, value)
        yield chosen
        return
    with scratch_database("nurture_nfkc") as database:
        chosen = settings_for(tmp_path, "postgres", database)
        for name, value in dbt_env(chosen).items():
            monkeypatch.setenv(name, value)
        yield chosen


def test_nfkc_macro_equals_python_on_each_warehouse(settings):
    expected = [unicodedata.normalize("NFKC", text) for text in FORMS]
    got = _normalised(settings)
    assert got == expected, json.dumps(
        [(f, g, e) for f, g, e in zip(FORMS, got, expected, strict=True) if g != e],
        ensure_ascii=False,
    )
    # the forms the old DuckDB translate() missed
    assert got[0] == "カブシキガイシャ ヤマダショウジ"
    assert got[2] == "山田商事株式会社"
    assert got[7] == "パーソル キャリア"
