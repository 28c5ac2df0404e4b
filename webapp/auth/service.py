"""The rules of signing in: who a person is, what is recorded, who is staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, select

from ..models import SignIn, User, utcnow


class SignInRefused(Exception):
    """The provider's answer cannot sign anyone in; `reason` is for the log, not the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from the checked ID token (and userinfo)."""

    issuer: str
    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)
    auth_time: datetime | None = None


def identity_from_claims(issuer: str, id_claims: dict, userinfo: dict | None) -> Identity:
    """Merge the ID token's claims with userinfo, refusing a userinfo about someone else."""
    subject = id_claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("ID token has no subject")
    claims = dict(id_claims)
    if userinfo is not None:
        if userinfo.get("sub") != subject:
            raise SignInRefused("userinfo sub differs from the ID token's")
        claims = {**userinfo, **id_claims}
    groups = claims.get("groups") or ()
    if isinstance(groups, str):
        groups = (groups,)
    auth_time = claims.get("auth_time")
    return Identity(
        issuer=issuer,
        subject=subject,
        email=_text(claims.get("email"), 320),
        # OIDC Core 5.1: only `true` says the provider verified it (some send the string).
        email_verified=claims.get("email_verified") in (True, "true"),
        name=_text(claims.get("name"), 200),
        groups=tuple(g for g in groups if isinstance(g, str)),
        auth_time=(
            datetime.fromtimestamp(auth_time, UTC) if isinstance(auth_time, int | float) else None
        ),
    )


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def find_user(db: Session, issuer: str, subject: str) -> User | None:
    """The account for a provider identity, if there is one."""
    return db.exec(select(User).where(User.issuer == issuer, User.subject == subject)).first()


def sign_in(
    db: Session,
    identity: Identity,
    *,
    staff_group: str,
    ip: str,
    user_agent: str,
    now: datetime | None = None,
) -> User:
    """Find or create the person for (issuer, subject) and record the sign-in; one transaction.

    The email is never used to match people: a new subject is a new person. Only an email the
    provider says it verified becomes the contact email; otherwise the person confirms one
    through the site's own link (profile.email_change). A closed account is returned as it
    is, with nothing recorded, so the caller can say it is closed.
    """
    now = now or utcnow()
    contact = identity.email if identity.email_verified else ""
    user = find_user(db, identity.issuer, identity.subject)
    if user is not None and not user.is_active:
        return user
    if user is None:
        user = User(
            issuer=identity.issuer,
            subject=identity.subject,
            email=contact,
            name=identity.name,
            provider_email=identity.email,
            created_at=now,
        )
    else:
        user.provider_email = identity.email or user.provider_email
        user.name = user.name or identity.name
        user.email = user.email or contact
    user.is_staff = bool(staff_group) and staff_group in identity.groups
    user.last_sign_in_at = now
    db.add(user)
    db.flush()
    db.add(
        SignIn(
            user_id=user.id,
            at=now,
            ip=ip or None,
            user_agent=user_agent[:512],
            auth_time=identity.auth_time,
        )
    )
    db.commit()
    return user


def end_all_sessions(db: Session, user: User) -> None:
    """Sign the person out everywhere: every session carries the old generation."""
    user.session_generation += 1
    db.add(user)
    db.commit()


def load_user(db: Session, session_id: str) -> User | None:
    """The user a session names, if the account is active and the session not revoked."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id + generation).isascii() or not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.get(User, int(user_id))
    if user is None or user.session_generation != int(generation) or not user.is_active:
        return None
    return user
