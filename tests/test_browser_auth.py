"""In a real browser: sign in through the provider, see the account, sign out."""

import pytest

from tests.browser import sign_in_with_browser

pytestmark = pytest.mark.browser


def test_sign_in_and_out_in_a_browser(browser_page, provider_url):
    page = browser_page
    sign_in_with_browser(
        page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana Customer"}
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Kia ora, Ana Customer"
    assert "ana@example.com" in page.content()
    page.get_by_role("button", name="Sign out").click()
    # The provider asks to confirm ending its session, then sends the person back.
    page.get_by_role("button", name="End session").click()
    page.wait_for_url("**/signed-out?*")
    assert "You are signed out" in page.content()
    page.goto("/account")
    assert "/oauth2/authorize" in page.url
