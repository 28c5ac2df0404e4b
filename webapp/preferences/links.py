"""Links and headers that let a person leave a list from any email (RFC 8058, RFC 2369/2919).

Nothing here touches the database: the links are signed tokens, so composing an email and
checking a one-click POST need no lookup to know who and which list.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from flask import current_app

from .. import tokens
from .lists import MailingList, get


class UnknownList(ValueError):
    """A list id that no `MailingList` declares."""


class LockedList(ValueError):
    """The list is transactional: always sent, never switched off, no unsubscribe link."""


#: Ids are SQL INTEGER: a larger number in a token could only be forged, and must not reach SQL.
MAX_ID = 2**31 - 1


def _is_user_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def _external(endpoint: str, **values: Any) -> str:
    # Built from the URL map, not url_for: emails are composed in CLI commands and workers,
    # where no request says which host the site answers on. BASE_URL does.
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def mailing_list(list_id: str) -> MailingList:
    """The declared list `list_id`; raises UnknownList otherwise."""
    found = get(list_id)
    if found is None:
        raise UnknownList(f"unknown list {list_id!r}")
    return found


def unsubscribe_token(user_id: int, list_id: str) -> str:
    """The signed token naming (person, list): no expiry, no readable address."""
    if mailing_list(list_id).transactional:
        raise LockedList(f"{list_id!r} is transactional and cannot be left")
    return tokens.make(tokens.UNSUBSCRIBE, [user_id, list_id])


def read_unsubscribe_token(token: str) -> tuple[int, MailingList]:
    """(user id, list) from an unsubscribe token; BadToken, UnknownList or LockedList."""
    payload = tokens.read(tokens.UNSUBSCRIBE, token)
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not _is_user_id(payload[0])
        or not isinstance(payload[1], str)
    ):
        raise tokens.BadToken("unsubscribe payload is not [user id, list id]")
    found = mailing_list(payload[1])
    if found.transactional:
        raise LockedList(found.id)
    return payload[0], found


#: How long an emailed preference-page link works, for the words around it.
PREFERENCE_LINK_DAYS = (tokens.PREFERENCES.max_age_seconds or 0) // (24 * 3600)


def preferences_token(user_id: int) -> str:
    """A signed token opening the person's preference page without sign-in (60 days)."""
    return tokens.make(tokens.PREFERENCES, user_id)


def _user_id_of(payload: Any) -> int:
    if not _is_user_id(payload):
        raise tokens.BadToken("preferences payload is not a user id")
    return payload


def read_preferences_token(token: str) -> int:
    """The user id of a preference-page token; BadToken, or ExpiredToken (payload checked)."""
    try:
        return _user_id_of(tokens.read(tokens.PREFERENCES, token))
    except tokens.ExpiredToken as expired:
        expired.payload = _user_id_of(expired.payload)
        raise


def unsubscribe_url(user_id: int, list_id: str) -> str:
    """The https URL that takes `user_id` off `list_id`: GET shows a button, POST unsubscribes."""
    return _external("preferences.unsubscribe", token=unsubscribe_token(user_id, list_id))


def preferences_url(user_id: int) -> str:
    """The URL of the person's preference page that works without signing in."""
    return _external("preferences.by_token", token=preferences_token(user_id))


def list_id_header(mailing_list: MailingList) -> str:
    """The RFC 2919 List-Id: `"Service updates" <service-updates.lists.sentro.co>`."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "sentro.co"
    return f'"{mailing_list.name}" <{mailing_list.id}.lists.{domain}>'


def _headers(found: MailingList, url: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id_header(found),
    }


def list_headers(user_id: int, list_id: str) -> dict[str, str]:
    """The headers every email of `list_id` to `user_id` carries (none for transactional)."""
    found = mailing_list(list_id)
    if found.transactional:
        return {}
    return _headers(found, unsubscribe_url(user_id, list_id))


def footer(user_id: int, list_id: str | None) -> dict[str, Any]:
    """The footer context of templates/email/_footer.*: why, leave this list, manage all."""
    found = mailing_list(list_id) if list_id is not None else None
    if found is None or found.transactional:
        return {
            "reason": "We send this to every Sentro account holder because it is about your "
            "account; it cannot be switched off while you have an account.",
            "list_name": found.name if found else "",
            "unsubscribe_url": None,
            "preferences_url": preferences_url(user_id),
        }
    return {
        "reason": f"You are receiving this because you are on Sentro's “{found.name}” list.",
        "list_name": found.name,
        "unsubscribe_url": unsubscribe_url(user_id, found.id),
        "preferences_url": preferences_url(user_id),
    }


def mail_extras(user_id: int, list_id: str | None) -> tuple[dict[str, str], dict[str, Any]]:
    """The outbox hook: (headers, footer context) for an email to `user_id` on `list_id`."""
    context = footer(user_id, list_id)
    if list_id is None or context["unsubscribe_url"] is None:
        return {}, context
    return _headers(mailing_list(list_id), context["unsubscribe_url"]), context
