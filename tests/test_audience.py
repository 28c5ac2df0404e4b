"""Who is on a list: defaults, opt-ins, opt-outs, closed accounts."""

from sqlmodel import Session

from webapp.models import Subscription, User
from webapp.preferences.audience import audience


def _people(db: Session) -> dict[str, int]:
    people = {}
    for name in ("default", "left", "joined", "closed"):
        user = User(issuer="https://id.test", subject=name, email=f"{name}@example.com")
        user.status = "closed" if name == "closed" else "active"
        db.add(user)
        db.flush()
        people[name] = user.id
    db.add(
        Subscription(
            user_id=people["left"], list_id="service-updates", subscribed=False, changed_via="page"
        )
    )
    db.add(
        Subscription(
            user_id=people["joined"], list_id="offers", subscribed=True, changed_via="page"
        )
    )
    db.commit()
    return people


def test_default_on_lists_reach_everyone_who_did_not_leave(db):
    people = _people(db)
    ids = {row.id for row in db.exec(audience("service-updates"))}
    assert ids == {people["default"], people["joined"]}


def test_opt_in_lists_reach_only_who_joined(db):
    people = _people(db)
    assert {row.id for row in db.exec(audience("offers"))} == {people["joined"]}


def test_transactional_reaches_every_active_person(db):
    people = _people(db)
    assert {row.id for row in db.exec(audience("account"))} == {
        people["default"],
        people["left"],
        people["joined"],
    }
