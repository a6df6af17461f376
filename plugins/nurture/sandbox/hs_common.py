"""What every HubSpot emulator route shares: the error body, timestamps, auth and rate limits
(with HubSpot's headers), JSON bodies and batch envelopes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from nurture.sandbox.faults import rate_limited

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

BATCH_LIMIT = 100
Handler = Callable[[], tuple[int, dict[str, Any] | None]]


class HubSpotError(Exception):
    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category

    def response(self) -> JSONResponse:
        return JSONResponse(
            {
                "status": "error",
                "message": self.message,
                "correlationId": str(uuid.uuid4()),
                "category": self.category,
            },
            status_code=self.status,
        )


def not_found() -> HubSpotError:
    return HubSpotError(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")


def hs_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def respond(
    state: SandboxState, request: Request, handler: Handler, search: bool = False
) -> Response:
    """Authenticate, count against the limits, run the handler and add the limit headers."""
    from nurture.sandbox.app import bearer

    if not state.token_ok(bearer(request)):
        return HubSpotError(
            401,
            "Authentication credentials not found. This API supports OAuth 2.0 "
            "authentication and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        ).response()
    # Search has its own limit and sends no rate-limit headers, as HubSpot does.
    allowed, remaining, window = state.limiter.hit("hubspot_search" if search else "hubspot")
    if not allowed:
        return rate_limited("hubspot", "SECONDLY")
    daily_limit = state.quotas.hubspot_daily
    within_day, daily_left = state.spend_daily("hubspot", daily_limit)
    if not within_day:
        return rate_limited("hubspot", "DAILY", retry_after=3600)
    try:
        status, body = handler()
    except HubSpotError as exc:
        response: Response = exc.response()
    else:
        response = (
            JSONResponse(body, status_code=status)
            if body is not None
            else Response(status_code=status)
        )
    if not search:
        response.headers["X-HubSpot-RateLimit-Max"] = str(window.limit)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(
            int(window.seconds * 1000)
        )
        response.headers["X-HubSpot-RateLimit-Daily"] = str(daily_limit)
        response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_left)
    return response


def query(state: SandboxState, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with state.db() as cur:
        cur.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def batch_inputs(body: dict[str, Any], limit: int = BATCH_LIMIT) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise HubSpotError(400, "inputs must be a non-empty list")
    if len(inputs) > limit:
        raise HubSpotError(400, f"Batch size {len(inputs)} exceeds the limit of {limit}")
    return [i if isinstance(i, dict) else {"id": i} for i in inputs]


def batch_body(
    results: list[dict[str, Any]], errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A batch envelope; with errors it carries them and their count (the route answers 207)."""
    stamp = hs_time(datetime.now())
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body
