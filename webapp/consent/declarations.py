"""Every cookie and browser-storage key the site sets, declared once.

`/privacy/cookies` is generated from `DECLARATIONS`, and the tests refuse any response that
sets a cookie not declared here. A new cookie is one more `Declared(...)` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """Why a cookie exists, which decides whether it needs consent."""

    ESSENTIAL = "essential"  #: the site cannot work without it; no consent needed
    ANALYTICS = "analytics"  #: how the site is used; only after the person allows analytics
    PERSONALISATION = "personalisation"  #: tailoring the site; only after the person allows it


#: What each category means, for /privacy/cookies.
CATEGORY_TEXT: dict[Category, tuple[str, str]] = {
    Category.ESSENTIAL: (
        "Essential",
        "The site cannot work without these, so they are always set. They never track you "
        "across other sites.",
    ),
    Category.ANALYTICS: (
        "Analytics",
        "Set only after you allow analytics, and removed when you withdraw it.",
    ),
    Category.PERSONALISATION: (
        "Personalisation",
        "Set only after you allow personalisation.",
    ),
}


class Kind(StrEnum):
    """Where in the browser the value is kept."""

    COOKIE = "cookie"
    LOCAL_STORAGE = "local storage"
    SESSION_STORAGE = "session storage"


SENTRO = "Sentro"
ANALYTICS_PROVIDER = "Google Analytics (Google LLC), on our behalf"

SESSION_COOKIE = "sentro_session"
CONSENT_COOKIE = "sentro_consent"
CONSENT_LIFETIME_DAYS = 365  # ask again after a year, as the regulators' guidance suggests


@dataclass(frozen=True)
class Declared:
    """One cookie or storage key: what it is called, why it exists, how long it lives."""

    name: str  #: as people read it; `<id>` marks a part that varies
    purpose: str
    category: Category
    lifetime: str
    set_by: str
    kind: Kind = Kind.COOKIE
    pattern: str | None = None  #: a regular expression for names with a variable part

    def matches(self, name: str) -> bool:
        """Whether a cookie (or key) called `name` is this declaration."""
        if self.pattern is not None:
            return re.fullmatch(self.pattern, name) is not None
        return name == self.name

    @property
    def needs_consent(self) -> bool:
        """Everything but essential cookies waits for the person's choice."""
        return self.category is not Category.ESSENTIAL


DECLARATIONS: tuple[Declared, ...] = (
    Declared(
        SESSION_COOKIE,
        "Keeps you signed in (a random reference to your session, nothing about you), "
        "protects forms against cross-site forgery and carries short messages from one page "
        "to the next.",
        Category.ESSENTIAL,
        "Until you close the browser or sign out",
        SENTRO,
    ),
    Declared(
        CONSENT_COOKIE,
        "Remembers what you chose about analytics, personalisation and research, so we ask "
        "only once. It holds your choices and nothing else, signed so it cannot be forged.",
        Category.ESSENTIAL,
        f"{CONSENT_LIFETIME_DAYS} days, then we ask again",
        SENTRO,
    ),
    Declared(
        "htmx-current-path-for-history",
        "The address of the page you are on, so the Back button works after a part of the "
        "page was updated in place (kept by htmx, the library that updates pages).",
        Category.ESSENTIAL,
        "Until you close the tab",
        SENTRO,
        kind=Kind.SESSION_STORAGE,
    ),
    Declared(
        "_ga",
        "Tells Google Analytics that visits come from the same browser, so we can count "
        "visitors rather than page views.",
        Category.ANALYTICS,
        "2 years; removed when you withdraw consent",
        ANALYTICS_PROVIDER,
    ),
    Declared(
        "_ga_<id>",
        "Keeps the state of a visit (a session) for our Google Analytics property.",
        Category.ANALYTICS,
        "2 years; removed when you withdraw consent",
        ANALYTICS_PROVIDER,
        pattern=r"_ga_[A-Za-z0-9]+",
    ),
)

#: Cookies set by the analytics provider's script: expired when analytics consent is withdrawn.
ANALYTICS_COOKIES = tuple(d for d in DECLARATIONS if d.category is Category.ANALYTICS)


def declaration_for(name: str, kind: Kind = Kind.COOKIE) -> Declared | None:
    """The declaration of a cookie (or storage key) called `name`, if there is one."""
    return next((d for d in DECLARATIONS if d.kind is kind and d.matches(name)), None)


def is_analytics_cookie(name: str) -> bool:
    """Whether `name` is one of the analytics provider's cookies."""
    return any(d.matches(name) for d in ANALYTICS_COOKIES)


def by_category() -> list[tuple[Category, list[Declared]]]:
    """The declarations grouped by category, essential first, every category listed."""
    return [(c, [d for d in DECLARATIONS if d.category is c]) for c in Category]
