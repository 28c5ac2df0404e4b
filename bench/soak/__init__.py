"""`make soak`: the production shape on loopback, real user load from Locust, faults, a ledger.

Everything the soak starts is its own: a PostgreSQL cluster and a Redis server in a temporary
folder on free loopback ports, the development OpenID provider, an SMTP catcher that records
every message, gunicorn with the Procfile's web command, and two mail workers. The machine's
own PostgreSQL and Redis are never touched, so faults can be injected without disturbing
anyone else on the machine.
"""
