"""Shared by the privacy policy tests: version 1, a version 2 with known changes, publishing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from webapp import db as database
from webapp.models import PolicyVersion, Subscription, User, utcnow
from webapp.policy import service
from webapp.policy.service import FIRST_VERSION_FILE

V1 = FIRST_VERSION_FILE.read_text(encoding="utf-8")

#: Version 2 changes exactly these words of version 1 (in reading order).
V2 = (
    V1.replace("Privacy Act 2002", "Privacy Act 2020")
    .replace(
        "remove himself or herself from that mailing list.\n",
        "remove himself or herself from that mailing list.\n"
        "2. Every email about your account says why you received it.\n",
    )
    .replace("to collect and store information", "to collect and securely store information")
    .replace("Sentro uses Intercom, Google Firebase", "Sentro uses Google Firebase")
)
V2_INSERTED = ["2020", "Every email about your account says why you received it.", "securely"]
V2_DELETED = ["2002", "Intercom,"]
SUMMARY = "We now name the Privacy Act 2020, and we no longer use Intercom."


def today() -> date:
    return utcnow().date()


def load_v1(app) -> None:
    """Version 1, as `db upgrade` stores it."""
    with app.app_context():
        from webapp.policy.cli import load_first_version

        load_first_version()


def publish(app, text: str = V2, *, effective_on: date, on: date | None = None, summary=SUMMARY):
    """Publish through the service, as the command and the staff page do; returns the result."""
    with app.app_context(), database.transaction() as session:
        result = service.publish(
            session,
            text=text,
            summary=summary,
            effective_on=effective_on,
            today=on or today(),
            now=utcnow(),
        )
        if not result.ok:
            session.rollback()
        return result


def people(db: Session) -> dict[str, User]:
    """Three people on the list by default, one who left it, one whose account is closed."""
    found = {}
    for name in ("aroha", "ben", "chloe", "left", "closed"):
        user = User(
            issuer="https://id.test",
            subject=name,
            email=f"{name}@example.com",
            status="closed" if name == "closed" else "active",
            created_at=utcnow() - timedelta(days=400),
        )
        db.add(user)
        db.flush()
        found[name] = user
    db.add(
        Subscription(
            user_id=found["left"].id, list_id="policy-updates", subscribed=False, changed_via="page"
        )
    )
    db.commit()
    return found


def version_count(db: Session) -> int:
    return len(db.exec(select(PolicyVersion)).all())
