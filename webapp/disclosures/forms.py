"""The staff form that records a release of a person's information."""

from __future__ import annotations

from wtforms import Form, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..validators import DateInput, PlainText, strip
from .service import category_choices


def _text(label: str, required: str | None, limit: int, *, multiline: bool = False):
    checks = [DataRequired(required)] if required else [Optional()]
    checks += [
        Length(max=limit, message=f"Keep this under {limit} characters."),
        PlainText(multiline=multiline),
    ]
    field = TextAreaField if multiline else StringField
    return field(label, checks, filters=[strip])


class DisclosureForm(Form):
    """What staff enter for one release; shape only — the rules are in the service."""

    person = _text(
        "Person (email or account number)", "Enter the person's email or account number.", 320
    )
    recipient = _text("Recipient", "Say who received the information.", 200)
    disclosed_on = DateInput(
        "Date provided", [InputRequired("Enter the date the information was provided.")]
    )
    categories = SelectMultipleField("Information provided", choices=[], validate_choice=True)
    other_categories = _text("Other information provided", None, 300)
    purpose = _text("Purpose", "Say why the information was provided.", 2000, multiline=True)
    legal_basis = _text("Legal basis", "Give the legal basis for the release.", 300)
    reference = _text("Reference", None, 120)
    withheld_until = DateInput("Do not show the person until", [Optional()])
    withheld_reason = _text("Why it is not shown yet", None, 500)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.categories.choices = [SelectChoice(c, c) for c in category_choices()]
