"""In a real browser, with and without JavaScript: ask to close the account, then cancel."""

import pytest

from tests.browser import sign_in_with_browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("tab", ["browser_page", "nojs_page"])
def test_ask_to_close_then_cancel(request, provider_url, tab):
    page = request.getfixturevalue(tab)
    sign_in_with_browser(page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana"})
    page.get_by_role("link", name="Close account").first.click()
    page.get_by_role("link", name="Close my account…").click()
    assert "What we may have to keep, and why" in page.content()

    page.get_by_label("Type CLOSE to confirm").fill("nope")
    page.get_by_role("button", name="Ask to close my account").click()
    error = page.locator("#confirmation-error")
    error.wait_for()
    assert "Type CLOSE to confirm" in error.inner_text()
    assert page.get_by_label("Type CLOSE to confirm").get_attribute("aria-invalid") == "true"

    page.get_by_label("Type CLOSE to confirm").fill("CLOSE")
    page.get_by_role("button", name="Ask to close my account").click()
    page.wait_for_url("**/account/close/status")
    assert "Your request: Received" in page.content()

    page.get_by_role("button", name="Cancel my request and keep my account").click()
    page.get_by_text("Your request: Cancelled").wait_for()
