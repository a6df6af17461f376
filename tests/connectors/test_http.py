"""The retrying client against a scripted server: hints honoured, retries counted."""

from contextlib import closing

import httpx
import pytest

from nurture.connectors.http import ApiError, RetryingClient, retry_after_seconds


def scripted(responses: list[httpx.Response]) -> httpx.MockTransport:
    calls = iter(responses)
    return httpx.MockTransport(lambda request: next(calls))


def make_client(transport: httpx.MockTransport, waits: list[float]) -> RetryingClient:
    client = RetryingClient("http://api.test", max_attempts=4, sleep=waits.append)
    client._client = httpx.Client(base_url="http://api.test", transport=transport)
    return client


def test_retry_after_header_sets_the_wait():
    waits: list[float] = []
    client = make_client(
        scripted(
            [
                httpx.Response(429, headers={"Retry-After": "7"}, json={"errorType": "RATE_LIMIT"}),
                httpx.Response(503),
                httpx.Response(200, json={"ok": True}),
            ]
        ),
        waits,
    )
    assert client.get("/x").json() == {"ok": True}
    assert waits[0] == 7.0
    assert client.stats.retries == 2
    assert client.stats.requests == 3


def test_client_errors_are_not_retried():
    waits: list[float] = []
    client = make_client(scripted([httpx.Response(400, text="bad filter")]), waits)
    with pytest.raises(ApiError, match="bad filter"):
        client.get("/x")
    assert waits == []


def test_gives_up_after_max_attempts():
    waits: list[float] = []
    client = make_client(scripted([httpx.Response(500)] * 4), waits)
    with pytest.raises(ApiError):
        client.get("/x")
    assert len(waits) == 3


def test_unauthorized_refreshes_once():
    refreshed = []
    calls = iter([httpx.Response(401), httpx.Response(200, json={})])
    client = RetryingClient("http://api.test", on_unauthorized=lambda: refreshed.append(1))
    client._client = httpx.Client(
        base_url="http://api.test", transport=httpx.MockTransport(lambda r: next(calls))
    )
    client.get("/x")
    assert refreshed == [1]


def test_retry_after_http_date():
    assert retry_after_seconds(
        {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, now=1792567670.0
    ) == pytest.approx(10.0)


def test_sliding_window_limiter_paces_to_the_ceiling():
    from nurture.connectors.http import SlidingWindowLimiter

    now = [0.0]
    limiter = SlidingWindowLimiter(3, 20.0, clock=lambda: now[0])
    for t in (0.0, 1.0, 2.0):
        now[0] = t
        assert limiter.delay() == 0
        limiter.record()
    now[0] = 5.0
    assert limiter.delay() == pytest.approx(15.0)
    now[0] = 20.0
    assert limiter.delay() == 0


def test_streamed_download_is_retried_before_reading():
    waits: list[float] = []
    client = make_client(
        scripted([httpx.Response(502, text="bad gateway"), httpx.Response(200, text="a,b\n1,2\n")]),
        waits,
    )
    response = client.get("/file", stream=True)
    with closing(response):
        assert list(response.iter_lines()) == ["a,b", "1,2"]
    assert client.stats.retries == 1


def test_unauthenticated_calls_carry_no_token():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={})

    client = RetryingClient("http://api.test", auth_headers=lambda: {"Authorization": "Bearer t"})
    client._client = httpx.Client(
        base_url="http://api.test", transport=httpx.MockTransport(handler)
    )
    client.get("/token", authenticated=False)
    client.get("/data")
    assert seen == [None, "Bearer t"]
