"""The bulk export file is proven whole before a window counts as loaded."""

import hashlib
import json

import httpx
import pytest

from nurture.connections import ApiConnection
from nurture.connectors.http import ApiError
from nurture.connectors.marketo import MarketoClient

CSV = b"id,email\n1,a@example.com\n2,b@example.com\n"


def client_for(handler) -> MarketoClient:
    client = MarketoClient(ApiConnection("marketo_default", "http://mkto.test", "id", "secret"))
    client.http._client = httpx.Client(
        base_url="http://mkto.test", transport=httpx.MockTransport(handler)
    )
    client.http._sleep = lambda seconds: None
    client._token, client._token_expires = "t", float("inf")
    return client


def job(rows: int = 2, body: bytes = CSV) -> dict:
    return {"numberOfRecords": rows, "fileChecksum": "sha256:" + hashlib.sha256(body).hexdigest()}


def test_throttle_envelope_on_the_file_is_retried_not_read_as_csv():
    answers = iter(
        [
            httpx.Response(200, json={"success": False, "errors": [{"code": "606"}]}),
            httpx.Response(200, content=CSV, headers={"content-type": "text/csv"}),
        ]
    )
    client = client_for(lambda request: next(answers))
    rows = [r for page in client._export_file("leads", "x", job(), 10) for r in page]
    assert [r["id"] for r in rows] == ["1", "2"]
    assert client.http.stats.retries == 1


def test_short_file_fails_the_window():
    short = b"id,email\n1,a@example.com\n"
    client = client_for(lambda request: httpx.Response(200, content=short))
    with pytest.raises(ApiError, match="read 1 rows, the job announced 2"):
        list(client._export_file("leads", "x", job(2, CSV), 10))


def test_checksum_mismatch_fails_the_window():
    tampered = CSV.replace(b"b@", b"c@")
    client = client_for(lambda request: httpx.Response(200, content=tampered))
    with pytest.raises(ApiError, match="checksum mismatch"):
        list(client._export_file("leads", "x", job(2, CSV), 10))


def test_other_envelope_errors_stop_at_once():
    body = json.dumps({"success": False, "errors": [{"code": "607", "message": "Daily quota"}]})
    client = client_for(
        lambda request: httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(ApiError, match="607"):
        list(client._export_file("leads", "x", job(), 10))
