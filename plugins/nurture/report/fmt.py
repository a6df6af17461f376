"""Numbers, dates and text as each language writes them; no value is ever printed as
`None` or `NaN` (a missing value is a dash)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")
MISSING = "—"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def number(value: object) -> float | None:
    """The value as a float, or None when it is missing (None, NaN, infinite, not a number)."""
    return float(value) if is_number(value) else None  # type: ignore[arg-type]


def pct(value: float | None, lang: Lang = "ja", digits: int | None = None) -> str:
    """0.0123 → 1.23%; small rates keep two decimals, larger ones one."""
    v = number(value)
    if v is None:
        return MISSING
    share = v * 100
    if digits is None:
        digits = 2 if abs(share) < 10 else 1
    return f"{share:,.{digits}f}%"


def integer(value: float | None, lang: Lang = "ja") -> str:
    v = number(value)
    return MISSING if v is None else f"{round(v):,}"


def days(value: float | None, lang: Lang = "ja") -> str:
    v = number(value)
    if v is None:
        return MISSING
    return f"{v:,.1f}日" if lang == "ja" else f"{v:,.1f} days"


def money(value: float | None, lang: Lang = "ja") -> str:
    """Yen: 1,234万円 / 1.2億円 in Japanese, ¥12.3M / ¥1.2B in English."""
    amount = number(value)
    if amount is None:
        return MISSING
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if lang == "ja":
        if amount >= 1e8:
            return f"{sign}{amount / 1e8:,.1f}億円"
        if amount >= 1e4:
            return f"{sign}{amount / 1e4:,.0f}万円"
        return f"{sign}{amount:,.0f}円"
    if amount >= 1e9:
        return f"{sign}¥{amount / 1e9:,.1f}B"
    if amount >= 1e6:
        return f"{sign}¥{amount / 1e6:,.1f}M"
    if amount >= 1e4:
        return f"{sign}¥{amount / 1e3:,.0f}K"
    return f"{sign}¥{amount:,.0f}"


def ratio(value: float | None, lang: Lang = "ja") -> str:
    v = number(value)
    return MISSING if v is None else f"{v:,.2f}"


def value(v: float | None, kind: str, lang: Lang = "ja") -> str:
    return {"pct": pct, "int": integer, "days": days, "money": money, "ratio": ratio}[kind](v, lang)


def delta(current: float | None, previous: float | None, kind: str, lang: Lang = "ja") -> str:
    """The change from `previous`: percentage points for rates, else relative (%)."""
    now, before = number(current), number(previous)
    if now is None or before is None:
        return MISSING
    diff = now - before
    if kind == "pct":
        points = diff * 100
        unit = "pt" if lang == "ja" else " pp"
        return f"{points:+,.2f}{unit}"
    if kind == "days":
        return f"{diff:+,.1f}日" if lang == "ja" else f"{diff:+,.1f} days"
    if before == 0:
        return f"{diff:+,.0f}"
    return f"{diff / abs(before) * 100:+,.1f}%"


def month(value: date | datetime | None, lang: Lang = "ja") -> str:
    if value is None:
        return MISSING
    if lang == "ja":
        return f"{value.year}年{value.month}月"
    return f"{_MONTHS_EN[value.month - 1]} {value.year}"


def day(value: date | datetime | None, lang: Lang = "ja") -> str:
    if value is None:
        return MISSING
    if lang == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{_MONTHS_EN[value.month - 1]} {value.day}, {value.year}"


def p_value(value: float | None, lang: Lang = "ja") -> str:
    v = number(value)
    if v is None:
        return MISSING
    return "<0.001" if v < 0.001 else f"{v:.3f}"
