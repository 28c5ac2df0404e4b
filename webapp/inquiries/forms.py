"""The forms of privacy requests: what a person sends, and what staff answer."""

from __future__ import annotations

from wtforms import Form, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..validators import DateInput, PlainText, strip
from .service import KINDS, correctable_fields

MESSAGE_LIMIT = 5000


def _text(label: str, required: str, limit: int, *, multiline: bool = True):
    checks = [
        DataRequired(required),
        Length(max=limit, message=f"Keep this under {limit} characters."),
        PlainText(multiline=multiline),
    ]
    return (TextAreaField if multiline else StringField)(label, checks, filters=[strip])


class NewInquiryForm(Form):
    """A new question or request."""

    kind = SelectField(
        "What would you like to do?",
        choices=[SelectChoice(value, label) for value, label in KINDS.items()],
        validators=[DataRequired("Choose what kind of request this is.")],
    )
    subject = _text("Subject", "Give your request a short subject.", 200, multiline=False)
    message = _text("Your message", "Tell us what you would like to know or change.", MESSAGE_LIMIT)


class ReplyForm(Form):
    """A further message in a request's thread, from the person or from staff."""

    body = _text("Your message", "Write your message.", MESSAGE_LIMIT)


class StatementForm(Form):
    """The correction a person sought, to be shown beside the information."""

    field = SelectField("Information", validators=[DataRequired("Choose the information.")])
    statement = _text("The correction you asked for", "Write the correction you asked for.", 2000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.field.choices = [SelectChoice(v, label) for v, label in correctable_fields().items()]


class ExtendForm(Form):
    """A later due date and the reason the person is told."""

    new_due = DateInput("New due date", [InputRequired("Choose the new due date.")])
    extension_reason = _text(
        "Why more time is needed", "Give the reason: the person is told it.", 1000
    )


class RefuseForm(Form):
    """The reason for a refusal; the route to the Privacy Commissioner is always added."""

    refusal_reason = _text("Why the request is refused", "Give the reason for the refusal.", 2000)
