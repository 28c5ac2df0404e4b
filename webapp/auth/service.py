"""The rules of signing in: who a person is, what is recorded, who is staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, select

from .. import audit
from ..devices import device_summary
from ..models import SignIn, User, UserSession, utcnow
from . import alerts, sessions


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
    sid: str | None = None  #: the provider's session id, for its back-channel logout


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
    sid = id_claims.get("sid")
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
        sid=sid if isinstance(sid, str) and 0 < len(sid) <= 255 else None,
    )


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def find_user(db: Session, issuer: str, subject: str) -> User | None:
    """The account for a provider identity, if there is one."""
    return db.exec(select(User).where(User.issuer == issuer, User.subject == subject)).first()


@dataclass(frozen=True)
class SignedIn:
    """The outcome of a sign-in: the person, and the new session's cookie reference."""

    user: User
    reference: str | None  #: None when the account is closed and nobody was signed in
    session: UserSession | None = None


def sign_in(
    db: Session,
    identity: Identity,
    *,
    staff_group: str,
    ip: str,
    user_agent: str,
    lifetimes: sessions.Lifetimes,
    id_token: str | None = None,
    replaces: str | None = None,
    now: datetime | None = None,
) -> SignedIn:
    """Find or create the person for (issuer, subject), record the sign-in, start a session.

    One transaction. The email is never used to match people: a new subject is a new person.
    Only an email the provider says it verified becomes the contact email; otherwise the person
    confirms one through the site's own link (profile.email_change). A closed account is
    returned as it is, with nothing recorded, so the caller can say it is closed. `replaces`
    is the reference this browser held before, ended now: a sign-in always starts a fresh
    session. A new device or network is told by email.
    """
    now = now or utcnow()
    contact = identity.email if identity.email_verified else ""
    user = find_user(db, identity.issuer, identity.subject)
    if user is not None and not user.is_active:
        return SignedIn(user, None)
    first_sign_in = user is None
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
    staff = bool(staff_group) and staff_group in identity.groups
    user.is_staff = staff
    user.last_sign_in_at = now
    db.add(user)
    db.flush()
    record = SignIn(
        user_id=user.id,
        at=now,
        ip=ip or None,
        user_agent=user_agent[:512],
        auth_time=identity.auth_time,
    )
    db.add(record)
    db.flush()
    if replaces:
        sessions.end(
            db,
            UserSession.token_hash == sessions.reference_hash(replaces),
            now=now,
            reason="signed-in-again",
        )
    reference, row = sessions.start(
        db,
        user,
        now=now,
        lifetimes=lifetimes,
        staff=staff,
        ip=ip,
        device=device_summary(user_agent),
        sign_in_id=record.id,
        provider_sid=identity.sid,
        auth_time=identity.auth_time or now,
        id_token=id_token,
    )
    db.flush()
    if not first_sign_in:
        alerts.new_sign_in(db, user, record, row, now=now)
    db.commit()
    return SignedIn(user, reference, row)


def sign_out(db: Session, row: UserSession) -> None:
    """End one session at its person's request (the sign-out button); audited, committed."""
    sessions.end(db, UserSession.id == row.id, now=utcnow(), reason="signed-out")
    audit.record(db, user_id=row.user_id, action="signed-out", field=f"session {row.id}")
    db.commit()


def end_all_sessions(db: Session, user: User, *, reason: str = "signed-out-everywhere") -> None:
    """Sign the person out everywhere, this browser too; commits with what `db` holds."""
    sessions.end(db, UserSession.user_id == user.id, now=utcnow(), reason=reason)
    user.session_generation += 1
    db.add(user)
    db.commit()
