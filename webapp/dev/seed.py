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


def seed_open_requests(count: int) -> tuple[int, int]:
    """Give `count` seeded people an open closure request and an open privacy request each.

    A bad week for the staff queues: statuses and due dates spread over the open ones, some
    overdue. People who already have an open request of a kind are skipped, so running it
    again adds nothing. Returns how many closure and privacy requests were added.
    """
    from ..models import ClosureRequest, Inquiry, InquiryMessage
    from ..models.closure import OPEN_STATUSES

    seed_people(count)
    users = User.__table__  # type: ignore[attr-defined]
    closures = ClosureRequest.__table__  # type: ignore[attr-defined]
    inquiries = Inquiry.__table__  # type: ignore[attr-defined]
    now = utcnow()
    with db.transaction() as session:
        seeded = select(users.c.id).where(users.c.issuer == SEED_ISSUER)
        people = session.execute(seeded.order_by(users.c.id).limit(count)).scalars().all()
        open_closure = set(
            session.execute(
                select(closures.c.user_id).where(closures.c.status.in_(OPEN_STATUSES))
            ).scalars()
        )
        open_inquiry = set(
            session.execute(
                select(inquiries.c.user_id).where(inquiries.c.status.in_(("open", "extended")))
            ).scalars()
        )
        closure_rows, inquiry_rows = [], []
        for n, user_id in enumerate(people):
            received = now - timedelta(days=n % 40, minutes=n % 1440)
            due = (received + timedelta(days=28)).date()
            if user_id not in open_closure:
                closure_rows.append(
                    {
                        "user_id": user_id,
                        "status": OPEN_STATUSES[n % 3],
                        "reason": "Seeded request" if n % 2 else None,
                        "received_at": received,
                        "due_on": due,
                        "erase_after": now + timedelta(days=1 + n % 14) if n % 3 == 2 else None,
                        "retained_items": [],
                    }
                )
            if user_id not in open_inquiry:
                inquiry_rows.append(
                    {
                        "user_id": user_id,
                        "kind": ("access", "correction", "disclosure", "other")[n % 4],
                        "subject": f"Seeded request {n}",
                        "status": "open" if n % 5 else "extended",
                        "received_at": received,
                        "due_on": due,
                        "extended_to": None if n % 5 else due + timedelta(days=20),
                        "extension_reason": "" if n % 5 else "A large search.",
                        "refusal_reason": "",
                        "updated_at": received,
                    }
                )
        for start in range(0, len(closure_rows), 5000):
            session.execute(insert(closures), closure_rows[start : start + 5000])
        for start in range(0, len(inquiry_rows), 5000):
            chunk = inquiry_rows[start : start + 5000]
            created = session.execute(
                insert(inquiries).returning(
                    inquiries.c.id, inquiries.c.user_id, sort_by_parameter_order=True
                ),
                chunk,
            ).all()
            messages = [
                {
                    "inquiry_id": row.id,
                    "user_id": row.user_id,
                    "author": "person",
                    "body": "Please tell me what you hold about me.",
                    "at": values["received_at"],
                }
                for row, values in zip(created, chunk, strict=True)
            ]
            session.execute(insert(InquiryMessage.__table__), messages)  # type: ignore[attr-defined]
    with db.engine().connect() as connection:
        # Fresh statistics, as autovacuum would gather, so the planner sees the new rows.
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return len(closure_rows), len(inquiry_rows)
