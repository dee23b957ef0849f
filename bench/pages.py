"""Requests per second for the key pages, against a bare Django view served by the same process.

    python bench/pages.py [--sizes 100,10000] [--databases sqlite,postgres] [--seconds 5] [--concurrency 4]

For each database and program size it builds the demo program (`seed_demo --patients N`, kept between runs
under var/bench/ unless --rebuild), starts one daphne process, signs in as the director and a clinician,
and hammers each page for --seconds with --concurrency clients. It prints requests/second, median and p95
latency, each page's ratio to the bare view (`/healthz`: every middleware plus `SELECT 1`) measured in the
same run, and, for the larger sizes, each page's median latency relative to the smallest size.
PostgreSQL is used only when reachable (DATABASE_URL-style base: --postgres, default
postgres://postgres@127.0.0.1:5432)."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "bench-password-2026"


@dataclass
class Result:
    page: str
    rps: float
    median_ms: float
    p95_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "OPENIOP_DEMO_MODE": "1",
        "OPENIOP_DEMO_PASSWORD": PASSWORD,
        "LOG_LEVEL": "WARNING",
    }


def schema_fingerprint() -> str:
    """Changes whenever a migration is added: a database built before that is rebuilt."""
    names = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "openiop").glob("*/migrations/0*.py"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def prepare(database_url: str, size: int, marker: Path, rebuild: bool) -> None:
    fingerprint = schema_fingerprint()  # before building: a migration added meanwhile means a rebuild next time
    if marker.exists() and marker.read_text() == fingerprint and not rebuild:
        return
    env = env_for(database_url)
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        base, name = database_url.rsplit("/", 1)
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PY, "manage.py", "seed_demo", "--patients", str(size)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"  built {size} patients in {time.perf_counter() - started:.1f} s", flush=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(fingerprint)


def sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=60)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert "Sign out" in response.text, f"could not sign in as {username}"
    return client


def hammer(clients: list[httpx.Client], url: str, seconds: float) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(client: httpx.Client) -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        while not mine or time.perf_counter() < stop:
            began = time.perf_counter()
            response = client.get(url)
            mine.append(time.perf_counter() - began)
            failed += response.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += failed

    for client in clients:  # warm up: templates, connections
        client.get(url)
    stop = time.perf_counter() + seconds  # every worker makes at least one timed request
    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        page=url,
        rps=len(latencies) / elapsed,
        median_ms=1000 * statistics.median(latencies),
        p95_ms=1000 * latencies[int(0.95 * (len(latencies) - 1))],
        errors=errors,
    )


def run_size(database_url: str, size: int, args: argparse.Namespace) -> dict[str, Result]:
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "openiop.asgi:application"],
        cwd=ROOT,
        env=env_for(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        director = [sign_in(base, "director") for _ in range(args.concurrency)]
        clinician = [sign_in(base, "clinician1") for _ in range(args.concurrency)]
        chart = re.search(r'href="(/patients/\d+/)"', clinician[0].get("/caseload/").text)
        assert chart, "clinician1 has nobody on the caseload"
        pages = {
            "bare view (/healthz)": (director, "/healthz"),
            "dashboard": (director, "/program/dashboard/"),
            "program overview": (director, "/program/"),
            "program patients": (director, "/program/patients/"),
            "caseload": (clinician, "/caseload/"),
            "patient page": (clinician, chart.group(1)),
        }
        results = {}
        for name, (clients, url) in pages.items():
            results[name] = hammer(clients, url, args.seconds)
        return results
    finally:
        server.terminate()
        server.wait(10)


def postgres_reachable(base: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{base}/postgres", connect_timeout=2):
            return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the databases even if they exist")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    bench_dir = ROOT / "var" / "bench"
    for database in args.databases.split(","):
        if database == "postgres" and not postgres_reachable(args.postgres):
            print(f"\nPostgreSQL at {args.postgres} is not reachable: skipped")
            continue
        by_size: dict[int, dict[str, Result]] = {}
        for size in sizes:
            if database == "sqlite":
                url = f"sqlite:///{bench_dir}/pages-{size}.sqlite3"
            else:
                url = f"{args.postgres}/openiop_bench_{size}"
            print(f"\n== {database}, {size} patients ==", flush=True)
            prepare(url, size, bench_dir / f"{database}-{size}.built", args.rebuild)
            by_size[size] = run_size(url, size, args)
            bare = by_size[size]["bare view (/healthz)"]
            print(
                f"{'page':24} {'req/s':>8} {'median ms':>10} {'p95 ms':>8} {'vs bare':>8}"
                + (f" {'vs ' + str(sizes[0]):>9}" if size != sizes[0] else "")
            )
            for name, result in by_size[size].items():
                line = f"{name:24} {result.rps:8.1f} {result.median_ms:10.1f} {result.p95_ms:8.1f}"
                line += f" {result.rps / bare.rps:8.2f}"
                if size != sizes[0]:
                    line += f" {result.median_ms / by_size[sizes[0]][name].median_ms:8.2f}x"
                if result.errors:
                    line += f"  ({result.errors} non-200 answers)"
                print(line, flush=True)


if __name__ == "__main__":
    main()
