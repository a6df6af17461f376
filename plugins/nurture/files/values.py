"""Typing the values people type: e-mail addresses, dates in Japanese forms, names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Any, Literal

DateFormat = Literal["ymd", "dmy", "mdy", "japanese"]
DEFAULT_DATE_FORMATS: tuple[DateFormat, ...] = ("ymd", "japanese")

_TIME = r"(?:(?:\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
# ymd: 2026/10/01, 2026-10-01, 2026.10.1, 20261001, ISO 2026-10-01T09:30:00
_YMD = re.compile(
    r"(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<day>\d{1,2})" + _TIME
)
_COMPACT_DATE = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})" + _TIME)
# dmy / mdy: 01-10-2026, 1/10/2026 9:30 (which is day and which month, the format says)
_XXY = re.compile(r"(?P<a>\d{1,2})\s*[-/.]\s*(?P<b>\d{1,2})\s*[-/.]\s*(?P<year>\d{4})" + _TIME)
# japanese: 2026年10月1日, 令和8年10月1日, R8.10.1, H31/4/30 (an era, or 年月日)
_JAPANESE = re.compile(
    r"(?:(?P<era>令和|平成|R|H)\s*)?(?P<year>\d{1,4}|元)\s*年\s*(?P<month>\d{1,2})\s*月\s*"
    r"(?P<day>\d{1,2})\s*日"
    + _TIME
    + r"|(?P<era2>令和|平成|R|H)\s*(?P<year2>\d{1,2}|元)\s*[-/.]\s*(?P<month2>\d{1,2})\s*[-/.]\s*"
    r"(?P<day2>\d{1,2})"
    + _TIME.replace("?P<hour>", "?P<hour2>")
    .replace("?P<minute>", "?P<minute2>")
    .replace("?P<second>", "?P<second2>"),
    re.IGNORECASE,
)
# The year before an era's first year: 令和元年 is 2019, 平成元年 1989.
_ERA_OFFSET = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}


def normalise_email(value: str | None) -> str | None:
    """NFKC (full-width ＠ and letters to ASCII), trimmed, lowercase; an error if not an
    address by the e-mail RFCs' syntax (email-validator; no DNS lookup: a lead list is
    imported offline, and a domain without mail servers today is still the lead's)."""
    from email_validator import EmailNotValidError, validate_email

    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if not text:
        return None
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not an e-mail address ({exc}): {value!r}") from exc
    return checked.normalized.lower()


class AmbiguousDate(ValueError):
    """A date both day-first and month-first read, differently."""


def _parts(
    text: str, formats: tuple[str, ...] | list[str]
) -> list[tuple[int, int, int, time | None]]:
    """(year, month, day, time) readings of `text` in the allowed formats."""
    found = []

    def when(groups: dict[str, Any], suffix: str = "") -> time | None:
        hour = groups.get("hour" + suffix)
        if hour is None:
            return None
        second = groups.get("second" + suffix)
        return time(int(hour), int(groups["minute" + suffix]), int(second or 0))

    if "ymd" in formats:
        match = _YMD.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
        if match:
            g = match.groupdict()
            found.append((int(g["year"]), int(g["month"]), int(g["day"]), when(g)))
    if "japanese" in formats and (match := _JAPANESE.fullmatch(text)):
        g = match.groupdict()
        suffix = "" if g["year"] is not None else "2"
        era = g["era" if not suffix else "era2"]
        raw_year = g["year" + suffix]
        year = 1 if raw_year == "元" else int(raw_year)
        if era:
            year += _ERA_OFFSET[era.lower()]
        found.append((year, int(g["month" + suffix]), int(g["day" + suffix]), when(g, suffix)))
    if match := _XXY.fullmatch(text):
        g = match.groupdict()
        a, b, year = int(g["a"]), int(g["b"]), int(g["year"])
        if "dmy" in formats:
            found.append((year, b, a, when(g)))
        if "mdy" in formats:
            found.append((year, a, b, when(g)))
    return found


def parse_when(
    value: Any, formats: tuple[str, ...] | list[str] = DEFAULT_DATE_FORMATS
) -> tuple[date, time | None] | None:
    """The date (and time of day, if written) of a value in one of `formats`; an error if
    it is none of them, or if two formats read it as different dates (`AmbiguousDate`).
    Excel's typed dates and datetimes are taken as they are."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date(), (value.time() if value.time() != time() else None)
    if isinstance(value, date):
        return value, None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    if not value.strip():
        return None
    text = unicodedata.normalize("NFKC", value).strip()  # ㋿ becomes 令和, ２０２６ 2026
    readings = _parts(text, formats)
    if not readings:
        raise ValueError(f"not a date (expected {' or '.join(formats)}): {value!r}")
    valid: dict[date, time | None] = {}
    problem = None
    for year, month, day, at in readings:
        if year < 1000:
            problem = "give the year in full or with its era"
            continue
        try:
            valid.setdefault(date(year, month, day), at)
        except ValueError as exc:
            problem = str(exc)
    if not valid:
        raise ValueError(f"not a date ({problem}): {value!r}")
    if len(valid) > 1:
        days = " or ".join(d.isoformat() for d in valid)
        raise AmbiguousDate(f"ambiguous date, day-first or month-first ({days}): {value!r}")
    ((day_, at),) = valid.items()
    return day_, at


def parse_date(
    value: Any, formats: tuple[str, ...] | list[str] = DEFAULT_DATE_FORMATS
) -> date | None:
    """A date in one of `formats` (a time of day, if written, is dropped)."""
    when = parse_when(value, formats)
    return None if when is None else when[0]


def parse_timestamp(
    value: Any, formats: tuple[str, ...] | list[str] = DEFAULT_DATE_FORMATS
) -> datetime | None:
    """A date and time of day as written (midnight when only a date is written)."""
    when = parse_when(value, formats)
    if when is None:
        return None
    return datetime.combine(when[0], when[1] or time())


_WON = {"受注", "成約", "won", "win", "1", "true", "yes", "closedwon"}
_LOST = {"失注", "lost", "lose", "loss", "0", "false", "no", "closedlost"}


def parse_outcome(value: Any) -> str | None:
    """'won' or 'lost' from 受注/失注, won/lost, 1/0, true/false (Excel's TRUE/FALSE too)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "won" if value else "lost"
    if isinstance(value, int | float):
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = "".join(unicodedata.normalize("NFKC", str(value)).casefold().split())
    text = text.replace("-", "").replace("_", "")
    if not text:
        return None
    if text in _WON:
        return "won"
    if text in _LOST:
        return "lost"
    raise ValueError(f"not won or lost (受注/失注, won/lost, 1/0, true/false): {value!r}")


def parse_amount(value: Any) -> float | None:
    """A number: Excel's as it is, text without thousands separators or currency marks
    ("¥1,200,000", "1200000円")."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    cleaned = re.sub(r"[,\s¥$€円]|JPY|USD", "", text, flags=re.IGNORECASE)
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"not an amount: {value!r}") from None


def as_text(value: Any) -> str:
    """A cell as text: Excel's numbers without a spurious ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_latin(text: str) -> bool:
    return all(ord(char) < 0x0250 for char in text if char.isalpha())


def split_full_name(full_name: str) -> tuple[str | None, str | None]:
    """(last, first) from "山田 太郎" (any space, full-width too), "Taro Yamada" or
    "Yamada, Taro"; (None, None) when there is nothing to split on ("山田太郎")."""
    if "," in full_name:
        last, first = (part.strip() for part in full_name.split(",", 1))
        return last or None, first or None
    parts = full_name.split()  # str.split() also splits on the ideographic space U+3000
    if len(parts) < 2:
        return None, None
    if _is_latin(full_name):
        return parts[-1], " ".join(parts[:-1])
    return parts[0], " ".join(parts[1:])


def join_name(last: str | None, first: str | None) -> str:
    """The full name in the order its script uses: 山田 太郎, Taro Yamada."""
    parts = [part for part in (last, first) if part]
    if _is_latin("".join(parts)):
        parts.reverse()
    return " ".join(parts)


def complete_names(row: dict[str, str | None]) -> None:
    """Fill last/first from full_name when both are absent, and full_name from them."""
    full, last, first = row.get("full_name"), row.get("last_name"), row.get("first_name")
    if full and not (last or first):
        row["last_name"], row["first_name"] = split_full_name(full)
    elif not full and (last or first):
        row["full_name"] = join_name(last, first)
