"""Files a Japanese B2B team keeps outside Marketo, HubSpot and Salesforce, made from a world.

``nurture sandbox export`` writes, for the world of a seed and size:

* ``leads``: one row per person, keyed by the export's own ``リードID`` (``L-000123``,
  numbered in registration order, not the world's person id). Only about
  ``EMAIL_SHARE`` of the rows carry a ``メールアドレス``, so identity matching reaches
  some people only. ``流入元`` is free text derived from the lead source;
  ``ランディングページ`` is the first page the person was seen on, for web-born leads.
* ``outcomes``: the closed new-business deals of those leads, won (受注) or lost (失注).
* ``activities``: the Marketo activities of those leads, by ``リードID``.
* ``model``: one row per lead for model evaluation: the lead's attributes, engagement
  counts, the label ``受注`` (1/0) and ``受注金額``, deliberately leaky (known only
  once the deal is won: exclude it with ``nurture model evaluate --exclude``).

CSV files are UTF-8 with a BOM (so Excel in Japan opens them as such); ``xlsx`` writes
workbooks with openpyxl in write-only mode, holding real date cells. Dates are ISO
(``2026-03-01 10:23``) or day-first (``01-03-2026 10:23``). Rows come from DuckDB a page
at a time, so a world of a million leads exports in flat memory. The same world gives
the same files: every per-person choice is a hash of the seed and the person's id.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from nurture.sandbox import names as nm
from nurture.sandbox.world import WorldError

FORMATS = ("csv", "xlsx")
DATE_STYLES = ("iso", "dmy")
EXPORTS = ("leads", "outcomes", "activities", "model")
PAGE = 5000
EMAIL_SHARE = 0.3
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included

_PY_FORMATS = {
    "iso": ("%Y-%m-%d %H:%M", "%Y-%m-%d"),
    "dmy": ("%d-%m-%Y %H:%M", "%d-%m-%Y"),
}
_XLSX_FORMATS = {
    "iso": ("yyyy-mm-dd hh:mm", "yyyy-mm-dd"),
    "dmy": ("dd-mm-yyyy hh:mm", "dd-mm-yyyy"),
}

INDUSTRY_JA: dict[str, str] = {
    "Manufacturing": "製造業",
    "Software": "ソフトウェア・IT",
    "Financial Services": "金融・保険",
    "Retail": "小売・流通",
    "Healthcare": "医療・ヘルスケア",
    "Logistics": "運輸・物流",
    "Construction": "建設・不動産",
    "Education": "教育",
    "Media": "メディア・広告",
    "Public Sector": "官公庁・自治体",
}
ACTIVITY_JA: dict[int, str] = {
    1: "Web訪問",
    2: "フォーム送信",
    6: "メール送信",
    7: "メール配信",
    8: "メール不達",
    9: "配信停止",
    10: "メール開封",
    11: "メールクリック",
    12: "リード登録",
}
STATUS_JA: dict[str, str] = {
    "Invited": "招待",
    "Registered": "申込",
    "Attended": "参加",
    "No Show": "欠席",
    "Sent": "送付",
    "Responded": "反応",
    "Called": "架電",
    "Connected": "通話",
    "Visited Booth": "ブース来訪",
    "Member": "メンバー",
}
# 流入元 per world lead source: (free-text value, share in thousandths) in order.
SOURCE_JA: dict[str, tuple[tuple[str, int], ...]] = {
    "Web": (("Webフォーム", 550), ("お問い合わせ", 250), ("メルマガ", 200)),
    "Trade Show": (("展示会", 1000),),
    "Webinar": (("ウェビナー", 1000),),
    "Content Download": (("資料請求", 1000),),
    "Paid Social": (("広告", 650), ("SNS広告", 350)),
    "Partner": (("紹介", 1000),),
    "List Import": (("名刺交換", 1000),),
}
# Landing pages of the leads born on the web; the others came in offline.
_WEB_SOURCES = ("Web", "Paid Social")
_FIXED_LANDING = {"Webinar": "/webinars", "Content Download": "/resources/whitepaper"}
# Activities that are the person's own doing (for 最終接触日) and event attendance.
_TOUCH_TYPES = "(1, 2, 10, 11)"
_ATTENDED = "('Attended', 'Visited Booth')"
_TOUCH_STATUSES = "('Attended', 'Visited Booth', 'Responded', 'Connected')"
# Responses (最終反応日): e-mail clicks, whitepaper downloads, webinars attended.
_RESPONSE = (
    "a.activity_type_id = 11 or (a.activity_type_id = 2 and a.primary_attribute_value = "
    "'Whitepaper Download') or (a.activity_type_id = 104 and a.new_status = 'Attended' "
    "and c.channel = 'webinar')"
)

LEAD_COLUMNS = (
    "リードID",
    "メールアドレス",
    "登録日時",
    "流入元",
    "ランディングページ",
    "会社名",
    "業種",
    "従業員数",
    "部署",
    "役職",
)
OUTCOME_COLUMNS = ("リードID", "結果", "結果日", "金額", "セグメント")
ACTIVITY_COLUMNS = ("リードID", "種別", "日時", "キャンペーン")
MODEL_COLUMNS = (
    "リードID",
    "登録日時",
    "流入元",
    "ランディングページ",
    "会社名",
    "業種",
    "従業員数",
    "部署",
    "役職",
    "Web訪問数",
    "フォーム送信数",
    "メール開封数",
    "メールクリック数",
    "イベント参加数",
    "配信停止",
    "最終接触日",
    "最終反応日",
    "受注",
    "受注金額",
)
LABEL_COLUMN = "受注"
LEAKY_COLUMN = "受注金額"


@dataclass(frozen=True)
class Written:
    """One exported file and its data rows."""

    name: str
    path: Path
    rows: int


def _draw(salt: int, seed: int) -> str:
    """SQL for a per-person draw in 0..999, fixed by the seed and the person id."""
    return (
        f"((p.person_id * 2654435761 + {int(salt)} * 40503 + {int(seed)} * 69069) "
        "% 4294967291 % 1000)"
    )


def _values(pairs: Sequence[tuple[Any, ...]], columns: str) -> str:
    def lit(v: Any) -> str:
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    rows = ", ".join("(" + ", ".join(lit(v) for v in pair) + ")" for pair in pairs)
    return f"(SELECT * FROM (VALUES {rows}) AS t({columns}))"


def _source_sql(seed: int) -> str:
    draw = _draw(2, seed)
    whens = []
    for source, choices in SOURCE_JA.items():
        src = source.replace("'", "''")
        if len(choices) == 1:
            whens.append(f"when p.lead_source = '{src}' then '{choices[0][0]}'")
            continue
        parts, upto = [], 0
        for text, share in choices[:-1]:
            upto += share
            parts.append(f"when {draw} < {upto} then '{text}'")
        inner = " ".join(parts) + f" else '{choices[-1][0]}'"
        whens.append(f"when p.lead_source = '{src}' then (case {inner} end)")
    return "case " + " ".join(whens) + " else 'その他' end"


def _landing_sql() -> str:
    site = f"https://{nm.SITE}"
    fixed = " ".join(
        f"when p.lead_source = '{src}' then '{site}{path}'" for src, path in _FIXED_LANDING.items()
    )
    web = ", ".join(f"'{s}'" for s in _WEB_SOURCES)
    return f"case {fixed} when p.lead_source in ({web}) then coalesce(fv.url, '{site}/') end"


def _setup(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Temp tables: the export ids, vocabularies, first visits and engagement counts."""
    count = int(con.execute("select count(*) from w.persons").fetchone()[0])
    width = max(6, len(str(count)))
    con.execute(f"""
        CREATE TEMP TABLE ids AS
        select person_id, lead_no,
            'L-' || lpad(cast(lead_no as varchar), {width}, '0') as lead_id
        from (select person_id, row_number() over (order by created_at, person_id) as lead_no
              from w.persons)""")
    industries = _values(list(INDUSTRY_JA.items()), "en, ja")
    departments = _values([(d[1], d[0]) for d in nm.DEPARTMENTS], "en, ja")
    seniority = _values([(s[1], s[0]) for s in nm.SENIORITY], "en, ja")
    con.execute(f"CREATE TEMP TABLE industry_ja AS {industries}")
    con.execute(f"CREATE TEMP TABLE department_ja AS {departments}")
    con.execute(f"CREATE TEMP TABLE seniority_ja AS {seniority}")
    con.execute(f"CREATE TEMP TABLE activity_ja AS {_values(list(ACTIVITY_JA.items()), 'id, ja')}")
    con.execute(f"CREATE TEMP TABLE status_ja AS {_values(list(STATUS_JA.items()), 'en, ja')}")
    con.execute("""
        CREATE TEMP TABLE person_lead AS
        select id as lead_id, person_id from w.mkto_lead""")
    con.execute("""
        CREATE TEMP TABLE first_visit AS
        select m.person_id, min_by(a.webpage_url, a.id) as url
        from w.activities as a join person_lead as m on m.lead_id = a.lead_id
        where a.activity_type_id = 1
        group by m.person_id""")
    con.execute(f"""
        CREATE TEMP TABLE engagement AS
        select m.person_id,
            count(*) filter (where a.activity_type_id = 1) as visits,
            count(*) filter (where a.activity_type_id = 2) as forms,
            count(*) filter (where a.activity_type_id = 10) as opens,
            count(*) filter (where a.activity_type_id = 11) as clicks,
            count(*) filter (where a.activity_type_id = 104 and a.new_status in {_ATTENDED})
                as events,
            bool_or(a.activity_type_id = 9) as unsubscribed,
            max(a.activity_date) filter (where a.activity_type_id in {_TOUCH_TYPES}
                or (a.activity_type_id = 104 and a.new_status in {_TOUCH_STATUSES}))
                as last_touch,
            max(a.activity_date) filter (where {_RESPONSE}) as last_response
        from w.activities as a join person_lead as m on m.lead_id = a.lead_id
        left join w.campaigns as c on c.campaign_id = a.campaign_id
        group by m.person_id""")
    con.execute(f"""
        CREATE TEMP TABLE lead_rows AS
        select i.lead_no, i.lead_id, p.person_id,
            case when {_draw(1, seed)} < {round(EMAIL_SHARE * 1000)} then p.email end as email,
            date_trunc('minute', p.created_at) as created_at,
            {_source_sql(seed)} as source,
            {_landing_sql()} as landing_page,
            c.name as company,
            coalesce(ij.ja, c.industry) as industry,
            c.employee_count as employees,
            case when p.is_japanese then dj.ja else p.department end as department,
            case when p.is_japanese then sj.ja else p.seniority end as seniority
        from ids as i
        join w.persons as p on p.person_id = i.person_id
        join w.companies as c on c.company_id = p.company_id
        left join industry_ja as ij on ij.en = c.industry
        left join department_ja as dj on dj.en = p.department
        left join seniority_ja as sj on sj.en = p.seniority
        left join first_visit as fv on fv.person_id = p.person_id""")


_QUERIES: dict[str, str] = {
    "leads": """
        select lead_id, email, created_at, source, landing_page, company, industry,
            employees, department, seniority
        from lead_rows order by lead_no""",
    "outcomes": """
        select l.lead_id, case when o."IsWon" then '受注' else '失注' end, o."CloseDate",
            cast(round(o."Amount") as bigint),
            case when l.employees >= 1000 then 'エンタープライズ'
                 when l.employees >= 250 then '中堅企業'
                 when l.employees >= 50 then '中小企業'
                 else '小規模' end
        from w.sf_opportunity as o
        join lead_rows as l on l.person_id = try_cast(substr(o."Id", 6, 10) as bigint)
        where substr(o."Id", 1, 3) = '006' and o."Type" = 'New Customer' and o."IsClosed"
            and not o."IsDeleted"
        order by l.lead_no""",
    "activities": """
        select i.lead_id,
            case when a.activity_type_id = 104 then coalesce(s.ja, a.new_status)
                 else coalesce(t.ja, cast(a.activity_type_id as varchar)) end,
            a.activity_date, c.name
        from w.activities as a
        join person_lead as m on m.lead_id = a.lead_id
        join ids as i on i.person_id = m.person_id
        left join activity_ja as t on t.id = a.activity_type_id
        left join status_ja as s on s.en = a.new_status
        left join w.campaigns as c on c.campaign_id = a.campaign_id
        order by i.lead_no, a.id""",
    "model": """
        select l.lead_id, l.created_at, l.source, l.landing_page, l.company, l.industry,
            l.employees, l.department, l.seniority,
            coalesce(e.visits, 0), coalesce(e.forms, 0), coalesce(e.opens, 0),
            coalesce(e.clicks, 0), coalesce(e.events, 0),
            case when coalesce(e.unsubscribed, false) then 1 else 0 end,
            date_trunc('minute', e.last_touch), date_trunc('minute', e.last_response),
            case when p.won then 1 else 0 end,
            case when p.won then cast(round(p.won_amount) as bigint) end
        from lead_rows as l
        join w.persons as p on p.person_id = l.person_id
        left join engagement as e on e.person_id = l.person_id
        order by l.lead_no""",
}
_HEADERS: dict[str, tuple[str, ...]] = {
    "leads": LEAD_COLUMNS,
    "outcomes": OUTCOME_COLUMNS,
    "activities": ACTIVITY_COLUMNS,
    "model": MODEL_COLUMNS,
}


def _pages(con: duckdb.DuckDBPyConnection, sql: str, page: int) -> Iterator[list[tuple]]:
    result = con.execute(sql)
    while True:
        rows = result.fetchmany(page)
        if not rows:
            return
        yield rows


class _CsvSink:
    def __init__(self, path: Path, header: Sequence[str], dates: str) -> None:
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file, lineterminator="\r\n")
        self._writer.writerow(header)
        self._ts_format, self._date_format = _PY_FORMATS[dates]

    def _cell(self, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime(self._ts_format)
        if isinstance(value, date):
            return value.strftime(self._date_format)
        return value

    def write(self, rows: list[tuple]) -> None:
        self._writer.writerows([self._cell(v) for v in row] for row in rows)

    def close(self) -> None:
        self._file.close()

    abort = close


class _XlsxSink:
    def __init__(self, path: Path, header: Sequence[str], dates: str, sheet: str) -> None:
        from openpyxl import Workbook

        self._path = path
        self._book = Workbook(write_only=True)
        self._header = list(header)
        self._sheet_name = sheet
        self._sheets = 0
        self._ts_format, self._date_format = _XLSX_FORMATS[dates]
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._sheets += 1
        title = self._sheet_name if self._sheets == 1 else f"{self._sheet_name}_{self._sheets}"
        self._sheet = self._book.create_sheet(title)
        self._sheet.append(self._header)
        self._rows = 1

    def _cell(self, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, datetime):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = self._ts_format
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = self._date_format
            return cell
        return value

    def write(self, rows: list[tuple]) -> None:
        for row in rows:
            if self._rows >= XLSX_MAX_ROWS:  # Excel's limit: go on in a new sheet
                self._new_sheet()
            self._sheet.append([self._cell(v) for v in row])
            self._rows += 1

    def close(self) -> None:
        self._book.save(self._path)

    def abort(self) -> None:
        self._book.close()


def write_exports(
    world: Path | str,
    out_dir: Path | str,
    fmt: str = "csv",
    dates: str = "iso",
    only: Sequence[str] = EXPORTS,
    page: int = PAGE,
) -> list[Written]:
    """Write the exports of a built world into ``out_dir``; returns what was written."""
    if fmt not in FORMATS:
        raise WorldError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    if dates not in DATE_STYLES:
        raise WorldError(f"--dates must be one of {', '.join(DATE_STYLES)}, not {dates!r}.")
    unknown = [name for name in only if name not in EXPORTS]
    if unknown:
        raise WorldError(f"unknown export(s) {', '.join(unknown)}; choose from {EXPORTS}.")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise WorldError(f"--out {out} is a file, not a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorldError(f"cannot create --out {out}: {exc.strerror}.") from exc
    written: list[Written] = []
    spill = tempfile.TemporaryDirectory(prefix="nurture-export-")
    con = duckdb.connect()
    try:
        # A fixed memory budget: the sorts and temp tables spill to disk instead of growing.
        con.execute("SET memory_limit = '512MB'")
        con.execute(f"SET temp_directory = '{_sql_text(spill.name)}'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{_sql_text(str(world))}' AS w (READ_ONLY)")
        meta = dict(con.execute("select key, value from w.meta").fetchall())
        _setup(con, int(meta.get("seed", "0")))
        for name in EXPORTS:
            if name in only:
                written.append(_write_one(con, name, out, fmt, dates, page))
    finally:
        con.close()
        spill.cleanup()
    return written


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _write_one(
    con: duckdb.DuckDBPyConnection, name: str, out: Path, fmt: str, dates: str, page: int
) -> Written:
    target = out / f"{name}.{fmt}"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    header = _HEADERS[name]
    sink = _CsvSink(tmp, header, dates) if fmt == "csv" else _XlsxSink(tmp, header, dates, name)
    rows = 0
    try:
        for chunk in _pages(con, _QUERIES[name], page):
            sink.write(chunk)
            rows += len(chunk)
    except BaseException:
        sink.abort()
        tmp.unlink(missing_ok=True)
        raise
    sink.close()
    os.replace(tmp, target)
    return Written(name, target, rows)


__all__ = [
    "DATE_STYLES",
    "EXPORTS",
    "FORMATS",
    "LABEL_COLUMN",
    "LEAKY_COLUMN",
    "Written",
    "write_exports",
]
