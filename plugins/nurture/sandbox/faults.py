"""Fault profiles and rate limits.

Faults are seeded and reproducible: whether a request fails depends on a hash of
(seed, method, path, query, how many times this exact request was seen), never on timing
or on the order of unrelated requests. A faulted request fails its first few attempts and
then succeeds, so a client that retries always gets through.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass(frozen=True)
class Profile:
    name: str
    p_429: float = 0.0
    p_5xx: float = 0.0
    p_slow: float = 0.0
    slow_seconds: float = 0.0
    # A stall past a client's timeout (the connectors default to 60 s): rare, and only on
    # the first attempt of a request, so a client that times out and retries gets through.
    p_timeout: float = 0.0
    timeout_seconds: float = 0.0
    p_truncate: float = 0.0  # a page returns fewer records than asked though more exist
    p_shift: float = 0.0  # the next page starts a record early (the record shows up twice)
    p_duplicate: float = 0.0  # a record appears twice within one page
    schema_drift: bool = False  # a new field appears on part of the records


PROFILES: dict[str, Profile] = {
    "none": Profile("none"),
    "flaky": Profile(
        "flaky",
        p_429=0.08,
        p_5xx=0.04,
        p_slow=0.05,
        slow_seconds=1.5,
        p_timeout=0.002,
        timeout_seconds=75.0,
    ),
    "messy": Profile("messy", p_truncate=0.15, p_shift=0.15, p_duplicate=0.1, schema_drift=True),
    "chaos": Profile(
        "chaos",
        p_429=0.08,
        p_5xx=0.04,
        p_slow=0.05,
        slow_seconds=1.5,
        p_timeout=0.002,
        timeout_seconds=75.0,
        p_truncate=0.15,
        p_shift=0.15,
        p_duplicate=0.1,
        schema_drift=True,
    ),
}


class FaultError(ValueError):
    pass


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise FaultError(
            f"Unknown fault profile {name!r}; choose one of {', '.join(PROFILES)}."
        ) from None


def api_of(path: str) -> str | None:
    if path.startswith(("/rest/", "/bulk/", "/identity/")):
        return "marketo"
    if path.startswith("/crm/"):
        return "hubspot"
    if path.startswith("/services/"):
        return "salesforce"
    return None


def unit(*parts: object) -> float:
    """A uniform number in [0, 1) from a hash of the parts."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    def __init__(self, prof: Profile, seed: int) -> None:
        self.profile = prof
        self.seed = seed
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attempt(self, key: str) -> int:
        with self._lock:
            n = self._seen[key]
            self._seen[key] += 1
            return n

    def decide(self, kind: str, key: str, p: float, attempt: int = 0) -> bool:
        """True when this request key is faulted of this kind on this attempt."""
        if p <= 0:
            return False
        if unit(self.seed, kind, key) >= p:
            return False
        burst = 1 + int(unit(self.seed, kind, key, "burst") * 3)  # 1 to 3 failed attempts
        return attempt < burst

    def stalls(self, key: str, attempt: int) -> bool:
        """The first attempt of a request stalls past the client's timeout."""
        p = self.profile.p_timeout
        return attempt == 0 and p > 0 and unit(self.seed, "timeout", key) < p

    def page_fault(self, kind: str, key: str) -> bool:
        """Data faults on a page (truncate, shift, duplicate) keyed by the page request."""
        return self.decide(kind, key, getattr(self.profile, f"p_{kind}"), attempt=0)

    def drifted(self, record_key: object) -> bool:
        return self.profile.schema_drift and unit(self.seed, "drift", record_key) < 0.3

    def install(self, app: FastAPI) -> None:
        prof = self.profile
        if prof.p_429 <= 0 and prof.p_5xx <= 0 and prof.p_slow <= 0 and prof.p_timeout <= 0:
            return

        @app.middleware("http")
        async def inject(request: Request, call_next):  # type: ignore[no-untyped-def]
            api = api_of(request.url.path)
            if api is None:
                return await call_next(request)
            key = f"{request.method} {request.url.path}?{request.url.query}"
            n = self.attempt(key)
            if self.stalls(key, n):
                await asyncio.sleep(prof.timeout_seconds)
            if self.decide("429", key, prof.p_429, n):
                return rate_limited(api, "SECONDLY")
            if self.decide("5xx", key, prof.p_5xx, n):
                return server_error(api, key)
            if self.decide("slow", key, prof.p_slow, n):
                await asyncio.sleep(prof.slow_seconds)
            return await call_next(request)


def server_error(api: str, key: str) -> Response:
    code = 502 if unit(key, "code") < 0.5 else 503
    if api == "salesforce":
        body = [{"message": "Service temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        return JSONResponse(body, status_code=503)
    if api == "hubspot":
        return JSONResponse(
            {
                "status": "error",
                "message": "internal error",
                "correlationId": str(uuid.uuid4()),
                "category": "INTERNAL_ERROR",
            },
            status_code=code,
        )
    return Response(
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        status_code=code,
        media_type="text/html",
    )


def rate_limited(api: str, policy: str, retry_after: int = 1) -> Response:
    if api == "hubspot":
        window = "10 second" if policy == "SECONDLY" else "daily"
        return JSONResponse(
            {
                "status": "error",
                "message": f"You have reached your {window} limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": policy,
                "groupName": "publicapi:private-app",
            },
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
    if api == "salesforce":
        # The transient kind (too many concurrent long requests); `TotalRequests` is the
        # org's daily allowance, which no retry within a day gets past.
        return JSONResponse(
            [
                {
                    "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ],
            status_code=403,
        )
    # Marketo answers HTTP 200 with error 606 in the envelope.
    return JSONResponse(
        {
            "requestId": uuid.uuid4().hex[:5] + "#" + uuid.uuid4().hex[:11],
            "success": False,
            "errors": [
                {"code": "606", "message": "Max rate limit '100' exceeded with in '20' secs"}
            ],
        }
    )


@dataclass
class Window:
    limit: int
    seconds: float


class RateLimiter:
    """Sliding-window request limits per API, on the wall clock of the server."""

    LIMITS: ClassVar[dict[str, Window]] = {
        "hubspot": Window(100, 10.0),
        "hubspot_search": Window(5, 1.0),
        "marketo": Window(100, 20.0),
    }

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._hits: dict[str, deque[float]] = {k: deque() for k in self.LIMITS}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int, Window]:
        """Record a request; returns (allowed, remaining, window)."""
        window = self.LIMITS[key]
        if not self.enabled:
            return True, window.limit, window
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window.seconds:
                hits.popleft()
            if len(hits) >= window.limit:
                return False, 0, window
            hits.append(now)
            return True, window.limit - len(hits), window
