"""People made directly in the database, for tests about what one person must not see of another."""

from __future__ import annotations

from sqlmodel import Session

from webapp.models import User


def make_person(db: Session, subject: str, email: str, *, issuer: str = "http://other") -> User:
    """An account that never signed in on this client."""
    user = User(issuer=issuer, subject=subject, email=email, name=subject.title())
    db.add(user)
    db.commit()
    return user
