"""Typing the values people type: e-mail addresses, dates in Japanese forms, names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# 2026/10/01, 2026-10-01, 2026.10.1, 2026年10月1日, 令和8年10月1日, R8.10.1, with an
# optional time (Excel writes "2026/10/01 9:30"); 20261001.
_DATE = re.compile(
    r"(?:(?P<era>令和|平成|R|H)\s*)?(?P<year>\d{1,4}|元)\s*[-/.年]\s*(?P<month>\d{1,2})\s*"
    r"[-/.月]\s*(?P<day>\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?",
    re.IGNORECASE,
)
_COMPACT_DATE = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})")
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


def parse_date(value: str | None) -> date | None:
    """A date in the forms Japanese lists use (see `_DATE`); an error if it is not one."""
    if value is None or not value.strip():
        return None
    text = unicodedata.normalize("NFKC", value).strip()  # ㋿ becomes 令和, ２０２６ 2026
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date: {value!r}")
    parts = match.groupdict()
    year = 1 if parts["year"] == "元" else int(parts["year"])
    if parts.get("era"):
        year += _ERA_OFFSET[parts["era"].lower()]
    elif year < 1000:
        raise ValueError(f"not a date (give the year in full or with its era): {value!r}")
    try:
        return date(year, int(parts["month"]), int(parts["day"]))
    except ValueError as exc:
        raise ValueError(f"not a date ({exc}): {value!r}") from exc


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
