"""OpenID Connect Back-Channel Logout 1.0: the provider tells us a person's session ended there.

The provider POSTs a signed `logout_token`; it is checked exactly as the specification's
section 2.6 says, in the order written there, then the sessions it names end: a `sid` ends
that session, a `sub` alone every session of that person. A `jti` is accepted once.
https://openid.net/specs/openid-connect-backchannel-1_0.html
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from .. import audit
from ..models import SeenLogoutToken, UserSession
from ..retention import purge_step
from . import sessions
from .service import find_user

EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: A token issued longer ago than this is refused; its `jti` is remembered as long.
MAX_AGE = timedelta(minutes=10)
LEEWAY = timedelta(seconds=60)
#: Longer than any logout token a provider sends; anything longer is refused unread.
MAX_TOKEN_LENGTH = 16_384


class LogoutTokenRefused(Exception):
    """The logout token is not valid; `reason` goes in the 400 answer and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    """What checking a logout token needs to know about the provider."""

    issuer: str
    client_id: str
    #: `id_token_signing_alg_values_supported` from discovery: the algorithms ID tokens use.
    algorithms: tuple[str, ...]
    #: The provider's JWKS; called with True to fetch it afresh (an unknown key id).
    keys: Callable[[bool], dict]


def allowed_algorithms(discovered: object) -> tuple[str, ...]:
    """The provider's signing algorithms, never `none`, never HMAC with the client secret."""
    listed = discovered if isinstance(discovered, list) else ["RS256"]
    return tuple(
        a for a in listed if isinstance(a, str) and a != "none" and not a.upper().startswith("HS")
    )


def verify(token: object, provider: Provider, *, now: datetime) -> dict:
    """The claims of a valid logout token; raises LogoutTokenRefused otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise LogoutTokenRefused("logout_token is missing")
    claims = _signed_claims(token, provider)
    _check_claims(claims, provider, now=now)
    return claims


def _signed_claims(token: str, provider: Provider) -> dict:
    # 2.6 step 3: validate the signature as an ID token's (same keys, same algorithms).
    if not provider.algorithms:
        raise LogoutTokenRefused("the provider lists no signing algorithm we accept")
    registry = JWSRegistry(algorithms=list(provider.algorithms), strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(token, _key_set(provider, fresh=False), registry=registry)
        except InvalidKeyIdError:
            decoded = jwt.decode(token, _key_set(provider, fresh=True), registry=registry)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise LogoutTokenRefused(f"bad token or signature ({type(exc).__name__})") from exc
    if decoded.header.get("alg") not in provider.algorithms:
        raise LogoutTokenRefused("algorithm not allowed")
    if not isinstance(decoded.claims, dict):
        raise LogoutTokenRefused("claims are not a JSON object")
    return decoded.claims


def _key_set(provider: Provider, *, fresh: bool) -> KeySet:
    try:
        return KeySet.import_key_set(provider.keys(fresh))
    except Exception as exc:  # the provider's JWKS unreachable or unreadable
        raise LogoutTokenRefused("the provider's keys could not be read") from exc


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _check_claims(claims: dict, provider: Provider, *, now: datetime) -> None:
    # 2.6 step 4: iss, aud, iat, exp as for ID tokens.
    if claims.get("iss") != provider.issuer:
        raise LogoutTokenRefused("iss is not the provider")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if provider.client_id not in audiences:
        raise LogoutTokenRefused("aud does not name this client")
    issued, moment = _number(claims.get("iat")), now.timestamp()
    if issued is None:
        raise LogoutTokenRefused("iat is missing")
    if issued > moment + LEEWAY.total_seconds():
        raise LogoutTokenRefused("iat is in the future")
    if moment - issued > (MAX_AGE + LEEWAY).total_seconds():
        raise LogoutTokenRefused("iat is too old")
    if "exp" in claims:
        expires = _number(claims["exp"])
        if expires is None or expires < moment - LEEWAY.total_seconds():
            raise LogoutTokenRefused("the token has expired")
    # step 5: sub or sid or both.
    sub, sid = claims.get("sub"), claims.get("sid")
    if sub is not None and not _text(sub):
        raise LogoutTokenRefused("sub is not a string")
    if sid is not None and not _text(sid):
        raise LogoutTokenRefused("sid is not a string")
    if sub is None and sid is None:
        raise LogoutTokenRefused("neither sub nor sid")
    # step 6: the logout event.
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise LogoutTokenRefused("events has no back-channel logout event")
    # step 7: no nonce.
    if "nonce" in claims:
        raise LogoutTokenRefused("a logout token must not carry a nonce")
    # step 8: jti, checked against replays by `end_sessions`.
    if not _text(claims.get("jti")):
        raise LogoutTokenRefused("jti is missing")


def _text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255


def end_sessions(db: Session, claims: dict, *, now: datetime) -> int:
    """End the sessions a verified token names, once per `jti`; commits; returns how many."""
    seen = hashlib.sha256(f"{claims['iss']}\0{claims['jti']}".encode()).hexdigest()
    if db.get(SeenLogoutToken, seen) is not None:
        raise LogoutTokenRefused("jti was already used")
    db.add(SeenLogoutToken(jti_hash=seen, seen_at=now))
    where = []
    if "sid" in claims:
        where.append(UserSession.provider_sid == claims["sid"])
    if "sub" in claims:
        user = find_user(db, claims["iss"], claims["sub"])
        where.append(UserSession.user_id == (user.id if user is not None else -1))
    ended = sessions.end(db, *where, now=now, reason="provider-logout")
    for user_id in sorted({row.user_id for row in ended}):
        audit.record(
            db,
            user_id=user_id,
            action="signed-out-by-provider",
            field="sessions",
            actor="system",
            new=sum(1 for row in ended if row.user_id == user_id),
        )
    try:
        db.commit()
    except IntegrityError as exc:  # the same jti, at the same moment, in another request
        db.rollback()
        raise LogoutTokenRefused("jti was already used") from exc
    return len(ended)


@purge_step("used logout tokens")
def _purge(db: Session, now: datetime) -> str:
    table = SeenLogoutToken.__table__  # type: ignore[attr-defined]
    gone = db.execute(delete(table).where(table.c.seen_at < now - MAX_AGE - LEEWAY)).rowcount
    return f"{gone} used logout tokens forgotten"
