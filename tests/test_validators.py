"""Numbers people (or scripts) type into forms and query strings are bounded like route ids."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from webapp.validators import MAX_ID, database_id, whole_number

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("1", 1),
        (" 42 ", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (str(2**63), None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("1e3", None),
        ("²", None),
        ("１２", None),  # full-width digits: digits to str.isdigit, not to a person's eye
        ("", None),
        (None, None),
        (7, None),  # only text comes from a form
    ],
)
def test_whole_numbers_are_ascii_digits_within_an_id_column(raw, number):
    assert whole_number(raw) == number


def test_a_range_can_be_narrower():
    assert whole_number("0", low=0, high=10) == 0
    assert whole_number("11", low=0, high=10) is None


def test_database_id_suits_werkzeugs_type_argument():
    from werkzeug.datastructures import MultiDict

    form = MultiDict({"good": "12", "huge": str(2**63), "text": "x"})
    assert form.get("good", type=database_id) == 12
    assert form.get("huge", type=database_id) is None
    assert form.get("text", type=database_id) is None


def test_routes_and_forms_share_one_bound():
    from tests.routes import route_app

    converter = route_app().url_map.converters["int"]
    assert converter(route_app().url_map).max == MAX_ID


def _hand_parsed_numbers(tree: ast.AST) -> list[int]:
    """Lines that turn request data into an int without whole_number / database_id."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "int" and any("request" in ast.unparse(arg) for arg in node.args):
            found.append(node.lineno)
        for keyword in node.keywords:  # request.form.get(..., type=int)
            if keyword.arg == "type" and ast.unparse(keyword.value) in {"int", "float"}:
                found.append(node.lineno)
        if name in {"IntegerField", "DecimalField", "FloatField"} or ast.unparse(
            node.func
        ).endswith((".IntegerField", ".DecimalField", ".FloatField")):
            found.append(node.lineno)  # WTForms number fields accept any length
    return found


def test_no_view_parses_a_number_from_a_request_by_hand():
    offenders = []
    for path in sorted(WEBAPP.rglob("*.py")):
        for line in _hand_parsed_numbers(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(WEBAPP.parent)}:{line}")
    assert not offenders, f"use webapp.validators.whole_number or database_id: {offenders}"
