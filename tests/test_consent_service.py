"""The rules of consent, called directly: summaries, GPC, decisions, and no input makes a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from webapp.consent import service
from webapp.consent.service import (
    ANALYTICS,
    BANNER,
    CONTROLS,
    GPC,
    PERSONALISATION,
    PURPOSE_IDS,
    RESEARCH,
    Choices,
    ConsentState,
    Decision,
)
from webapp.models import ConsentChoice, privacy_of

choice_values = st.sampled_from([True, False, None])
any_choices = st.builds(
    lambda values: Choices(dict(zip(PURPOSE_IDS, values, strict=True))),
    st.tuples(*[choice_values] * len(PURPOSE_IDS)),
)


@given(any_choices)
def test_the_summary_reads_back_as_the_same_choices(choices):
    assert Choices.from_summary(choices.summary()) == choices
    assert len(choices.summary()) == len(PURPOSE_IDS)


@given(st.one_of(st.text(max_size=40), st.none(), st.integers(), st.lists(st.text())))
def test_any_stored_summary_reads_as_choices_without_error(text):
    choices = Choices.from_summary(text)
    assert set(choices.values) == set(PURPOSE_IDS)


@given(any_choices)
def test_gpc_refuses_analytics_and_personalisation_whatever_was_chosen(choices):
    state = ConsentState(choices, gpc=True)
    assert not state.allows(ANALYTICS)
    assert not state.allows(PERSONALISATION)
    assert state.allows(RESEARCH) == (choices.get(RESEARCH) is True)


def test_nothing_is_allowed_until_chosen():
    state = ConsentState(Choices())
    assert state.undecided
    assert not any(state.allows(p) for p in PURPOSE_IDS)


@pytest.mark.parametrize(
    ("current", "requested", "gpc", "expected"),
    [
        ("---", {ANALYTICS: True}, False, [Decision(ANALYTICS, True, CONTROLS)]),
        (
            "---",
            {ANALYTICS: True, RESEARCH: True},
            True,
            [
                Decision(ANALYTICS, False, GPC),
                Decision(PERSONALISATION, False, GPC),
                Decision(RESEARCH, True, CONTROLS),
            ],
        ),
        # Refused already, and not asked about: GPC adds nothing.
        ("nn-", {RESEARCH: False}, True, [Decision(RESEARCH, False, CONTROLS)]),
        # A refusal the person made themselves is recorded as theirs.
        (
            "yy-",
            {ANALYTICS: False, PERSONALISATION: False},
            True,
            [Decision(ANALYTICS, False, CONTROLS), Decision(PERSONALISATION, False, CONTROLS)],
        ),
        ("yyy", {}, False, []),
    ],
)
def test_what_a_submitted_choice_stores(current, requested, gpc, expected):
    decided = service.decide(Choices.from_summary(current), requested, source=CONTROLS, gpc=gpc)
    assert decided == expected


def test_only_the_banner_and_the_controls_record_a_choice():
    with pytest.raises(ValueError, match="unknown source"):
        service.decide(Choices(), {ANALYTICS: True}, source=GPC, gpc=False)


def test_consent_choices_are_part_of_the_data_map():
    category = privacy_of(ConsentChoice.__table__)
    assert category is not None and category.name == "Privacy choices"
    personal = {c.name for c in ConsentChoice.__table__.columns if "personal" in c.info}
    assert personal == {"purpose", "granted", "at", "policy_version", "source"}


def test_every_source_and_purpose_has_words_for_people():
    assert set(service.SOURCE_LABELS) == {BANNER, CONTROLS, GPC}
    assert all(p.label and p.description for p in service.PURPOSES)


def test_before_any_policy_is_published_there_is_no_version(db):
    assert service.policy_version_in_effect(db) is None


form_values = st.one_of(
    st.sampled_from(["allow", "refuse", "", "accept", "reject"]), st.text(max_size=20)
)
forms = st.dictionaries(
    st.sampled_from([*PURPOSE_IDS, "decision", "next", "csrf_token", "x"]), form_values
)


def _count(db) -> int:
    db.rollback()
    return db.exec(select(func.count()).select_from(ConsentChoice)).one()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(form=forms, gpc=st.booleans(), htmx=st.booleans())
def test_no_form_makes_a_500_and_a_refused_one_stores_nothing(client, person, db, form, gpc, htmx):
    headers = {"Sec-GPC": "1"} if gpc else {}
    for path, target in (
        ("/account/privacy-controls", "privacy-controls"),
        ("/account/privacy-controls/banner", "consent-banner"),
    ):
        if htmx:
            headers = {**headers, "HX-Request": "true", "HX-Target": target}
        before = _count(db)
        answer = client.post(path, data=form, headers=headers)
        assert answer.status_code in (200, 303, 422), answer.status_code
        if answer.status_code == 422:
            assert _count(db) == before
            assert not any(
                h.startswith("sentro_consent=") for h in answer.headers.getlist("Set-Cookie")
            )
