"""Synthetic people for demos and benchmarks (`flask --app webapp dev seed --users N`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from .. import db
from ..models import PaymentCard, User, utcnow

SEED_ISSUER = "https://seed.invalid"
FIRST = ["Aroha", "Ben", "Chloe", "Dev", "Eru", "Fatima", "George", "Hana", "Isaac", "Jade"]
LAST = ["Ngata", "Smith", "Williams", "Patel", "Brown", "Taylor", "Wilson", "Chen", "Singh", "Lee"]
BRANDS = ["Visa", "Mastercard", "American Express"]


def _card(user_id: int, n: int, year: int) -> dict:
    """A card as a payment provider describes it: brand, last four digits, expiry; no number."""
    return {
        "user_id": user_id,
        "brand": BRANDS[n % len(BRANDS)],
        "last4": f"{(n * 7919 + 4242) % 10000:04d}",
        "exp_month": n % 12 + 1,
        "exp_year": year + 1 + n % 4,
        "created_at": utcnow(),
    }


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
            created = session.execute(
                insert(users).returning(users.c.id, sort_by_parameter_order=True), rows
            ).all()
            cards = [_card(row.id, start + i, now.year) for i, row in enumerate(created)]
            session.execute(insert(PaymentCard.__table__), cards)  # type: ignore[attr-defined]
    return max(count - existing, 0)


def seed_demo_people(issuer: str, people: list[tuple[str, dict]]) -> int:
    """Create the `make run` demo people (subject, claims) with a saved card; return how many."""
    created = 0
    with db.transaction() as session:
        for n, (subject, claims) in enumerate(people):
            user = session.scalars(
                select(User).where(User.issuer == issuer, User.subject == subject)  # type: ignore[arg-type]
            ).first()
            if user is not None:
                continue
            email = claims.get("email", "")
            user = User(
                issuer=issuer,
                subject=subject,
                email=email,
                provider_email=email,
                name=claims.get("name", ""),
            )
            session.add(user)
            session.flush()
            session.add(PaymentCard(**_card(user.id, n, utcnow().year)))  # type: ignore[arg-type]
            created += 1
    return created
