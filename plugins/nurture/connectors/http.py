"""HTTP with the retry, back-off and bookkeeping every connector needs."""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)

# Credentials some APIs take in the query string (Marketo's identity call takes the
# client secret there), as httpx logs each request's URL at INFO.
_SECRET_PARAMS = re.compile(
    r"(?i)\b(client_secret|client_id|password|access_token|refresh_token|api_key|hapikey|"
    r"token|secret)=[^&\s\"']*"
)


def redact_url_secrets(text: str) -> str:
    """`text` with the values of credential query parameters replaced by `***`."""
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", text)


class RedactUrlSecrets(logging.Filter):
    """Rewrites a record whose message carries a credential query parameter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_url_secrets(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


for _logger in ("httpx", "httpcore"):
    if not any(isinstance(f, RedactUrlSecrets) for f in logging.getLogger(_logger).filters):
        logging.getLogger(_logger).addFilter(RedactUrlSecrets())

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(RuntimeError):
    """The remote API refused a request for a reason retrying will not fix.

    `status` and `body` are set when the API answered, so a connector can read the
    vendor's error code (e.g. Salesforce `REQUEST_LIMIT_EXCEEDED`) and explain it.
    """

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class CallStats:
    """What a sync did over the wire; goes into the run summary."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)
    # told of each page as it arrives (the `nurture` command's progress display)
    on_page: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def count_page(self) -> None:
        """One more page of records fetched."""
        self.pages += 1
        if self.on_page is not None:
            self.on_page()

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


def retry_options(extra: Mapping[str, Any]) -> dict[str, Any]:
    """RetryingClient knobs from the connection extras `max_attempts` and
    `backoff_seconds` (first back-off); absent, the client's defaults hold."""
    options: dict[str, Any] = {}
    if "max_attempts" in extra:
        options["max_attempts"] = max(1, int(extra["max_attempts"]))
    if "backoff_seconds" in extra:
        options["backoff_base"] = float(extra["backoff_seconds"])
    return options


def _transport_error(exc: Exception) -> str:
    """`ConnectError ([Errno 111] Connection refused)`: the kind and what it said."""
    text = str(exc).strip()
    return f"{type(exc).__name__} ({text})" if text else type(exc).__name__


class SlidingWindowLimiter:
    """Client-side pacing to a vendor's published ceiling (e.g. Marketo: 100 calls / 20 s).

    Staying just under the ceiling is faster than hitting it and backing off.
    """

    def __init__(
        self, max_calls: int, period_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_calls = max_calls
        self.period = period_seconds
        self._clock = clock
        self._calls: deque[float] = deque()

    def delay(self) -> float:
        """Seconds to wait before the next call may go out (0 when it may go now)."""
        now = self._clock()
        while self._calls and now - self._calls[0] >= self.period:
            self._calls.popleft()
        if len(self._calls) < self.max_calls:
            return 0.0
        return self.period - (now - self._calls[0])

    def record(self) -> None:
        self._calls.append(self._clock())


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
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._auth_headers = auth_headers or dict
        self._on_unauthorized = on_unauthorized
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.limiter = limiter
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

    def request(
        self,
        method: str,
        url: str,
        *,
        authenticated: bool = True,
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; with `stream=True` the caller reads and closes the body.

        Only the status line decides a retry, so a streamed download is retried
        before any of it is consumed, never half way through.
        """
        extra_headers = kwargs.pop("headers", {})
        refreshed = False
        for attempt in range(1, self.max_attempts + 1):
            headers = {**extra_headers, **(self._auth_headers() if authenticated else {})}
            self.pace()
            self.stats.requests += 1
            try:
                request = self._client.build_request(method, url, headers=headers, **kwargs)
                response = self._client.send(request, stream=stream)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt == self.max_attempts:
                    raise ApiError(
                        f"{method} {url}: {_transport_error(exc)} after {attempt} "
                        f"attempt{'' if attempt == 1 else 's'}"
                    ) from exc
                self._retry(attempt, None, f"{method} {url} failed ({type(exc).__name__})")
                continue
            status = response.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status < 400:
                return response
            if stream:
                response.read()
                response.close()
            if status == 401 and authenticated and self._on_unauthorized and not refreshed:
                refreshed = True
                self._on_unauthorized()
            elif status in RETRY_STATUS and attempt < self.max_attempts:
                hint = retry_after_seconds(response.headers)
                self._retry(attempt, hint, f"{method} {url} answered {status}")
            else:
                raise ApiError(
                    f"{method} {url} answered {status}: {response.text[:500]}",
                    status=status,
                    body=response.text,
                )
        raise ApiError(f"{method} {url}: still failing after {self.max_attempts} attempts")

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def pace(self) -> None:
        """Wait for the limiter, then count the call against it."""
        if self.limiter is None:
            return
        delay = self.limiter.delay()
        if delay > 0:
            self.wait(delay)
        self.limiter.record()

    def _retry(self, attempt: int, hint: float | None, what: str) -> None:
        self.stats.retries += 1
        delay = self._backoff(attempt, hint)
        log.warning("%s; retry %d in %.1fs", what, attempt, delay)
        self.wait(delay)
