"""bench/floor.py, the stack-floor yardstick: it must measure a real signed-in page."""

from __future__ import annotations

import importlib
import sqlite3


def test_the_floor_signs_in_reads_the_person_and_carries_a_csrf_token(tmp_path, monkeypatch):
    path = tmp_path / "floor.db"
    with sqlite3.connect(path) as db:
        db.execute('CREATE TABLE "user" (id INTEGER PRIMARY KEY, email TEXT, name TEXT)')
        db.execute("INSERT INTO \"user\" VALUES (7, 'ana@example.test', 'Ana')")
    monkeypatch.setenv("BENCH_FLOOR_DB_URL", f"sqlite:///{path}")
    import bench.floor

    floor = importlib.reload(bench.floor)
    client = floor.app.test_client()
    assert client.get("/signed-in").status_code == 401  # signed out: refused
    assert client.get("/sign-in").status_code == 200
    signed_in = client.get("/signed-in")
    # the sign-in's cookie holds the CSRF secret, as a browser's does after one page
    assert "Set-Cookie" not in signed_in.headers
    page = signed_in.get_data(as_text=True)
    assert "Kia ora, Ana" in page and "ana@example.test" in page
    assert 'name="csrf_token" value="' in page
    assert client.get("/trivial").get_data(as_text=True) == "Hello, Ana"
    assert "Set-Cookie" in client.__class__(floor.app).get("/public").headers
