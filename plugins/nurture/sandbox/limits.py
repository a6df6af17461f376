"""Daily quotas and access-token lifetimes (the per-second windows are in ``faults``).

A "day" is the sandbox's day, not the wall clock's: quotas reset when the world is
advanced (``POST /sandbox/advance``), so a test can exhaust a quota and see it refill
without waiting. Token lifetimes do use the wall clock, as a real token would.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Quotas:
    """Vendor limits; defaults follow the vendors' documented figures (see docs/design.md)."""

    marketo_daily_calls: int = 50_000
    marketo_daily_export_bytes: int = 500 * 1024 * 1024
    marketo_token_seconds: float = 3600.0
    hubspot_daily: int = 500_000


# CLI flag -> (Quotas field, scale from the flag's unit to the field's)
QUOTA_FLAGS: dict[str, tuple[str, float]] = {
    "--marketo-daily-calls": ("marketo_daily_calls", 1),
    "--marketo-daily-export-mb": ("marketo_daily_export_bytes", 1024 * 1024),
    "--marketo-token-seconds": ("marketo_token_seconds", 1),
    "--hubspot-daily": ("hubspot_daily", 1),
}


def quota_args(quotas: Quotas) -> list[str]:
    """The ``serve`` flags that reproduce ``quotas`` (only those off their defaults)."""
    default = Quotas()
    args: list[str] = []
    for flag, (name, scale) in QUOTA_FLAGS.items():
        value = getattr(quotas, name)
        if value != getattr(default, name):
            args += [flag, repr(value / scale)]
    return args


def quotas_from(values: dict[str, float | None]) -> Quotas:
    """Quotas from parsed flags keyed by field name; None keeps the default."""
    fields: dict[str, float | int] = {}
    for name, scale in QUOTA_FLAGS.values():
        value = values.get(name)
        if value is not None:
            scaled = value * scale
            fields[name] = scaled if name == "marketo_token_seconds" else int(scaled)
    return Quotas(**fields)  # type: ignore[arg-type]


class DailyCounter:
    """Usage per (quota name, sandbox day)."""

    def __init__(self) -> None:
        self._used: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def spend(self, name: str, day: int, amount: int, limit: int) -> tuple[bool, int]:
        """Take ``amount`` if the quota allows; returns (allowed, remaining after)."""
        with self._lock:
            used = self._used[(name, day)]
            if used + amount > limit:
                return False, max(limit - used, 0)
            self._used[(name, day)] = used + amount
            return True, limit - used - amount

    def add(self, name: str, day: int, amount: int) -> None:
        """Record usage known only afterwards (the size of an export file)."""
        with self._lock:
            self._used[(name, day)] += amount

    def used(self, name: str, day: int) -> int:
        with self._lock:
            return self._used[(name, day)]


class TokenBook:
    """Access tokens the identity endpoint issued, with their expiry.

    As Marketo does, asking again while a token is valid returns the same token with the
    seconds it has left; once it has expired a new one is issued. Tokens never issued
    here are not tracked (``check`` says "unknown") so tests may use any bearer token.
    """

    def __init__(self, lifetime: float, now: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self._now = now
        self._expires: dict[str, float] = {}  # token -> expiry
        self._current: dict[str, str] = {}  # client id -> its current token
        self._serial = 0
        self._lock = threading.Lock()

    def issue(self, client_id: str, make: Callable[[int], str]) -> tuple[str, int]:
        """The client's valid token (or a new one from ``make(serial)``) and seconds left."""
        with self._lock:
            now = self._now()
            token = self._current.get(client_id)
            if token is None or self._expires.get(token, 0.0) <= now:
                self._serial += 1
                token = make(self._serial)
                self._current[client_id] = token
                self._expires[token] = now + self.lifetime
            return token, max(int(self._expires[token] - now), 0)

    def check(self, token: str) -> str:
        """``ok``, ``expired`` or ``unknown``."""
        with self._lock:
            expiry = self._expires.get(token)
        if expiry is None:
            return "unknown"
        return "ok" if self._now() < expiry else "expired"
