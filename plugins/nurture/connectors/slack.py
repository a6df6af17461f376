"""Slack incoming webhook: post a message, with back-off on 429 (`Retry-After`) and 5xx.

A webhook has no idempotency key, so a send either surely did not happen (`SendFailed`:
refused, or the connection never opened) or may have (`AmbiguousSend`: the request left
and no answer came back). Only the first kind is retried here; the caller resolves the
second (see nurture.handoff.slack). The connection's `host` is the whole webhook URL;
extras: `verify_url` (a URL listing posted messages, e.g. the sandbox's
`/hooks/slack/_messages`), `max_attempts`, `backoff_seconds`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from nurture.connections import ApiConnection
from nurture.connectors.http import retry_after_seconds

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class SendFailed(RuntimeError):
    """Slack did not take the message; sending it again cannot duplicate it."""


class AmbiguousSend(RuntimeError):
    """The message may or may not have been posted (no answer after the request left)."""


class SlackWebhook:
    def __init__(self, conn: ApiConnection, sleep: Callable[[float], None] = time.sleep) -> None:
        if not conn.base_url:
            raise ValueError(f"connection {conn.conn_id!r} has no webhook URL in its host")
        self.url = conn.base_url
        self.verify_url = conn.extra.get("verify_url") or None
        self.max_attempts = max(1, int(conn.extra.get("max_attempts", 6)))
        self.backoff = float(conn.extra.get("backoff_seconds", 1.0))
        self._sleep = sleep
        self._client = httpx.Client(timeout=conn.timeout_seconds)
        self.requests = 0

    def close(self) -> None:
        self._client.close()

    def post(self, payload: dict[str, Any]) -> None:
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                response = self._client.post(self.url, json=payload)
            except httpx.ConnectError as exc:  # never reached Slack: safe to retry
                problem, hint = f"could not connect ({exc})", None
            except httpx.TransportError as exc:
                raise AmbiguousSend(f"Slack webhook: no answer ({exc!r})") from exc
            else:
                if response.status_code == 200:
                    return
                if response.status_code not in RETRY_STATUS:
                    raise SendFailed(
                        f"Slack webhook refused the message: {response.status_code} "
                        f"{response.text[:200]}"
                    )
                problem = f"answered {response.status_code}"
                hint = retry_after_seconds(response.headers)
            if attempt == self.max_attempts:
                raise SendFailed(f"Slack webhook {problem} on all {attempt} attempts")
            delay = max(self.backoff * 2 ** (attempt - 1), hint or 0.0)
            log.warning("Slack webhook %s; retry %d in %.1fs", problem, attempt, delay)
            self._sleep(delay)
        raise SendFailed("Slack webhook: no attempt made")

    def posted_texts(self) -> list[str] | None:
        """Every posted message as text, when the connection names a `verify_url`; None
        when there is no way to look (a plain webhook)."""
        if not self.verify_url:
            return None
        response = self._client.get(self.verify_url)
        response.raise_for_status()
        return [json.dumps(m, ensure_ascii=False) for m in response.json().get("messages", [])]
