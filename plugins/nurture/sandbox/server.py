"""Run the sandbox: in this process (``serve``) or as a subprocess for demos and tests
(``running_sandbox``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from nurture.sandbox.faults import profile
from nurture.sandbox.limits import Quotas, quota_args
from nurture.sandbox.world import ensure_world, sandbox_home


class SandboxStartError(RuntimeError):
    """The sandbox subprocess did not come up; the message carries its output."""


class SandboxURL(str):
    """The base URL of a running sandbox; over TLS ``ca_file`` is the certificate to trust
    (a ``str`` so callers that only want the URL keep working)."""

    ca_file: Path | None

    def __new__(cls, url: str, ca_file: Path | None = None) -> SandboxURL:
        made = super().__new__(cls, url)
        made.ca_file = ca_file
        return made


def working_copy(seed: int, leads: int, home: Path | str | None = None) -> Path:
    """A private copy of the cached world: advance and the write APIs change it, the
    cache stays as generated so the next run starts from the same world."""
    cached = ensure_world(seed, leads, home)
    run_dir = sandbox_home(home) / "runs"
    run_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(run_dir)
    target = run_dir / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb"
    shutil.copyfile(cached, target)
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(run_dir: Path) -> None:
    """Working copies left by servers that were killed (the pid is in the name), with
    what DuckDB keeps beside them (its `.wal` file, its `.tmp` spill directory)."""
    for path in run_dir.glob("run-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def serve(
    seed: int,
    leads: int,
    faults: str = "none",
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    *,
    home: Path | str | None = None,
    rate_limits: bool = True,
    log_level: str = "warning",
    tls: bool = False,
    tls_dir: Path | str | None = None,
    quotas: Quotas | None = None,
    clock_mode: str = "fixed",
) -> None:
    """Serve until stopped. With ``tls`` a self-signed certificate is written to ``tls_dir``
    (default: next to the working copy, removed on exit) and its path printed. With
    ``clock_mode="wall"`` the world follows the wall clock (see ``wallclock``)."""
    import uvicorn

    from nurture.sandbox.app import create_app

    profile(faults)  # fail on a bad profile before building anything
    if clock_mode == "wall":
        from nurture.sandbox.clock import wall_now
        from nurture.sandbox.wallclock import read_now, target_days

        target_days(read_now(wall_now))  # a wall date before the world's: refuse up front
    path = working_copy(seed, leads, home)
    try:
        ssl_args: dict[str, str] = {}
        if tls:
            from nurture.sandbox.tls import make_self_signed

            files = make_self_signed(tls_dir or path.parent / f"{path.stem}-tls")
            ssl_args = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
            print(f"sandbox: TLS certificate {files.cert}", file=sys.stderr, flush=True)
        app = create_app(
            path,
            token=token,
            faults=faults,
            fault_seed=seed,
            rate_limits=rate_limits,
            # Private to this server: cleaning up never touches another server's files.
            work_dir=path.parent / f"{path.stem}-work",
            quotas=quotas,
            clock_mode=clock_mode,
        )
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, **ssl_args)
        _make_server(config).run()
    finally:
        for leftover in path.parent.glob(f"{path.stem}*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGTERM after shutdown, which would kill the process before
            # serve() removes its working copy; stop gracefully and return instead.
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self.handle_exit)
            yield

    return Server


def _make_server(config: object) -> object:
    return _server_class()(config)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_sandbox(
    seed: int = 7,
    leads: int = 1000,
    faults: str = "none",
    port: int = 0,
    *,
    token: str | None = None,
    home: Path | str | None = None,
    rate_limits: bool = True,
    timeout: float = 120.0,
    tls: bool = False,
    quotas: Quotas | None = None,
    clock: str = "fixed",
) -> Iterator[SandboxURL]:
    """Start ``python -m nurture.sandbox serve`` in a subprocess; yield its base URL
    (``http://127.0.0.1:<port>``, or ``https://`` with ``tls`` and the certificate in
    ``url.ca_file``) once ``/health`` answers; stop it on exit. ``clock="wall"`` serves
    with ``--clock wall`` (the wall clock, or the one NURTURE_SANDBOX_NOW sets)."""
    profile(faults)
    ensure_world(seed, leads, home)  # build here so errors surface as exceptions, not logs
    port = port or free_port()
    env = dict(os.environ)
    if home is not None:
        env["NURTURE_HOME"] = str(home)
    cmd = [
        sys.executable,
        "-m",
        "nurture.sandbox",
        "serve",
        "--seed",
        str(seed),
        "--leads",
        str(leads),
        "--faults",
        faults,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if token:
        cmd += ["--token", token]
    if not rate_limits:
        cmd.append("--no-rate-limits")
    if quotas is not None:
        cmd += quota_args(quotas)
    if clock != "fixed":
        cmd += ["--clock", clock]
    tls_dir: Path | None = None
    ca_file: Path | None = None
    if tls:
        from nurture.sandbox.tls import CERT_NAME

        tls_dir = Path(tempfile.mkdtemp(prefix="nurture-tls-"))
        ca_file = tls_dir / CERT_NAME
        cmd += ["--tls", "--tls-dir", str(tls_dir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = SandboxURL(f"{'https' if tls else 'http'}://127.0.0.1:{port}", ca_file)
    try:
        _wait_healthy(proc, base_url, timeout, ca_file)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if tls_dir is not None:
            shutil.rmtree(tls_dir, ignore_errors=True)


def _wait_healthy(
    proc: subprocess.Popen[bytes], base_url: str, timeout: float, ca_file: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise SandboxStartError(f"The sandbox exited with code {proc.returncode}:\n{output}")
        try:
            # Over TLS the certificate appears once the server has made it; trust only it.
            ready = ca_file is None or ca_file.exists()
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=str(ca_file)) if ca_file and ready else True
            )
            if ready and httpx.get(f"{base_url}/health", timeout=1.0, verify=verify).is_success:
                return
        except (httpx.HTTPError, ssl.SSLError):
            pass
        time.sleep(0.1)
    raise SandboxStartError(f"The sandbox did not answer on {base_url} within {timeout:.0f} s.")
