"""HTTP with the retry, back-off and bookkeeping every connector needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(RuntimeError):
    """The remote API refused a request for a reason retrying will not fix."""


@dataclass
class CallStats:
    """What a sync did over the wire; goes into the run summary."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "pages": self.pages,
            "waited_seconds": round(self.waited_seconds, 3),
        }


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Server hint from `Retry-After` (seconds or an HTTP date), if any."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class RetryingClient:
    """An httpx client that retries throttling, 5xx and transport errors with back-off.

    `auth_headers` is called for every attempt so a refreshed token is picked up;
    `on_unauthorized` lets a connector refresh its token once on a 401.
    """

    def __init__(
        self,
        base_url: str,
        auth_headers: Callable[[], dict[str, str]] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        max_attempts: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._auth_headers = auth_headers or dict
        self._on_unauthorized = on_unauthorized
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.stats = CallStats()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RetryingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempt: int, hint: float | None) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return max(delay, hint) if hint is not None else delay

    def wait(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self._sleep(seconds)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        extra_headers = kwargs.pop("headers", {})
        refreshed = False
        for attempt in range(1, self.max_attempts + 1):
            headers = {**extra_headers, **self._auth_headers()}
            self.stats.requests += 1
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt == self.max_attempts:
                    raise ApiError(f"{method} {url}: {exc!r} after {attempt} attempts") from exc
                self._retry(attempt, None, f"{method} {url} failed ({type(exc).__name__})")
                continue
            status = response.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status == 401 and self._on_unauthorized and not refreshed:
                refreshed = True
                self._on_unauthorized()
            elif status in RETRY_STATUS and attempt < self.max_attempts:
                hint = retry_after_seconds(response.headers)
                self._retry(attempt, hint, f"{method} {url} answered {status}")
            elif status >= 400:
                raise ApiError(f"{method} {url} answered {status}: {response.text[:500]}")
            else:
                return response
        raise ApiError(f"{method} {url}: still failing after {self.max_attempts} attempts")

    def _retry(self, attempt: int, hint: float | None, what: str) -> None:
        self.stats.retries += 1
        delay = self._backoff(attempt, hint)
        log.warning("%s; retry %d in %.1fs", what, attempt, delay)
        self.wait(delay)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
