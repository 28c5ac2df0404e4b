"""In a real browser, with and without JavaScript: send a privacy request and read the thread."""

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in_with_browser

pytestmark = pytest.mark.browser


def send_request(page, subject: str) -> None:
    page.goto("/account/privacy-requests")
    page.get_by_label("What would you like to do?").select_option("disclosure")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Your message").fill("Has anyone received my details?")
    page.get_by_role("button", name="Send").click()


def test_a_request_is_sent_without_javascript(nojs_page, provider_url):
    sign_in_with_browser(nojs_page, provider_url, "ana", {"email": "ana@example.com"})
    send_request(nojs_page, "Without JavaScript")
    nojs_page.wait_for_url("**/account/privacy-requests/*")
    assert nojs_page.get_by_role("heading", level=1).inner_text() == "Without JavaScript"
    assert "Sent. We will answer by" in nojs_page.content()
    assert "Has anyone received my details?" in nojs_page.content()


def test_a_request_is_sent_in_place_with_javascript(browser_page, provider_url):
    sign_in_with_browser(browser_page, provider_url, "ana", {"email": "ana@example.com"})
    send_request(browser_page, "With htmx")
    notice = browser_page.get_by_text("Sent. We will answer by")
    notice.wait_for()
    assert browser_page.url.endswith("/account/privacy-requests")
    assert browser_page.get_by_role("link", name="With htmx").is_visible()
    browser_page.get_by_role("button", name="Send").click()  # empty form: messages in place
    browser_page.get_by_text("Give your request a short subject.").wait_for()
    expect(browser_page.locator("#subject[aria-invalid=true]")).to_be_focused()


def test_a_resized_answer_box_causes_no_csp_error_when_the_case_is_swapped(
    browser_page, provider_url
):
    """Chromium keeps a hand-resized textarea's size in its style attribute; htmx must not
    copy that attribute onto the swapped-in case, which the CSP (style-src 'self') refuses."""
    sign_in_with_browser(browser_page, provider_url, "ana", {"email": "ana@example.com"})
    send_request(browser_page, "Resized")
    browser_page.get_by_text("Sent. We will answer by").wait_for()
    browser_page.context.clear_cookies()
    staff = {"email": "sam@sentro.co", "groups": ["sentro-staff"]}
    sign_in_with_browser(browser_page, provider_url, "sam", staff)
    browser_page.goto("/staff/privacy-requests")
    browser_page.get_by_role("link", name="Resized").click()
    errors = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.evaluate(
        "document.querySelectorAll('textarea').forEach(t => t.style.height = '20em')"
    )
    browser_page.get_by_role("button", name="Send answer").click()  # empty: 422, swapped in
    browser_page.get_by_text("Write your message.").first.wait_for()
    assert [e for e in errors if "Content Security Policy" in e] == []
