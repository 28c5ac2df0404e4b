"""Keyboard only: correct a profile field in place and leave a mailing list, with Tab, Shift+Tab,
Enter, Space and typing (no clicks), and no accessibility violation after any htmx swap."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.a11y import assert_accessible
from tests.browser import sign_in_with_browser
from webapp.models import User
from webapp.preferences import links, service

pytestmark = pytest.mark.browser

#: More presses than any page here has tab stops: past this, the control is not reachable.
MAX_TABS = 60


def focused(page) -> str:
    """The focused element's accessible text as a person hears it (label, or its own text)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "";
            const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
            const by = el.getAttribute("aria-labelledby");
            const named = by ? by.split(" ").map(id => document.getElementById(id)?.textContent || "").join(" ") : "";
            return (el.getAttribute("aria-label") || named || label || el.textContent || "")
                .replace(/\\s+/g, " ").trim();
        }"""
    )


def tab_to(page, name: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the control called `name` has focus."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        now = focused(page)
        if now == name:
            return
        seen.append(now)
    pytest.fail(f"{name!r} is not reachable with {key}; focus went through {seen}")


def user_id(db, subject: str) -> int:
    db.rollback()
    return db.exec(select(User.id).where(User.subject == subject)).one()


def on_updates(db, person: int) -> bool:
    """Whether the person gets "Service updates", as the site has stored it by now."""
    db.rollback()  # a fresh snapshot: see what the live site committed
    return service.is_subscribed(db, person, "service-updates")


def test_a_profile_field_is_corrected_with_the_keyboard_alone(browser_page, provider_url):
    page = browser_page
    sign_in_with_browser(page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana"})
    tab_to(page, "Profile")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/profile")

    tab_to(page, "Edit name")
    page.keyboard.press("Enter")
    page.locator("#field-name form").wait_for()
    assert page.url.endswith("/account/profile")  # swapped in place
    assert focused(page) == "Full name"  # focus moved into the form that appeared
    assert_accessible(page, "the name form, swapped in")

    page.keyboard.press("Tab")
    assert focused(page) == "Preferred name"
    page.keyboard.type("Annie")
    tab_to(page, "Cancel editing name")
    tab_to(page, "Save name", backwards=True)
    page.keyboard.press("Enter")
    page.locator("#field-name dd", has_text="Annie").wait_for()
    assert "Name saved." in page.locator("#notices").inner_text()
    assert focused(page) == "Edit name"  # not lost to the top of the page
    assert_accessible(page, "the saved name, swapped in")

    # Focus stayed on Edit: Enter opens the form again, and Cancel brings focus back to Edit.
    page.keyboard.press("Enter")
    page.locator("#field-name form").wait_for()
    tab_to(page, "Cancel editing name")
    page.keyboard.press("Enter")
    page.locator("#field-name form").wait_for(state="detached")
    assert focused(page) == "Edit name"
    assert_accessible(page, "the name, after cancelling")


def test_a_list_is_left_with_the_keyboard_from_the_page_and_from_an_email(
    browser_page, provider_url, app, db
):
    page = browser_page
    sign_in_with_browser(page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana"})
    ana = user_id(db, "ana")
    assert on_updates(db, ana)

    tab_to(page, "Email preferences")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/email-preferences")
    tab_to(page, "Service updates")
    page.keyboard.press("Space")
    page.locator("#list-service-updates-switch[aria-checked='false']").wait_for()
    assert focused(page) == "Service updates"  # the switch kept focus through the swap
    assert_accessible(page, "the list row, swapped in")
    assert not on_updates(db, ana)

    page.keyboard.press("Enter")  # and back on, from where focus is
    page.locator("#list-service-updates-switch[aria-checked='true']").wait_for()
    assert focused(page) == "Service updates"
    assert_accessible(page, "the list row, switched back on")
    assert on_updates(db, ana)

    # The link at the foot of a list email: a page with one button, pressed with the keyboard.
    # (The tests' app signs links with the live site's key; the tab's base URL is the live site.)
    with app.app_context():
        url = links.unsubscribe_url(ana, "service-updates")
    page.goto(url.removeprefix(app.config["BASE_URL"]))
    assert_accessible(page, "the unsubscribe page of an email link")
    tab_to(page, "Unsubscribe")
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1).filter(has_text="unsubscribed").wait_for()
    assert_accessible(page, "after unsubscribing from the email link")
    assert not on_updates(db, ana)
