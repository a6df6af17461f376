"""``serve --clock wall``: the world's today follows the UTC date of the wall clock.

At start the world is caught up to the wall date (advanced a day at a time from its
anchor); while serving, a thread advances it a day each time the UTC date passes
midnight. Each day is one DuckDB transaction taken under the server's write lock (the
lock ``/sandbox/advance`` and the write APIs take), so no write request interleaves with
it and a reader sees the world before or after the day, never half of it.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nurture.sandbox import clock
from nurture.sandbox.world import WorldError

if TYPE_CHECKING:
    from nurture.sandbox.app import SandboxState

CLOCKS = ("fixed", "wall")
Now = Callable[[], datetime]
# Wake at least this often even when midnight is far: a host that was suspended or a
# clock that was stepped is noticed within this many seconds.
POLL_SECONDS = 30.0
# An injected clock (NURTURE_SANDBOX_NOW) can jump at any moment: look often.
INJECTED_POLL_SECONDS = 0.2
PROGRESS_SECONDS = 5.0  # a catch-up logs its progress at most this often


def _log(message: str) -> None:
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


def target_days(now: datetime) -> int:
    """The days a world must have advanced for its today to be the UTC date of ``now``."""
    wall = now.astimezone(UTC).date()
    days = clock.days_since_anchor(wall)
    if days < 0:
        raise WorldError(
            f"--clock wall: the wall-clock date {wall} is before the world's first day "
            f"{clock.ANCHOR}, and a sandbox world cannot run backwards; "
            "serve with --clock fixed instead."
        )
    return days


def read_now(now: Now) -> datetime:
    """``now()``, with a bad NURTURE_SANDBOX_NOW reported as a user mistake."""
    try:
        return now()
    except (OSError, ValueError) as exc:
        raise WorldError(f"{clock.NOW_ENV} cannot be read: {exc}") from exc


class WallClock:
    """Keeps a served world's today on the wall date: ``catch_up`` once, then ``start``."""

    def __init__(
        self,
        state: SandboxState,
        now: Now | None = None,
        poll_seconds: float | None = None,
        log: Callable[[str], None] = _log,
    ) -> None:
        self.state = state
        self.now: Now = now or clock.wall_now
        # Only the real clock lets the thread sleep until midnight.
        self._real = now is None and not clock.wall_clock_injected()
        if poll_seconds is None:
            poll_seconds = POLL_SECONDS if self._real else INJECTED_POLL_SECONDS
        self.poll_seconds = poll_seconds
        self.log = log
        self._stop = threading.Event()
        self._ahead_logged = False
        self._thread: threading.Thread | None = None

    def _advance_day(self, target: int) -> bool:
        """Advance one day if the world is behind ``target``; False when it is not."""
        from nurture.sandbox.advance import advance_world

        state = self.state
        with state.write_lock:
            if state.days_advanced() >= target:
                return False
            state.con.begin()
            try:
                advance_world(state.con, 1)
            except BaseException:
                state.con.rollback()
                raise
            state.con.commit()
        return True

    def catch_up(self) -> int:
        """Advance the world to the wall date, logging progress; the days advanced."""
        target = target_days(read_now(self.now))
        start = self.state.days_advanced()
        behind = target - start
        if behind < 0 and not self._ahead_logged:
            self._ahead_logged = True  # say it once, not on every poll
            self.log(
                f"the world's today {clock.today(start)} is ahead of the wall date "
                f"{clock.today(target)}; it waits for the wall clock"
            )
        if behind <= 0:
            return 0
        self._ahead_logged = False
        if behind > 1:
            self.log(
                f"wall clock: catching up {behind} days, "
                f"{clock.today(start)} -> {clock.today(target)}"
            )
        began = last = time.monotonic()
        done = 0
        while not self._stop.is_set() and self._advance_day(target):
            done += 1
            if time.monotonic() - last >= PROGRESS_SECONDS and done < behind:
                last = time.monotonic()
                self.log(
                    f"  ... {clock.today(start + done)} ({done}/{behind} days, "
                    f"{(last - began) / done:.2f} s a day)"
                )
        took = time.monotonic() - began
        if done:
            self.log(
                f"wall clock: today is {clock.today(start + done)} "
                f"({done} day{'s' if done > 1 else ''} advanced in {took:.1f} s)"
            )
        return done

    def _wait_seconds(self) -> float:
        if not self._real:
            return self.poll_seconds
        now = self.now().astimezone(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        # Just past midnight, so the date has surely turned when the thread looks.
        return min(self.poll_seconds, max(0.5, (midnight - now).total_seconds() + 0.5))

    def _run(self) -> None:
        while True:
            try:
                wait = self._wait_seconds()
            except Exception:  # an unreadable injected clock: catch_up reports it
                wait = self.poll_seconds
            if self._stop.wait(wait):
                return
            try:
                self.catch_up()
            except Exception:  # a failed day must not stop the clock: log it, retry later
                self.log("wall clock: advancing failed; retrying\n" + traceback.format_exc())

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sandbox-wall-clock")
            self._thread.daemon = True  # never keeps a stopping server alive
            self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the thread; a day being advanced finishes first (it is one transaction)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
