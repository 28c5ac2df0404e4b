"""In a real browser: a copied cookie dies with sign-out; other sessions end from the list."""

from __future__ import annotations

import pytest

from tests.browser import new_tab, sign_in_with_browser

pytestmark = pytest.mark.browser

ANA = {"email": "ana@example.com", "name": "Ana Customer"}


def is_signed_in(page) -> bool:
    page.goto("/account")
    return "/oauth2/authorize" not in page.url and "Kia ora" in page.content()


def test_signing_out_in_one_browser_signs_out_a_copy_of_its_cookies(
    app, chromium, live_url, provider_url
):
    with new_tab(chromium, live_url) as original, new_tab(chromium, live_url) as copy:
        sign_in_with_browser(original, provider_url, "ana", ANA)
        copy.context.add_cookies(original.context.cookies(live_url))
        assert is_signed_in(copy)
        original.get_by_role("button", name="Sign out").click()
        original.get_by_role("button", name="End session").click()
        original.wait_for_url("**/signed-out?*")
        assert not is_signed_in(copy)  # its very next request
        assert "/oauth2/authorize" in copy.url


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("action", ["one", "all-others"])
def test_other_sessions_end_from_the_security_page(
    app, chromium, live_url, provider_url, javascript, action
):
    with (
        new_tab(chromium, live_url, java_script_enabled=javascript) as mine,
        new_tab(chromium, live_url) as other,
    ):
        sign_in_with_browser(other, provider_url, "ana", ANA)
        sign_in_with_browser(mine, provider_url, "ana", ANA)
        mine.goto("/account/security")
        sessions = mine.locator("#sessions")
        assert sessions.locator("li.session").count() == 2
        assert sessions.locator("li.session-current").get_by_text("This browser").count() == 1
        if action == "one":
            sessions.locator("li.session:not(.session-current)").get_by_role(
                "button", name="Sign out"
            ).click()
        else:
            sessions.get_by_role("button", name="Sign out all other sessions").click()
        sessions = mine.locator("#sessions")
        sessions.get_by_text("No other browser is signed in.").wait_for()
        assert sessions.locator("li.session").count() == 1
        assert mine.url.endswith("/account/security")
        # Without JavaScript the form posts and the page comes back with a notice (PRG);
        # with it, htmx swaps only the list, so no page-level notice appears.
        notices = mine.locator("p.notice-success").all_inner_texts()
        assert any("signed out" in n for n in notices) is (not javascript)
        assert not is_signed_in(other)
        assert is_signed_in(mine)


def test_the_security_page_fits_a_phone(app, chromium, live_url, provider_url):
    with (
        new_tab(chromium, live_url, viewport={"width": 320, "height": 640}) as phone,
        new_tab(chromium, live_url) as laptop,
    ):
        sign_in_with_browser(laptop, provider_url, "ana", ANA)
        sign_in_with_browser(phone, provider_url, "ana", ANA)
        phone.goto("/account/security")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"the page is {width} px wide on a 320 px screen"
