"""Benchmarks: `PYTHONPATH=. .venv/bin/python -m bench.NAME`."""
