"""In a real browser: correct a field in place with JavaScript, and on a plain page without it."""

import re

import pytest

from tests.browser import sign_in_with_browser

pytestmark = pytest.mark.browser


def open_profile(page, provider_url: str) -> None:
    sign_in_with_browser(
        page, provider_url, "ana", {"email": "ana@example.com", "name": "Ana Customer"}
    )
    page.get_by_role("link", name="Profile").first.click()
    page.wait_for_url("**/account/profile")


def test_editing_the_phone_inline_with_javascript(browser_page, provider_url):
    page = browser_page
    open_profile(page, provider_url)
    page.get_by_role("link", name="Edit phone number").click()
    field = page.get_by_role("textbox", name="Phone number")
    field.wait_for()
    assert page.url.endswith("/account/profile")  # swapped in place, no new page
    assert field.evaluate("el => el === document.activeElement")  # focus moved to the field

    field.fill("banana")
    page.get_by_role("button", name="Save phone number").click()
    error = page.locator("#f-phone-error")
    error.wait_for()
    assert "Enter a phone number" in error.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    assert "Not saved" in page.locator("#notices").inner_text()  # announced

    page.get_by_role("textbox", name="Phone number").fill("021 555 0123")
    page.get_by_role("button", name="Save phone number").click()
    page.locator("#field-phone .field-value", has_text="+64 21 555 0123").wait_for()
    assert "Phone number saved." in page.locator("#notices").inner_text()
    assert page.url.endswith("/account/profile")

    # The next edit starts clean: the last field's "saved" is not left standing beside it.
    page.get_by_role("link", name="Edit name").click()
    page.get_by_role("textbox", name="Full name").wait_for()
    assert page.locator("#notices").inner_text().strip() == ""
    page.get_by_role("link", name="Cancel editing name").click()

    page.get_by_role("link", name="Edit phone number").click()
    page.get_by_role("link", name="Cancel editing phone number").click()
    page.locator("#field-phone .field-value", has_text="+64 21 555 0123").wait_for()
    assert page.locator("#field-phone form").count() == 0


def test_editing_the_name_without_javascript(nojs_page, provider_url):
    page = nojs_page
    open_profile(page, provider_url)
    page.get_by_role("link", name="Edit name").click()
    page.wait_for_url("**/account/profile/name/edit")
    page.get_by_label("Preferred name").fill("\u0007")
    page.get_by_role("button", name="Save name").click()
    assert "control or invisible" in page.locator("#f-preferred_name-error").inner_text()

    page.get_by_label("Preferred name").fill("Ana")
    page.get_by_role("button", name="Save name").click()
    page.wait_for_url(re.compile(r".*/account/profile#field-name$"))
    assert page.locator("#field-name dd").nth(1).inner_text() == "Ana"
    assert "Name saved." in page.locator("#notices").inner_text()
