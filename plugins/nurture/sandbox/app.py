"""The sandbox HTTP server: one FastAPI app serving Marketo, HubSpot, Salesforce and a
Slack-webhook sink from a world file (pages are read with queries, never the whole world).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nurture.sandbox import clock, hubspot, marketo, salesforce, slack
from nurture.sandbox.faults import FaultInjector, RateLimiter, profile
from nurture.sandbox.limits import DailyCounter, Quotas, TokenBook
from nurture.sandbox.wallclock import CLOCKS, Now, WallClock
from nurture.sandbox.world import WorldError, ensure_schema, read_meta


@dataclass
class SandboxState:
    """Everything the API modules share: the world connection, settings and job state."""

    world_path: Path
    token: str | None
    faults: FaultInjector
    limiter: RateLimiter
    con: duckdb.DuckDBPyConnection
    write_lock: threading.RLock = field(default_factory=threading.RLock)
    jobs: dict[str, Any] = field(default_factory=dict)  # bulk jobs by id
    cursors: dict[str, Any] = field(default_factory=dict)  # SOQL query locators
    messages: list[dict[str, Any]] = field(default_factory=list)  # Slack sink
    work_dir: Path = field(default_factory=Path)
    quotas: Quotas = field(default_factory=Quotas)
    daily: DailyCounter = field(default_factory=DailyCounter)
    marketo_tokens: TokenBook = field(default_factory=lambda: TokenBook(3600.0))
    clock: str = "fixed"  # "wall": today follows the UTC date (see wallclock)

    def spend_daily(self, name: str, limit: int, amount: int = 1) -> tuple[bool, int]:
        """Spend from a daily quota of the current sandbox day; always allowed (but still
        counted) when limits are off (``--no-rate-limits``)."""
        allowed, remaining = self.daily.spend(name, self.days_advanced(), amount, limit)
        if not allowed and not self.limiter.enabled:
            self.daily.add(name, self.days_advanced(), amount)
            return True, 0
        return allowed, remaining

    @contextmanager
    def db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one request; DuckDB cursors are safe across threads."""
        cur = self.con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def meta(self) -> dict[str, str]:
        with self.db() as cur:
            return read_meta(cur)

    def days_advanced(self) -> int:
        return int(self.meta()["days_advanced"])

    def today_ts(self) -> int:
        return clock.today_ts(self.days_advanced())

    def token_ok(self, presented: str | None) -> bool:
        if not presented:
            return False
        return self.token is None or presented == self.token


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not value.strip():
        return None
    return value.strip()


def request_id() -> str:
    return uuid.uuid4().hex[:5] + "#" + uuid.uuid4().hex[:11]


def create_app(
    world_path: Path | str,
    *,
    token: str | None = None,
    faults: str = "none",
    fault_seed: int = 0,
    rate_limits: bool = True,
    work_dir: Path | str | None = None,
    quotas: Quotas | None = None,
    clock_mode: str = "fixed",
    now: Now | None = None,
    poll_seconds: float | None = None,
) -> FastAPI:
    """The app serving one world file. The file is opened read-write: advance and the
    write APIs change it, so serve a working copy, not the cache (see server.serve).

    With ``clock_mode="wall"`` the world is first advanced to the UTC date of ``now()``
    (default: the wall clock), then, while the app runs (its lifespan), a day at each
    midnight, looking every ``poll_seconds``; ``/sandbox/advance`` is refused."""
    if clock_mode not in CLOCKS:
        raise WorldError(f"--clock must be one of {', '.join(CLOCKS)}, not {clock_mode!r}.")
    path = Path(world_path)
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    state = SandboxState(
        world_path=path,
        token=token or None,
        faults=FaultInjector(profile(faults), fault_seed),
        limiter=RateLimiter(enabled=rate_limits),
        con=con,
        work_dir=Path(work_dir) if work_dir else path.parent,
        quotas=quotas or Quotas(),
    )
    state.marketo_tokens = TokenBook(state.quotas.marketo_token_seconds)
    state.clock = clock_mode
    wall: WallClock | None = None
    if clock_mode == "wall":
        wall = WallClock(state, now, poll_seconds)
        try:
            # Before serving: a run must never see the world before it reached the wall date.
            wall.catch_up()
        except BaseException:
            con.close()
            raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if wall is not None:
            wall.start()
        try:
            yield
        finally:
            if wall is not None:
                wall.stop()

    app = FastAPI(
        title="Nurture sandbox",
        docs_url="/sandbox/docs",
        openapi_url="/sandbox/openapi.json",
        lifespan=lifespan,
    )
    app.state.sandbox = state

    @app.get("/health")
    def health() -> dict[str, Any]:
        meta = state.meta()
        return {
            "status": "ok",
            "seed": int(meta["seed"]),
            "leads": int(meta["leads"]),
            "today": clock.today(int(meta["days_advanced"])).isoformat(),
            "faults": state.faults.profile.name,
            "clock": state.clock,
        }

    @app.post("/sandbox/advance")
    def advance(days: int = 1) -> JSONResponse:
        from nurture.sandbox.advance import advance_world

        if state.clock == "wall":
            # Advancing by hand would put the world's today past the wall date, and its
            # data in the future of every run; the wall clock alone moves this world.
            return JSONResponse(
                {
                    "error": "this sandbox follows the wall clock (serve --clock wall): it "
                    "advances a day by itself at each midnight UTC; serve with --clock fixed "
                    "to advance by hand"
                },
                status_code=409,
            )
        if not 1 <= days <= 365:
            return JSONResponse({"error": "days must be between 1 and 365"}, status_code=400)
        with state.write_lock:
            summary = advance_world(state.con, days)
        return JSONResponse(summary)

    @app.get("/sandbox/counts")
    def counts() -> dict[str, int]:
        from nurture.sandbox.world import count_rows

        with state.db() as cur:
            return count_rows(cur)

    app.include_router(marketo.router(state))
    app.include_router(hubspot.router(state))
    app.include_router(salesforce.router(state))
    app.include_router(slack.router(state))
    state.faults.install(app)
    return app
