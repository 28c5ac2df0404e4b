"""The export (webapp.mydata, built elsewhere) hides withheld releases and carries the file.

These run once the export capability is installed beside this one; until then they skip.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.people import make_person
from tests.test_disclosures import TODAY, add_release
from webapp.inquiries import casework, service
from webapp.models import CorrectionStatement


def test_the_export_hides_a_withheld_release_and_carries_the_request_file(
    app, client, login_as, db
):
    if "mydata.export_json" not in app.view_functions:
        pytest.skip("the export capability (webapp/mydata) is not installed in this app")
    ana = login_as("ana")
    add_release(
        db,
        ana,
        recipient="Serious Fraud Office",
        withheld_until=TODAY + timedelta(days=3),
        withheld_reason="Investigation in progress",
    )
    add_release(db, ana, recipient="Inland Revenue")
    sam = make_person(db, "sam-elsewhere", "sam@sentro.co")
    with app.test_request_context():
        inquiry = service.open_inquiry(
            db, ana, kind="correction", subject="My name", message="Please send them."
        ).inquiry
        casework.refuse(db, sam, inquiry.id, reason="The record is accurate.")
    db.add(
        CorrectionStatement(
            user_id=ana.id, field="name", statement="Ana María", inquiry_id=inquiry.id
        )
    )
    db.commit()

    export = client.get("/account/export.json").get_data(as_text=True)
    assert "Inland Revenue" in export and "Serious Fraud Office" not in export
    for text in ("Ana María", "The record is accurate.", "Please send them.", "My name"):
        assert text in export
