"""The app the benchmarks serve: Waypoint's own, plus a hello-world baseline route.

`/bench/hello` is the same app and server doing nothing: every bench's baseline. The
product has no such route; only this factory adds it.
BENCH_PRE_PING=1 puts back the pool's ping per checkout (what main had before optimistic
disconnect handling), to measure what it costs with the same code otherwise.
"""

from __future__ import annotations

import os

from flask import Flask

from portal import create_app as create_portal_app
from portal.core import config as config_module
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
