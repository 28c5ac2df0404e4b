"""The mailing lists. Adding a list is one more `MailingList` in `LISTS`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MailingList:
    """A kind of email Sentro sends."""

    id: str  #: stable: stored in subscriptions and used in List-Id
    name: str
    description: str
    default: bool  #: on or off for a person who never chose
    transactional: bool = False  #: always sent, cannot be switched off


ACCOUNT = "account"
POLICY_UPDATES = "policy-updates"
SERVICE_UPDATES = "service-updates"
OFFERS = "offers"
RESEARCH = "research"

LISTS: tuple[MailingList, ...] = (
    MailingList(
        ACCOUNT,
        "Account and security notices",
        "Sign-in alerts, email changes, account closure: what we must tell you about your account.",
        default=True,
        transactional=True,
    ),
    MailingList(
        POLICY_UPDATES,
        "Privacy policy updates",
        "A short notice whenever our privacy policy changes.",
        default=True,
    ),
    MailingList(
        SERVICE_UPDATES,
        "Service updates",
        "News about the Sentro services you use: changes, outages, new features.",
        default=True,
    ),
    MailingList(
        OFFERS,
        "Offers for other Sentro services",
        "Occasional offers for Sentro services you don't use yet.",
        default=False,
    ),
    MailingList(
        RESEARCH,
        "Research and surveys",
        "Invitations to tell us what you think, a few times a year.",
        default=False,
    ),
)

BY_ID = {mailing_list.id: mailing_list for mailing_list in LISTS}


def get(list_id: str) -> MailingList | None:
    """The list with this id, or None."""
    return BY_ID.get(list_id)
