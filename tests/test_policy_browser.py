"""The policy in a real browser: acknowledging with and without JavaScript, the comparison on a
phone and on paper."""

from __future__ import annotations

import pytest

from tests.browser import sign_in_with_browser
from tests.policy_support import load_v1, publish, today

pytestmark = pytest.mark.browser

ANA = {"email": "ana@example.com", "name": "Ana Customer"}


@pytest.fixture
def version_2_in_effect(app):
    load_v1(app)
    publish(app, effective_on=today())


def test_acknowledging_with_htmx_replaces_the_banner_in_place(
    browser_page, provider_url, version_2_in_effect
):
    page = browser_page
    sign_in_with_browser(page, provider_url, "ana", ANA)
    banner = page.locator("#policy-banner")
    assert "Our privacy policy has changed" in banner.inner_text()
    page.get_by_role("button", name="I have seen version 2").click()
    page.get_by_text("we noted that you have seen version 2").wait_for()
    assert page.url.endswith("/account")
    page.reload()
    assert page.locator("#policy-banner").count() == 0


def test_acknowledging_works_without_javascript(nojs_page, provider_url, version_2_in_effect):
    page = nojs_page
    sign_in_with_browser(page, provider_url, "ana", ANA)
    page.get_by_role("link", name="See what changed since you last looked").click()
    page.wait_for_url("**/privacy/compare?from=1&to=2")
    page.get_by_role("button", name="I have seen version 2").click()
    page.wait_for_url("**/privacy/compare?from=1&to=2")
    assert page.locator("#policy-banner").count() == 0
    assert "you have seen version 2" in page.locator("#notices").inner_text()


def test_the_comparison_fits_a_phone_and_prints_its_marks_as_words(
    browser_page, version_2_in_effect
):
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/privacy/compare?from=1&to=2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    marker = page.locator(".diff ins .visually-hidden").first
    position = "el => getComputedStyle(el).position"
    assert marker.evaluate(position) == "absolute"  # heard, not seen, on a screen

    page.emulate_media(media="print")
    assert marker.evaluate(position) == "static"  # printed, where colour may be lost
    assert " ".join(page.locator(".diff ins").first.inner_text().split()) == "[inserted: 2020]"
    assert page.locator(".compare-form").is_hidden()
