"""Per-request cost of a page, in-process: Python function calls, CPU time, round trips.

`python -m bench.profile [--postgres URL] [--requests N] [PATH ...]` signs a person in by
starting a session row directly (no provider), warms each page, then measures N requests with
cProfile (calls) and without it (CPU time per request), then counts what the database driver
sends for one more. Call counts do not move with the machine's load and CPU time moves far less
than wall-clock throughput, so these compare request paths between commits on a busy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
from pathlib import Path

from flask import Flask

from .inprocess import calls_per_request, cpu_per_request, round_trips, signed_in_client, site_app

PAGES = ["/account", "/account/profile", "/privacy"]


def measure(app: Flask, client, path: str, requests: int) -> dict[str, float]:
    """Calls and CPU microseconds per request for `path`, and one request's round trips."""
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    calls = calls_per_request(lambda: client.get(path), requests)
    cpu_us = cpu_per_request(lambda: client.get(path), requests)
    trips = round_trips(app, lambda: client.get(path))
    return {
        "calls": calls,
        "cpu_us": cpu_us,
        "trips": len(trips),
        "what": " | ".join(repr(t[:30]) for t in trips),
    }


def main() -> None:
    """Print one line per page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (migrated; one person is added)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--dump", help="write the cProfile stats of the first page here")
    parser.add_argument("paths", nargs="*", default=PAGES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'profile.db'}"
        app = site_app(url)
        client = signed_in_client(app)
        for path in args.paths:
            r = measure(app, client, path, args.requests)
            print(
                f"{path:24} {r['calls']:7.0f} calls  {r['cpu_us']:7.0f} µs CPU  "
                f"{r['trips']} round trips ({r['what']})"
            )
        if args.dump:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.get(args.paths[0])
            profile.disable()
            profile.dump_stats(args.dump)


if __name__ == "__main__":
    main()
