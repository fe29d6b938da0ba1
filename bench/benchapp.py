"""The app the benchmarks serve: Waypoint's own, plus a hello-world baseline route.

`/bench/hello` is the same app and server doing nothing: every bench's baseline. The
product has no such route; only this factory adds it. `write_cache_stats` saves a worker's
page-cache counters (`portal.core.page_cache.stats`) for the class-period bench.
BENCH_PRE_PING=1 puts back the pool's ping per checkout (what main had before optimistic
disconnect handling), to measure what it costs with the same code otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask

from portal import create_app as create_portal_app
from portal.core import config as config_module
from portal.core import page_cache
from portal.policy import public


@public
def hello():
    """Answer hello: the benchmark's baseline."""
    return "hello"


def create_app(config: dict | None = None) -> Flask:
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    config = dict(config or {})
    if os.environ.get("BENCH_PRE_PING") == "1":
        url = config.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL", "")
        options = config_module.engine_options(url)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": True}
    app = create_portal_app(config)
    app.add_url_rule("/bench/hello", "bench_hello", hello)
    return app


def write_cache_stats(app: Flask, directory: str) -> None:
    """Write this worker's page-cache hits and misses per kind to <directory>/<pid>.json."""
    with app.app_context():
        stats = page_cache.stats()
    Path(directory, f"{os.getpid()}.json").write_text(json.dumps(stats))


def read_cache_stats(directory: str) -> dict[str, dict[str, int]]:
    """Every worker's counters summed per kind of page."""
    total: dict[str, dict[str, int]] = {}
    for path in Path(directory).glob("*.json"):
        for kind, counts in json.loads(path.read_text()).items():
            mine = total.setdefault(kind, {"hits": 0, "misses": 0})
            mine["hits"] += counts["hits"]
            mine["misses"] += counts["misses"]
    return total
