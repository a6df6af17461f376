"""Which errors a task retry can fix: the rest fail the task at once.

Airflow retries every exception by default, so a bug (`KeyError`) or a bad config
was tried four times with back-off before the run turned red. Only errors of the
outside world are worth another try: the network, a vendor's 429/5xx, a dropped
warehouse connection, a lock held by another writer. Everything else is final.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Driver errors by class name, so that no driver has to be imported to classify: psycopg,
# psycopg2, SQLAlchemy and ADBC all call a dropped or refused connection this.
TRANSIENT_CLASS_NAMES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "AdminShutdown",
        "SerializationFailure",
        "DeadlockDetected",
    }
)
# What dbt, DuckDB and PostgreSQL print when another writer or the network is the cause.
TRANSIENT_TEXT = (
    "could not set lock on file",
    "conflicting lock is held",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection reset",
    "connection timed out",
    "could not connect to server",
    "could not receive data from server",
    "ssl syscall error",
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        # dlt's PipelineStepFailed keeps the step's error as `.exception`
        todo += [current.__cause__, current.__context__, getattr(current, "exception", None)]


def root_cause(exc: BaseException) -> BaseException:
    """The error a person should read: dlt wraps what failed in a step (`PipelineStepFailed`,
    `ResourceExtractionError`) whose first line names only the step; this is the first
    error of the chain that dlt did not raise itself, else `exc`."""
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not type(current).__module__.startswith("dlt"):
            return current
        current = getattr(current, "exception", None) or current.__cause__
    return exc


def is_transient(exc: BaseException) -> bool:
    """True when trying again later may succeed (anywhere in the exception's chain)."""
    import httpx

    from nurture.connectors.http import ApiError
    from nurture.connectors.slack import AmbiguousSend, SendFailed
    from nurture.handoff.run import HandoffFailed

    for error in _chain(exc):
        if isinstance(error, ApiError):
            # No status: the request never got an answer, or throttling outlasted the client.
            if error.status is None or error.status in TRANSIENT_STATUS:
                return True
            continue
        if isinstance(
            error,
            (httpx.TransportError, ConnectionError, TimeoutError, SendFailed, AmbiguousSend),
        ):
            return True
        # Entries a target could not take stay pending; the next try delivers only those.
        if isinstance(error, HandoffFailed):
            return True
        if type(error).__name__ in TRANSIENT_CLASS_NAMES:
            return True
        text = str(error).lower()
        if any(marker in text for marker in TRANSIENT_TEXT):
            return True
    return False


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fail_fast(func: Callable[P, R]) -> Callable[P, R]:
    """Run a task body; an error a retry cannot fix fails the task with no retry left."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from airflow.sdk.exceptions import AirflowException

        try:
            return func(*args, **kwargs)
        except AirflowException:
            raise  # Airflow's own signals (skip, fail) already say what to do
        except Exception as exc:
            if is_transient(exc):
                raise
            raise_final(exc)

    return wrapper


def raise_final(exc: BaseException) -> Any:
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(
        f"{type(exc).__name__}: {first_line(exc)} (not retried: trying again cannot fix it)"
    ) from exc
