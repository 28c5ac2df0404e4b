"""Synthetic people for demos and benchmarks (`flask --app webapp dev seed --users N`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from .. import db
from ..models import User, utcnow

SEED_ISSUER = "https://seed.invalid"
FIRST = ["Aroha", "Ben", "Chloe", "Dev", "Eru", "Fatima", "George", "Hana", "Isaac", "Jade"]
LAST = ["Ngata", "Smith", "Williams", "Patel", "Brown", "Taylor", "Wilson", "Chen", "Singh", "Lee"]


def seed_people(count: int, *, chunk: int = 5000) -> int:
    """Insert `count` synthetic people (skipping those already seeded); return how many were new."""
    users = User.__table__  # type: ignore[attr-defined]
    now = utcnow()
    with db.transaction() as session:
        existing = session.exec(
            select(func.count()).select_from(users).where(users.c.issuer == SEED_ISSUER)
        ).one()[0]
        for start in range(existing, count, chunk):
            rows = [
                {
                    "issuer": SEED_ISSUER,
                    "subject": f"seed-{n}",
                    "email": f"person{n}@example.test",
                    "provider_email": f"person{n}@example.test",
                    "name": f"{FIRST[n % 10]} {LAST[(n // 10) % 10]}",
                    "is_staff": False,
                    "status": "active",
                    "session_generation": 0,
                    "created_at": now - timedelta(days=n % 900),
                }
                for n in range(start, min(start + chunk, count))
            ]
            session.execute(insert(users), rows)
    return max(count - existing, 0)
