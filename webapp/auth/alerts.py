"""The new-sign-in alert: an email when a device and network not seen before sign in.

Like GitHub's, Google's and Mastodon's: it names the device, the network (never the full
address) and the time, and carries a link that ends that session after a fresh sign-in. It
is on the transactional account list, never for an account's first sign-in, and at most one
a day per device.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app, url_for
from sqlmodel import Session, select

from .. import timefmt, tokens
from ..addresses import reduce_ip
from ..devices import device_summary
from ..mail import queue_email
from ..models import OutboxMessage, SignIn, User, UserSession
from ..preferences.lists import ACCOUNT

#: Earlier sign-ins compared with a new one (newest first; the history keeps a year).
KNOWN_LOOKBACK = 500


def is_known(db: Session, user_id: int, device: str, network: str | None, *, not_id: int) -> bool:
    """Whether an earlier sign-in came from the same device on the same network."""
    earlier = db.exec(
        select(SignIn.user_agent, SignIn.ip)
        .where(SignIn.user_id == user_id, SignIn.id != not_id)
        .order_by(SignIn.at.desc())
        .limit(KNOWN_LOOKBACK)
    ).all()
    return any(
        device_summary(agent) == device and reduce_ip(ip) == network for agent, ip in earlier
    )


def end_session_url(row: UserSession) -> str:
    """The alert's link: ends this session once the person has signed in afresh."""
    token = tokens.make(tokens.SESSION_END, {"s": row.id, "u": row.user_id})
    return current_app.config["BASE_URL"] + url_for("mydata.end_session_link", token=token)


def new_sign_in(
    db: Session, user: User, record: SignIn, row: UserSession, *, now: datetime
) -> bool:
    """Queue the alert in `db`'s transaction when this sign-in is from somewhere new."""
    network = reduce_ip(record.ip)
    if not user.email or is_known(db, user.id, row.device, network, not_id=record.id):  # type: ignore[arg-type]
        return False
    device_key = hashlib.sha256(row.device.encode()).hexdigest()[:16]
    dedupe_key = f"new-sign-in:{user.id}:{device_key}:{now.date().isoformat()}"
    already = db.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if already.first() is not None:
        return False
    queue_email(
        db,
        template="new_sign_in",
        to=user.email,
        user_id=user.id,
        list_id=ACCOUNT,
        dedupe_key=dedupe_key,
        context={
            "name": user.preferred_name or user.name,
            "device": row.device,
            "network": network or "an unknown network",
            "when": timefmt.moment(now, timefmt.zone_of(user)),
            "end_url": end_session_url(row),
            "security_url": current_app.config["BASE_URL"] + url_for("mydata.security"),
        },
    )
    return True
