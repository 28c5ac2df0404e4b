"""Staff flows in a real browser, with and without JavaScript, each page checked with axe:
approving a closure through its confirmation page, publishing a policy through its preview,
and finding a request in a queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.a11y import assert_accessible
from tests.browser import new_tab, sign_in_with_browser
from tests.policy_support import load_v1
from webapp.models import utcnow

pytestmark = pytest.mark.browser

CUSTOMER = ("ana", {"email": "ana@example.com", "name": "Ana Customer"})
STAFF = ("sam", {"email": "sam@sentro.co", "name": "Sam Staff", "groups": ["sentro-staff"]})


@pytest.fixture(autouse=True)
def _empty_tables_afterwards(app):
    """The live site shares the test database; `app`'s teardown empties it for the next test."""


@pytest.fixture(params=[True, False], ids=["javascript", "no javascript"])
def scripts(request) -> bool:
    """Whether the tab runs JavaScript (and so axe, which is a script)."""
    return request.param


@pytest.fixture
def tab(scripts, chromium, live_url):
    """A tab with or without JavaScript; with it, the CSP lets axe in."""
    with new_tab(chromium, live_url, java_script_enabled=scripts, bypass_csp=scripts) as page:
        yield page


def ask_to_close(page, provider_url: str) -> None:
    sign_in_with_browser(page, provider_url, *CUSTOMER)
    page.goto("/account/close")
    page.get_by_label("Type CLOSE to confirm").fill("CLOSE")
    page.get_by_role("button", name="Ask to close my account").click()
    page.wait_for_url("**/account/close/status")
    page.context.clear_cookies()


def test_staff_find_a_closure_and_approve_it_on_the_confirmation_page(tab, scripts, provider_url):
    ask_to_close(tab, provider_url)
    sign_in_with_browser(tab, provider_url, *STAFF)
    tab.goto("/staff/closures/")
    tab.get_by_label("Search").fill("ana@example")
    tab.get_by_role("button", name="Search").click()
    tab.get_by_text("Showing 1–1 of 1 closure requests matching").wait_for()
    if scripts:
        assert_accessible(tab, "the closure queue, searched")
    tab.locator("#queue table a").first.click()
    tab.get_by_role("link", name="Review and approve…").click()
    tab.get_by_role("heading", name="Approve closing the account of Ana Customer?").wait_for()
    assert "Sign-in identity at the provider" in tab.locator("#kept-heading + table").inner_text()
    if scripts:
        assert_accessible(tab, "the approval confirmation page")
    tab.get_by_role("button", name="Approve and schedule erasure").click()
    tab.get_by_text("Approved.").first.wait_for()
    assert "Erasure runs" in tab.content()


def test_staff_publish_a_policy_after_the_preview_and_follow_its_notices(
    app, tab, scripts, provider_url
):
    load_v1(app)
    sign_in_with_browser(tab, provider_url, *STAFF)
    tab.goto("/staff/policy/")
    text = tab.get_by_label("Text", exact=True)
    assert "Privacy Act" in text.input_value()  # it starts from the newest version
    text.fill(text.input_value().replace("Privacy Act 2002", "Privacy Act 2020"))
    tab.get_by_label("What changed, in plain words").fill("We name the Privacy Act 2020.")
    effective = (utcnow().date() + timedelta(days=7)).isoformat()
    tab.get_by_label("Takes effect on").fill(effective)
    tab.get_by_role("button", name="Preview the changes").click()
    tab.get_by_role("heading", name="Publish version 2?").wait_for()
    assert "2020" in tab.locator(".diff ins").all_inner_texts()[0]
    if scripts:
        assert_accessible(tab, "the publishing preview")
    tab.get_by_role("button", name="Publish version 2 and email 1 person").click()
    tab.get_by_text("Version 2 is published.").wait_for()
    # Published: the mail worker, not this request, writes and sends the notices.
    assert "0 of 1 notice queued, 0 sent" in tab.locator("#notices-2").inner_text()
    if scripts:
        assert_accessible(tab, "the staff policy page following the notices")
    published = tab.locator("#published-heading + ul").inner_text()
    assert published.index("Version 2") < published.index("Version 1")
