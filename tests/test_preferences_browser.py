"""In a real browser: the preference switches, with JavaScript (htmx) and without."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.browser import sign_in_with_browser
from webapp.models import User
from webapp.preferences import service

pytestmark = pytest.mark.browser


def open_preferences(page, provider_url: str) -> None:
    sign_in_with_browser(page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana"})
    page.get_by_role("link", name="Email preferences").first.click()
    page.wait_for_url("**/account/email-preferences")


def ana(db) -> int:
    db.rollback()
    return db.exec(select(User.id).where(User.subject == "ana")).one()


def test_a_switch_saves_in_place_with_javascript(browser_page, provider_url, db):
    page = browser_page
    open_preferences(page, provider_url)
    offers = page.get_by_role("switch", name="Offers for other Sentro services")
    assert offers.get_attribute("aria-checked") == "false"
    offers.click()
    row = page.locator("#list-offers")
    row.get_by_role("status").filter(has_text="Saved").wait_for()
    assert offers.get_attribute("aria-checked") == "true"
    assert page.url.endswith("/account/email-preferences")
    assert page.locator(".notice").count() == 0  # no reload: htmx swapped the row only
    assert offers.evaluate("element => element === document.activeElement")  # focus kept
    assert service.is_subscribed(db, ana(db), "offers")

    offers.click()
    page.locator("#list-offers-switch[aria-checked='false']").wait_for()
    assert not service.is_subscribed(db, ana(db), "offers")
    locked = page.get_by_role("switch", name="Account and security notices")
    assert locked.get_attribute("aria-disabled") == "true"


def test_a_switch_saves_without_javascript(nojs_page, provider_url, db):
    page = nojs_page
    open_preferences(page, provider_url)
    updates = page.get_by_role("switch", name="Service updates")
    assert updates.get_attribute("aria-checked") == "true"
    updates.click()
    page.wait_for_load_state()
    assert "Saved: “Service updates” is off." in page.locator(".notice").inner_text()
    updates = page.get_by_role("switch", name="Service updates")
    assert updates.get_attribute("aria-checked") == "false"
    assert "on this page" in page.locator("#list-service-updates").inner_text()
    assert not service.is_subscribed(db, ana(db), "service-updates")
