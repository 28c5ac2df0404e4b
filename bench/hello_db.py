"""The PostgreSQL yardstick: hello-world, but each request runs `SELECT 1` on a pooled connection.

Served by gunicorn with the site's settings beside the site and against the same PostgreSQL
server, it measures the floor a database page pays on this machine (the server competes with
the workers for the cores), so the site's PostgreSQL rows are compared with it.
`BENCH_HELLO_DB_URL` names the database (a psycopg conninfo or URL).
"""

import os

import psycopg
from flask import Flask
from sqlalchemy.pool import QueuePool

#: The same pool class the site's engine uses; autocommit, so `SELECT 1` is one round trip.
pool = QueuePool(
    lambda: psycopg.connect(os.environ["BENCH_HELLO_DB_URL"], autocommit=True),
    pool_size=5,
    max_overflow=5,
    reset_on_return=None,
)
app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Hello, world, after one round trip to the database."""
    connection = pool.connect()
    try:
        connection.cursor().execute("SELECT 1").fetchone()
    finally:
        connection.close()
    return "Hello, world!"
