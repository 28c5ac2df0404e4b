"""Email preferences: which lists a person is on, one-click unsubscribe, campaigns.

For Sentro's other systems, the same guarantees this site's own emails have:

``webapp.preferences.may_send(db, user_id, list_id) -> bool``
    The suppression check. False for a closed, erased or unknown account, for a person
    without an address, and for anyone who left the list (or never joined an opt-in list).
    Ask it just before sending, not when planning a send.

``webapp.preferences.list_headers(user_id, list_id) -> dict[str, str]``
    ``List-Unsubscribe: <https://…>``, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    and ``List-Id`` for that person and list (empty for the transactional "account" list).
    Put every one in the message; a POST of ``List-Unsubscribe=One-Click`` to the URL takes
    the person off the list at once (RFC 8058).

``webapp.preferences.unsubscribe_url(user_id, list_id)`` and ``preferences_url(user_id)``
    The links for the visible footer every list email must carry (the unsubscribe link
    never expires and survives key rotation; the preference link lasts 60 days).

``webapp.preferences.set_subscription(db, user_id, list_id, subscribed, via)``
    Change a choice (``via``: "page", "email-link", "one-click" or "staff"); the choice, its
    history and the audit are committed together. The account list is refused (LockedList),
    and so is joining a list through an emailed link, "email-link" or "one-click"
    (NeedsSignIn): a link in an email may only reduce mail.

``webapp.preferences.audience.audience(list_id)``
    The SELECT of (id, email) of everyone on a list, for bulk sends.

From a shell: ``flask --app webapp mail unsubscribe-link --user ID --list LIST`` prints the
URL and headers, ``flask --app webapp mail campaign --list LIST --subject TEXT --body FILE``
queues a Markdown email to a whole list, once per person however often it is run.
Everything queued through ``webapp.mail.queue_email`` with a ``user_id`` gets the headers
(list emails) and the footer automatically: registering the blueprint (`views.bp`) installs
the hook.
"""

from __future__ import annotations

from .links import LockedList, UnknownList, list_headers, preferences_url, unsubscribe_url
from .service import Outcome, choices, is_subscribed, may_send, set_subscription

__all__ = [
    "LockedList",
    "Outcome",
    "UnknownList",
    "choices",
    "is_subscribed",
    "list_headers",
    "may_send",
    "preferences_url",
    "set_subscription",
    "unsubscribe_url",
]
