"""The yardstick: the smallest Flask app, served by gunicorn with the site's settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Hello, world."""
    return "Hello, world!"
