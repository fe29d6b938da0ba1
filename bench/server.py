"""The bench's server and client: gunicorn on loopback serving the bench app, a browser-like
client with one cookie, and a bounded measurement from a pool of client threads."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from world import PASSWORD

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int, root: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the bench app on a free loopback port.

    `root` is the checkout whose portal (and bench app) is served: this worktree's by
    default, another one's to compare two versions of the code on the same machine.
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        # That checkout's portal and bench, whatever the virtualenv has installed.
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "bench")]),
    }
    env.pop("WAYPOINT_BENCH", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "benchapp:create_app()",
        ],
        cwd=root,
        env=env,
        start_new_session=True,
    )
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit("gunicorn exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    stop(proc)
    sys.exit("gunicorn did not start")


class Client:
    """A signed-in browser: one cookie, a fresh loopback connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        response = conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        conn.close()
        return response.status, data, response.headers

    def sign_in(self, login: str) -> None:
        _, page, _ = self.request("GET", "/signin")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        form = {"login": login, "password": PASSWORD}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, _, _ = self.request("POST", "/signin", urllib.parse.urlencode(form))
        if status not in (302, 303):
            sys.exit(f"sign-in failed for {login}: {status}")


def measure(name, jobs, requests: int, threads: int, expect: int) -> dict:
    """Run `requests` requests from `threads` threads; jobs[i] is (client, path, headers)."""
    latencies: list[float] = []
    errors = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            client, path, headers = jobs[n % len(jobs)]
            t0 = time.perf_counter()
            status, _, _ = client.request("GET", path, headers=headers)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status != expect:
                    errors.append(status)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "name": name,
        "rps": requests / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "errors": len(errors),
        "statuses": sorted(set(errors)),
    }


def stop(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
