"""Slack incoming-webhook sink: accepts messages as Slack does and lists what it received."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState


def router(state: SandboxState) -> APIRouter:
    api = APIRouter(tags=["slack"])

    @api.get("/hooks/slack/_messages")
    def messages() -> dict[str, Any]:
        return {"messages": list(state.messages)}

    @api.post("/hooks/slack/{path:path}")
    async def webhook(request: Request, path: str) -> PlainTextResponse:
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            # Slack also accepts form posts with a 'payload' field.
            form = await request.form()
            try:
                body = json.loads(str(form.get("payload", "")))
            except ValueError:
                return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            return PlainTextResponse("no_text", status_code=400)
        state.messages.append({"path": path, "payload": body})
        return PlainTextResponse("ok")

    return api
