"""The account's sections, listed once: the site navigation and the /account hub both read this."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app


@dataclass(frozen=True)
class Section:
    """One place a signed-in person can go."""

    label: str
    endpoint: str
    description: str
    staff_only: bool = False


SECTIONS: tuple[Section, ...] = (
    Section("Account", "account.home", "Your Sentro account at a glance."),
    Section("Profile", "profile.show", "Your name, email, phone and address; correct them."),
    Section("Email preferences", "preferences.page", "Choose which emails Sentro sends you."),
    Section(
        "Privacy controls",
        "consent.controls",
        "Choose analytics, personalisation and research, each on its own.",
    ),
    Section("Your data", "mydata.your_data", "Everything we hold about you; download it."),
    Section("Sign-in activity", "mydata.security", "Where and when your account was used."),
    Section("Staff", "staff.home", "Queues and registers for Sentro staff.", staff_only=True),
    Section("Close account", "closure.status", "Ask us to close your account and erase your data."),
    Section(
        "Closure requests",
        "closure_staff.queue",
        "Review, hold, approve or decline account closures.",
        staff_only=True,
    ),
    Section(
        "Privacy policy",
        "policy_staff.publish_form",
        "Publish a new version of the privacy policy and tell everyone on the list.",
        staff_only=True,
    ),
)


def sections(*, staff: bool) -> list[Section]:
    """The sections this app serves (a capability that is not installed is not listed)."""
    views = current_app.view_functions
    return [s for s in SECTIONS if s.endpoint in views and (staff or not s.staff_only)]


#: (endpoint, label) pairs in the footer, shown when the capability is installed.
FOOTER: tuple[tuple[str, str], ...] = (
    ("policy.current", "Privacy policy"),
    ("consent.cookies", "Cookies"),
    ("consent.controls", "Privacy controls"),
)


def footer_links() -> list[tuple[str, str]]:
    """The footer's links this app serves."""
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label in FOOTER if endpoint in views]


def init_app(app: Flask) -> None:
    """Make `nav_sections()` and `footer_links()` available to templates."""
    app.jinja_env.globals["nav_sections"] = sections
    app.jinja_env.globals["footer_links"] = footer_links
