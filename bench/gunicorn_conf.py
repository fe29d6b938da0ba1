"""gunicorn settings for the bench server: each worker saves its page-cache counters on exit
(when BENCH_STATS_DIR is set), so the class-period bench can report the hit rate."""

import os

import benchapp


def worker_exit(server, worker):
    directory = os.environ.get("BENCH_STATS_DIR")
    app = getattr(worker, "wsgi", None)
    if directory and app is not None:
        benchapp.write_cache_stats(app, directory)
