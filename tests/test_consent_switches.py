"""Privacy controls are switches, like email preferences: each saves one purpose as it is used."""

from __future__ import annotations

import re

import pytest

from tests.consent_helpers import rows
from webapp.consent.service import PURPOSES

HTMX = {"HX-Request": "true", "HX-Target": "privacy-controls"}


def switch(html: str, purpose: str) -> str:
    """The switch button for one purpose."""
    found = re.search(rf'<button[^>]*id="switch-{purpose}"[^>]*>', html, re.S)
    assert found, f"no switch for {purpose}"
    return found.group(0)


def test_every_purpose_has_an_off_switch_until_chosen(client):
    html = client.get("/account/privacy-controls").get_data(as_text=True)
    for purpose in PURPOSES:
        button = switch(html, purpose.id)
        assert 'role="switch"' in button
        assert 'aria-checked="false"' in button
        assert f'name="{purpose.id}" value="allow"' in button
    assert 'type="radio"' not in html


def test_a_switch_saves_its_own_purpose_and_no_other(client, person, db):
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    assert [(r.purpose, r.granted) for r in rows(db, person)] == [("analytics", True)]
    html = client.get("/account/privacy-controls").get_data(as_text=True)
    assert 'aria-checked="true"' in switch(html, "analytics")
    assert 'value="refuse"' in switch(html, "analytics")  # the next press turns it off
    assert 'aria-checked="false"' in switch(html, "research")


def test_with_htmx_the_switch_answers_the_controls_saved_with_focus_kept(client, person):
    response = client.post("/account/privacy-controls", data={"research": "allow"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="privacy-controls"')
    assert "data-focus" in switch(html, "research")
    assert "data-focus" not in switch(html, "analytics")
    row = html[html.index('id="choice-research"') : html.index('id="choice-research"') + 3000]
    assert '<p class="saved" role="status">Saved</p>' in row


def test_without_javascript_the_switch_posts_and_comes_back_saved(client, person):
    response = client.post("/account/privacy-controls", data={"research": "allow"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/privacy-controls"
    page = client.get("/account/privacy-controls").get_data(as_text=True)
    assert "Your privacy choices are saved." in page
    assert 'aria-checked="true"' in switch(page, "research")


def test_under_global_privacy_control_the_covered_switches_are_disabled(client):
    html = client.get("/account/privacy-controls", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    for purpose in PURPOSES:
        button = switch(html, purpose.id)
        assert (" disabled" in button) is purpose.gpc_refuses


@pytest.mark.parametrize("value", ["yes", "on", "1", "ALLOW"])
def test_a_tampered_switch_value_is_refused_and_changes_nothing(client, person, db, value):
    response = client.post("/account/privacy-controls", data={"analytics": value}, headers=HTMX)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in switch(response.get_data(as_text=True), "analytics")
    assert rows(db, person) == []
