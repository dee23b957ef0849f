"""Run real-browser room tests on loopback only: a private network namespace holding daphne, Janus and
Chromium (see ../shared/recipes/webrtc-browser-tests.md and janus-sfu.md).

- The namespace has `lo` and a veth pair with private addresses that exist only inside it (Janus's ICE skips
  loopback, so it needs a non-loopback address; traffic never leaves the namespace).
- The test process stays outside. It starts daphne, Janus and Chromium inside with `nsenter`; Playwright talks
  to Chromium over a pipe, so that needs no network.
- PostgreSQL and Redis on the host's 127.0.0.1 are forwarded into the namespace's 127.0.0.1 on the same ports
  (a listening socket made inside the namespace by a thread that entered it), so DATABASE_URL and REDIS_URL
  read the same inside and out. SQLite needs nothing: it is a file.

Needs root (creating the namespace and entering it), iproute2, util-linux, /usr/bin/chromium and /usr/bin/janus.
Used by tests/test_rooms_browser.py and bench/rooms.py."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
JANUS_CONFIG = REPO / "janus"
CHROMIUM = "/usr/bin/chromium"
VETH_SETUP = (
    "ip link set lo up && ip link add oiop0 type veth peer name oiop1 && "
    "ip addr add 10.213.0.1/24 dev oiop0 && ip addr add 10.213.0.2/24 dev oiop1 && "
    "ip link set oiop0 up && ip link set oiop1 up"
)
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
]

T = TypeVar("T")


class NamespaceError(RuntimeError):
    pass


class Namespace:
    """A network namespace kept alive by a sleeping process; others join it with nsenter."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise NamespaceError("The room browser tests need root (a network namespace with a veth pair).")
        for tool in ("unshare", "nsenter", "ip"):
            if shutil.which(tool) is None:
                raise NamespaceError(f"{tool} is missing (packages util-linux, iproute2).")
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", f"{VETH_SETUP} && echo ready && exec sleep 100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            raise NamespaceError("Could not set up the test network namespace.")
        self.path = f"/proc/{self.holder.pid}/ns/net"
        self._closing = False
        self._listeners: list[socket.socket] = []
        self.forwarded: set[int] = set()

    def close(self) -> None:
        self._closing = True
        for listener in self._listeners:
            listener.close()
        self.holder.terminate()
        self.holder.wait(5)

    def command(self, args: list[str]) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *args]

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(args), **kwargs)

    def inside(self, work: Callable[[], T]) -> T:
        """Run `work` in a thread that has entered the namespace (network calls there go inside)."""
        box: dict[str, Any] = {}

        def run() -> None:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.setns(fd, os.CLONE_NEWNET)
                box["value"] = work()
            except BaseException as exc:
                box["error"] = exc
            finally:
                os.close(fd)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def free_port(self) -> int:
        def pick() -> int:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                return int(sock.getsockname()[1])

        return self.inside(pick)

    def wait_for_port(self, port: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout

        def probe() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise NamespaceError(f"process exited with {process.returncode} before listening on {port}")
            if self.inside(probe):
                return
            time.sleep(0.1)
        raise NamespaceError(f"nothing listens on 127.0.0.1:{port} in the namespace")

    def forward(self, port: int) -> None:
        """Make the host's 127.0.0.1:`port` reachable at 127.0.0.1:`port` inside the namespace."""
        if port in self.forwarded:
            return
        self.forwarded.add(port)

        def listen() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(64)
            return sock

        listener = self.inside(listen)
        self._listeners.append(listener)
        threading.Thread(target=self._accept, args=(listener, port), daemon=True).start()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while not self._closing:
            try:
                inner, _address = listener.accept()
            except OSError:
                return
            try:
                outer = socket.create_connection(("127.0.0.1", port))
            except OSError:
                inner.close()
                continue
            for a, b in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def forward_services(ns: Namespace, database_url: str, redis_url: str | None) -> None:
    for url in (database_url, redis_url):
        if not url or url.startswith(("sqlite", "unix")):
            continue
        parsed = urlparse(url)
        if parsed.hostname in ("127.0.0.1", "localhost"):
            default = 6379 if parsed.scheme.startswith("redis") else 5432
            ns.forward(parsed.port or default)


def database_url_from(settings_dict: dict[str, Any]) -> str:
    """The URL of the database the test run is using (the test database, not the configured one)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class Janus:
    """Janus with the repo's configs (janus/*.jcfg) filled in, in a temporary folder, inside the namespace."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.dir = Path(tempfile.mkdtemp(prefix="openiop-janus-"))
        self.http_port = ns.free_port()
        self.ws_port = ns.free_port()
        self.admin_key = secrets.token_urlsafe(16)
        values = {
            "@CONFIGS_FOLDER@": str(self.dir),
            "@ADMIN_SECRET@": secrets.token_urlsafe(16),
            "@RTP_PORT_RANGE@": "20000-20999",
            "@HTTP_PORT@": str(self.http_port),
            "@WS_PORT@": str(self.ws_port),
            "@WS_IP@": "127.0.0.1",
            "@ADMIN_KEY@": self.admin_key,
        }
        for source in JANUS_CONFIG.glob("*.jcfg"):
            text = source.read_text()
            for key, value in values.items():
                text = text.replace(key, value)
            (self.dir / source.name).write_text(text)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "OPENIOP_JANUS_URL": f"http://127.0.0.1:{self.http_port}/janus",
            "OPENIOP_JANUS_CLIENT_URL": f"ws://127.0.0.1:{self.ws_port}/",
            "OPENIOP_JANUS_ADMIN_KEY": self.admin_key,
        }

    def start(self) -> None:
        log = open(self.dir / "janus.log", "ab")  # noqa: SIM115 -- closed with the process
        self.process = self.ns.popen(
            ["janus", "-F", str(self.dir), "-C", str(self.dir / "janus.jcfg"), "-o"], stdout=log, stderr=log
        )
        self.ns.wait_for_port(self.http_port, process=self.process)
        self.ns.wait_for_port(self.ws_port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Daphne:
    """One ASGI server process inside the namespace, serving the test database."""

    def __init__(self, ns: Namespace, env: dict[str, str]) -> None:
        self.ns = ns
        self.port = ns.free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="openiop-daphne-", suffix=".log", delete=False)  # noqa: SIM115
        full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process = ns.popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "openiop.asgi:application"],
            cwd=REPO,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        ns.wait_for_port(self.port, process=self.process, timeout=30)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        os.unlink(self.log.name)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def chromium_wrapper(ns: Namespace, folder: Path) -> str:
    """An executable that starts Debian's Chromium inside the namespace (Playwright launches it)."""
    path = folder / "chromium-in-namespace"
    path.write_text(f'#!/bin/sh\nexec nsenter --net={ns.path} -- {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return str(path)


@contextmanager
def namespace() -> Iterator[Namespace]:
    ns = Namespace()
    try:
        yield ns
    finally:
        ns.close()
