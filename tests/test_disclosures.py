"""Who received your information: staff record each release; the person sees it, unless withheld."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta

import pytest
from sqlmodel import select

from webapp.disclosures import service
from webapp.models import AuditEvent, Disclosure, User, privacy_of

from tests.people import make_person

TODAY = date.today()


def release(staff_client_post, **overrides):
    """Post the register form with a complete, valid release, changed by `overrides`."""
    form = {
        "person": "ana@example.com",
        "recipient": "New Zealand Police",
        "disclosed_on": (TODAY - timedelta(days=3)).isoformat(),
        "categories": ["Account", "Sign-in history"],
        "other_categories": "",
        "purpose": "Investigation of a reported fraud.",
        "legal_basis": "Production order under the Search and Surveillance Act 2012",
        "reference": "NZP-2026-0042",
        "withheld_until": "",
        "withheld_reason": "",
    }
    form.update(overrides)
    return staff_client_post("/staff/disclosures/", data=form)


@pytest.fixture
def ana(db) -> User:
    return make_person(db, "ana", "ana@example.com")


def test_staff_record_a_release_and_it_is_audited_on_the_person(client, staff, ana, db):
    response = release(client.post)
    assert response.status_code == 303
    stored = db.exec(select(Disclosure)).one()
    assert (stored.user_id, stored.recipient, stored.recorded_by) == (ana.id, "New Zealand Police", staff.id)
    assert stored.categories == ["Account", "Sign-in history"]
    event = db.exec(select(AuditEvent).where(AuditEvent.user_id == ana.id)).one()
    assert (event.actor, event.actor_id, event.action) == ("staff", staff.id, "disclosure.recorded")
    register = client.get("/staff/disclosures/").get_data(as_text=True)
    assert "New Zealand Police" in register and "NZP-2026-0042" in register
```

Hmm wait, I'm writing this in the bash heredoc in an odd way. Let me just create files with the edit tool. Also I need `tests/people.py` helper? Creating a new tests helper file is fine (tests/helpers.py is shared; I'll add my own `make_person` into my test modules via a small local module). Put in `tests/test_inquiries_helpers`? Pytest would collect files named test_*. Make `tests/people.py`: a shared-ish helper — new file, additive. OK.


<invoke name="bash">
<parameter name="command">cd /work/wt/requests && rm -f tests/test_disclosures.py && cat > tests/people.py <<'EOF'
"""People made directly in the database, for tests about what one person must not see of another."""

from __future__ import annotations

from sqlmodel import Session

from webapp.models import User


def make_person(db: Session, subject: str, email: str, *, issuer: str = "http://other") -> User:
    """An account that never signed in on this client."""
    user = User(issuer=issuer, subject=subject, email=email, name=subject.title())
    db.add(user)
    db.commit()
    return user
