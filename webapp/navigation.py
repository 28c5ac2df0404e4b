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


def sections(*, staff: bool, primary: bool = False) -> list[Section]:
    """The sections this app serves (a capability that is not installed is not listed)."""
    views = current_app.view_functions
    return [
        s
        for s in SECTIONS
        if s.endpoint in views and (staff or not s.staff_only) and (s.primary or not primary)
    ]


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
