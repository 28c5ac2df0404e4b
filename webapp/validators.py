"""WTForms validators for text people type: no control characters, friendly messages."""

from __future__ import annotations

import unicodedata

from wtforms import DateField, Field, Form
from wtforms.validators import ValidationError

_LINE_BREAKS = {"\n", "\r", "\t"}
#: Format characters that build emoji and words in some scripts (Persian, Indic).
_JOINERS = {"\u200c", "\u200d"}


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds characters no person types (NUL, escapes, bidi overrides ...)."""
    allowed = _LINE_BREAKS if multiline else set()
    return any(
        ch not in allowed
        and unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"}
        and ch not in _JOINERS
        for ch in text
    )


class PlainText:
    """Refuse control characters; `multiline` allows line breaks and tabs."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and has_control_characters(field.data, multiline=self.multiline):
            raise ValidationError("Remove the invisible or control characters from this text.")


def strip(value: object) -> object:
    """A filter: surrounding whitespace is not part of what a person meant."""
    return value.strip() if isinstance(value, str) else value


class DateInput(DateField):
    """A date field (yyyy-mm-dd, what `<input type=date>` sends) with a message people follow."""

    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a real date, like 2026-03-05.") from None
