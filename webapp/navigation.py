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
    Section("Staff", "staff.home", "Queues and registers for Sentro staff.", staff_only=True),
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
    Section(
        "Disclosure register",
        "disclosures_staff.register",
        "Record each release of a person's information.",
        staff_only=True,
    ),
    Section(
        "Privacy requests",
        "inquiries_staff.queue",
        "Answer privacy questions and requests by their due date.",
        staff_only=True,
    ),
)


def sections(*, staff: bool) -> list[Section]:
    """The sections this app serves (a capability that is not installed is not listed)."""
    views = current_app.view_functions
    return [s for s in SECTIONS if s.endpoint in views and (staff or not s.staff_only)]


#: (endpoint, label) pairs in the footer, shown when the capability is installed.
FOOTER: tuple[tuple[str, str], ...] = ()


def footer_links() -> list[tuple[str, str]]:
    """The footer's links this app serves."""
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label in FOOTER if endpoint in views]


def init_app(app: Flask) -> None:
    """Make `nav_sections()` and `footer_links()` available to templates."""
    app.jinja_env.globals["nav_sections"] = sections
    app.jinja_env.globals["footer_links"] = footer_links
