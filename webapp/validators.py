"""What people type, checked: text without control characters, bounded whole numbers."""

from __future__ import annotations

import unicodedata

from wtforms import DateField, Field, Form
from wtforms.validators import ValidationError

#: The largest id a database id column holds (PostgreSQL `integer`): `<int:…>` routes stop
#: here too (webapp.DatabaseId), and so does every number read from a form or query string.
MAX_ID = 2**31 - 1

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


def whole_number(raw: object, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A number from a form or query string: ASCII digits within low..high, else None.

    Every integer taken from request data goes through here (or `database_id`), so none can
    be larger than a column holds or a driver binds: `int()` alone accepts "²"-free digits of
    any length, and 2**63 overflows SQLite's binding.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def database_id(raw: object) -> int:
    """`type=` for `request.form.get(name, type=database_id)`: an id, or ValueError (→ None)."""
    value = whole_number(raw)
    if value is None:
        raise ValueError("not an id")
    return value
