"""The profile's fields: how each is shown in a form, and how a typed value is checked.

Every `clean_*` function takes the text as typed and returns the value to store, or raises
`Invalid` with the message shown next to the field. None of them reads the request.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from .. import timefmt


class Invalid(ValueError):
    """A value that cannot be stored; the message is for the person, beside the field."""


@dataclass(frozen=True)
class FieldSpec:
    """One input on the profile page."""

    name: str  #: the `User` column and the form field
    label: str
    max_length: int
    required: bool = False
    input_type: str = "text"
    autocomplete: str = "off"
    hint: str = ""


@dataclass(frozen=True)
class Group:
    """Fields edited together, shown in one swappable region `field-<name>`."""

    name: str
    label: str
    fields: tuple[FieldSpec, ...]

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        """The `User` columns this group edits."""
        return tuple(f.name for f in self.fields)


NAME = Group(
    "name",
    "Name",
    (
        FieldSpec("name", "Full name", 200, required=True, autocomplete="name"),
        FieldSpec(
            "preferred_name",
            "Preferred name",
            100,
            autocomplete="nickname",
            hint="What you'd like us to call you. Leave it empty to use your full name.",
        ),
    ),
)
EMAIL = Group(
    "email",
    "Contact email",
    (
        FieldSpec(
            "email",
            "New contact email",
            254,
            required=True,
            input_type="email",
            autocomplete="email",
            hint="We'll send a link to the new address; it changes when you follow it.",
        ),
    ),
)
PHONE = Group(
    "phone",
    "Phone number",
    (
        FieldSpec(
            "phone",
            "Phone number",
            40,
            input_type="tel",
            autocomplete="tel",
            hint="With the country code if it's outside New Zealand, like +61 2 1234 5678. "
            "Leave it empty to remove it.",
        ),
    ),
)
ADDRESS = Group(
    "address",
    "Postal address",
    (
        FieldSpec("address_line1", "Address line 1", 120, autocomplete="address-line1"),
        FieldSpec("address_line2", "Address line 2 (optional)", 120, autocomplete="address-line2"),
        FieldSpec("city", "Town or city", 100, autocomplete="address-level2"),
        FieldSpec("region", "Region or state (optional)", 100, autocomplete="address-level1"),
        FieldSpec("postcode", "Postcode (optional)", 20, autocomplete="postal-code"),
        FieldSpec("country", "Country", 2, autocomplete="country"),
    ),
)

TIME_ZONE = Group(
    "timezone",
    "Time zone",
    (FieldSpec("time_zone", "Time zone", timefmt.MAX_ZONE_LENGTH, required=True),),
)

#: Every group on the page, in page order.
GROUPS: dict[str, Group] = {g.name: g for g in (NAME, EMAIL, PHONE, ADDRESS, TIME_ZONE)}

# Characters that are not text: controls, surrogates, private use, unassigned, line and
# paragraph separators, and format characters (bidi overrides that make a name read
# backwards) except the joiners some scripts need.
_REFUSED_CATEGORIES = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Cf"}
_JOINERS = {"\u200c", "\u200d"}
_SPACES = re.compile(r"\s+")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]*$")


def clean_text(value: str, spec: FieldSpec) -> str:
    """Text normalised (NFC, spaces collapsed), refused if it holds non-text or is too long."""
    text = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES and c not in _JOINERS for c in text):
        raise Invalid(
            f"{spec.label.removesuffix(' (optional)')} can't contain control or "
            "invisible characters."
        )
    text = _SPACES.sub(" ", text).strip()
    if spec.required and not text:
        raise Invalid(f"Enter your {spec.label.lower()}.")
    if len(text) > spec.max_length:
        raise Invalid(
            f"{spec.label.removesuffix(' (optional)')} must be {spec.max_length} characters "
            f"or fewer (this is {len(text)})."
        )
    return text


def clean_email(value: str) -> str:
    """An email address, normalised; no DNS look-up (the confirmation link proves it works)."""
    text = value.strip()
    if not text:
        raise Invalid("Enter an email address, like name@example.com.")
    if len(text) > 320:
        raise Invalid("That email address is too long.")
    try:
        # No SMTPUTF8: our mail server may not relay it, so the address must be sendable as ASCII.
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise Invalid(f"Enter a valid email address, like name@example.com. {exc}") from None
    return result.ascii_email or result.normalized


def clean_phone(value: str, default_region: str) -> str:
    """A phone number in E.164 (`+64211234567`), or "" to remove it."""
    text = value.strip()
    if not text:
        return ""
    example = "like 021 123 4567 or +64 21 123 4567"
    if len(text) > 40:
        raise Invalid(f"That is too long for a phone number. Enter it {example}.")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise Invalid(f"Enter a phone number, {example}.") from None
    if number.extension:
        raise Invalid("Leave out the extension: we can only store the number itself.")
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"That isn't a valid phone number. Enter it {example}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """A stored E.164 number in international format (`+64 21 123 4567`)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def clean_time_zone(value: str) -> str:
    """An IANA time zone name from the list (`Pacific/Auckland`)."""
    text = value.strip()
    if not timefmt.is_zone(text):
        raise Invalid("Choose a time zone from the list, like Pacific/Auckland.")
    return text


def zone_label(name: str) -> str:
    """A zone's name as people read it: `America/New_York` is "America/New York"."""
    return name.replace("_", " ")


@cache
def time_zones() -> tuple[tuple[str, str], ...]:
    """(IANA name, label) for every zone people may choose, sorted by name."""
    return tuple((name, zone_label(name)) for name in timefmt.zone_names())


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 alpha-2 code, name people use) for every country, sorted by name."""
    pairs = [(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def _sort_key(name: str) -> str:
    # "Åland" sorts with the A's, as people look for it.
    return "".join(
        c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c)
    ).casefold()


@cache
def _country_names() -> dict[str, str]:
    return dict(countries())


def country_name(code: str) -> str:
    """The name of the country with this ISO code ("" for none, the code if unknown)."""
    return _country_names().get(code, code)


def clean_address(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The address to store (all empty removes it) and the messages for fields that failed."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in ADDRESS.fields:
        raw = values.get(spec.name, "")
        if spec.name == "country":
            code = raw.strip().upper()
            if code and code not in _country_names():
                errors[spec.name] = "Choose a country from the list."
            cleaned[spec.name] = code
            continue
        try:
            cleaned[spec.name] = clean_text(raw, spec)
        except Invalid as exc:
            errors[spec.name] = str(exc)
    if errors:
        return cleaned, errors
    if not any(v for k, v in cleaned.items() if k != "country"):
        # The country list starts at the site's region: with nothing else, there is no address.
        return dict.fromkeys(cleaned, ""), errors
    if not cleaned["address_line1"]:
        errors["address_line1"] = "Enter the first line of your address, or clear every field."
    if not cleaned["city"]:
        errors["city"] = "Enter your town or city."
    if not cleaned["country"]:
        errors["country"] = "Choose your country."
    postcode = cleaned["postcode"]
    if postcode and not _POSTCODE.match(postcode):
        errors["postcode"] = "A postcode has only letters, numbers, spaces and hyphens."
    return cleaned, errors


def read_form(group: Group, form: dict[str, str]) -> dict[str, str]:
    """The group's fields from a submitted form (missing fields are empty)."""
    return {name: str(form.get(name, "")) for name in group.field_names}
