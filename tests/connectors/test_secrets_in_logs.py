"""Credentials never reach a log: Marketo's identity call carries the client secret in its
query string, and httpx logs every request URL at INFO."""

from __future__ import annotations

import logging
import socket

import pytest

from nurture.connections import ApiConnection
from nurture.connectors.http import ApiError, redact_url_secrets
from nurture.connectors.marketo import MarketoClient

SECRET = "s3cret-Value-0123456789"


def test_credential_parameters_are_redacted():
    url = (
        "GET http://mkto/identity/oauth/token?grant_type=client_credentials"
        f"&client_id=abc&client_secret={SECRET} 200"
    )
    assert redact_url_secrets(url) == (
        "GET http://mkto/identity/oauth/token?grant_type=client_credentials"
        "&client_id=***&client_secret=*** 200"
    )
    assert redact_url_secrets("GET /rest/v1/leads.json?nextPageToken=abc") == (
        "GET /rest/v1/leads.json?nextPageToken=abc"
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_the_identity_call_logs_no_secret(tmp_path):
    from nurture.sandbox.server import running_sandbox

    # on httpx's own logger: Airflow's logging setup may stop it propagating to the root
    logger = logging.getLogger("httpx")
    collect, level = _Collect(), logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    try:
        with running_sandbox(seed=3, leads=50, home=tmp_path, rate_limits=False) as url:
            client = MarketoClient(ApiConnection("marketo_default", str(url), "client", SECRET))
            client._auth_headers()
            client.close()
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    logged = "\n".join(collect.lines)
    assert "oauth/token" in logged  # httpx did log the request
    assert SECRET not in logged
    assert "client_secret=***" in logged


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_host_is_not_blamed_on_credentials_and_honours_max_attempts():
    url = _closed_port()
    conn = ApiConnection(
        "marketo_default", url, "client", SECRET, {"max_attempts": 2, "backoff_seconds": 0.01}
    )
    client = MarketoClient(conn)
    with pytest.raises(ApiError) as raised:
        client._auth_headers()
    client.close()
    message = str(raised.value)
    assert "could not be reached" in message and url in message
    assert "credentials" not in message
    assert "after 2 attempts" in message
    assert client.http.stats.requests == 2
