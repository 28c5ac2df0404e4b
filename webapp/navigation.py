"""The account's sections, listed once: the site navigation and the /account hub both read this."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from flask import Flask, current_app, request, url_for
from markupsafe import Markup


@dataclass(frozen=True)
class Section:
    """One place a signed-in person can go."""

    label: str
    endpoint: str
    description: str
    staff_only: bool = False
    primary: bool = False  #: also in the site's top navigation (every section is on the hub)


SECTIONS: tuple[Section, ...] = (
    Section("Account", "account.home", "Your Sentro account at a glance.", primary=True),
    Section(
        "Profile",
        "profile.show",
        "Your name, email, phone and address; correct them.",
        primary=True,
    ),
    Section(
        "Email preferences",
        "preferences.page",
        "Choose which emails Sentro sends you.",
        primary=True,
    ),
    Section(
        "Privacy controls",
        "consent.controls",
        "Choose analytics, personalisation and research, each on its own.",
    ),
    Section(
        "Your data",
        "mydata.your_data",
        "Everything we hold about you; download it.",
        primary=True,
    ),
    Section("Sign-in activity", "mydata.security", "Where and when your account was used."),
    Section(
        "Who received your information",
        "disclosures.mine",
        "Whether your information has been provided to anyone, and the companies that help us.",
    ),
    Section(
        "Privacy questions",
        "inquiries.mine",
        "Ask a privacy question or make a request to see or correct your information.",
    ),
    Section("Close account", "closure.status", "Ask us to close your account and erase your data."),
    Section(
        "Staff",
        "staff.home",
        "Queues and registers for Sentro staff.",
        staff_only=True,
        primary=True,
    ),
    Section(
        "Closure requests",
        "closure_staff.queue",
        "Review, hold, approve or decline account closures.",
        staff_only=True,
    ),
    Section(
        "Privacy requests",
        "inquiries_staff.queue",
        "Answer privacy questions and requests by their due date.",
        staff_only=True,
    ),
    Section(
        "Disclosure register",
        "disclosures_staff.register",
        "Record each release of a person's information.",
        staff_only=True,
    ),
    Section(
        "Privacy policy",
        "policy_staff.publish_form",
        "Publish a new version of the privacy policy and tell everyone on the list.",
        staff_only=True,
    ),
)


class Navigation:
    """The sections this app serves, worked out once per app (not per request).

    `groups(staff)` is what the side navigation and the phone menu list; `current(endpoint)`
    names the section a page belongs to, so the navigation can mark it with `aria-current`.
    """

    def __init__(self, app: Flask) -> None:
        views = app.view_functions
        served = [s for s in SECTIONS if s.endpoint in views]
        self.customer: tuple[Section, ...] = tuple(s for s in served if not s.staff_only)
        self.staff_only: tuple[Section, ...] = tuple(s for s in served if s.staff_only)
        by_blueprint: dict[str, list[Section]] = {}
        for section in served:
            by_blueprint.setdefault(section.endpoint.split(".")[0], []).append(section)
        #: every endpoint -> the endpoint of its section: the section itself, or the only
        #: section of its blueprint (a request's detail page belongs to its list).
        self._current: dict[str, str] = {}
        self._hrefs: dict[tuple[str, str], str] = {}
        for endpoint in views:
            blueprint = endpoint.split(".")[0]
            owners = by_blueprint.get(blueprint, [])
            own = [s for s in owners if s.endpoint == endpoint]
            if own or len(owners) == 1:
                self._current[endpoint] = (own or owners)[0].endpoint

    def sections(self, *, staff: bool, primary: bool = False) -> list[Section]:
        """Sections for a customer (or for staff too), optionally only the primary ones."""
        found = self.customer + (self.staff_only if staff else ())
        return [s for s in found if s.primary or not primary]

    def groups(self, *, staff: bool) -> tuple[tuple[str, tuple[Section, ...]], ...]:
        """(heading, sections) for the navigation: the account, then staff's own list."""
        if staff and self.staff_only:
            return (("Your account", self.customer), ("Staff", self.staff_only))
        return (("Your account", self.customer),)

    def href(self, endpoint: str) -> str:
        """A section's URL, built once per app and script root (every page lists them twice)."""
        key = (request.script_root, endpoint)
        found = self._hrefs.get(key)
        if found is None:
            found = self._hrefs[key] = url_for(endpoint)
        return found

    def current(self, endpoint: str | None) -> str | None:
        """The endpoint of the section the page at `endpoint` belongs to, if any."""
        return self._current.get(endpoint or "")


def navigation() -> Navigation:
    """This app's navigation, built on first use (after every blueprint is registered)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("sentro.navigation")
    if found is None:
        found = app.extensions["sentro.navigation"] = Navigation(app)
    return found


def sections(*, staff: bool, primary: bool = False) -> list[Section]:
    """The sections this app serves (a capability that is not installed is not listed)."""
    return navigation().sections(staff=staff, primary=primary)


#: (endpoint, label) pairs in the footer, shown when the capability is installed.
FOOTER: tuple[tuple[str, str], ...] = (
    ("policy.current", "Privacy policy"),
    ("consent.cookies", "Cookies"),
    ("consent.controls", "Privacy controls"),
)


def footer_links() -> list[tuple[str, str]]:
    """The footer's links this app serves."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("sentro.footer")
    if found is None:
        views = app.view_functions
        found = app.extensions["sentro.footer"] = [(e, label) for e, label in FOOTER if e in views]
    return found


def layout_url(endpoint: str, **values: str) -> str:
    """`url_for` for the layout's fixed links (assets, sign-in/out, footer): built once per app.

    Only for URLs that are the same on every request of a deployment (they depend on nothing
    but the script root); a URL with a person's or a page's values goes through `url_for`.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _layout_url(app, endpoint, **values)


def _layout_url(app: Flask, endpoint: str, **values: str) -> str:
    cache = app.extensions.setdefault("sentro.layout_urls", {})
    key = (request.script_root, endpoint, *values.items())
    found = cache.get(key)
    if found is None:
        found = cache[key] = url_for(endpoint, **values)
    return found


def section_nav(staff: bool, endpoint: str | None, label: str) -> Markup:
    """The `_ui.html` section list, rendered once per app, script root, rights, page and label.

    It holds nothing about the person but whether they have staff rights, so the same markup
    serves everyone on that page; with template auto-reload on (development) it is not kept.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault("sentro.section_nav", {})
    key = (request.script_root, bool(staff), endpoint, label)
    found = cache.get(key)
    if found is None:
        macro = app.jinja_env.get_template("_ui.html").module.section_nav  # type: ignore[attr-defined]
        found = Markup(macro(navigation(), bool(staff), endpoint, label))
        if not app.jinja_env.auto_reload:
            cache[key] = found
    return found


def init_app(app: Flask) -> None:
    """Expose the navigation, its sections, footer links, layout URLs and section list."""
    # Bound to this app: a page builds about twenty of these, none through `current_app`.
    app.jinja_env.globals["layout_url"] = partial(_layout_url, app)
    app.jinja_env.globals["section_nav"] = section_nav
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.globals["nav_sections"] = sections
    app.jinja_env.globals["footer_links"] = footer_links
