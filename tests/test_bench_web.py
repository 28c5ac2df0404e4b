"""bench/web.py: what a write row's note says of the changes it made."""

from __future__ import annotations

import pytest

from bench import web


@pytest.mark.parametrize(
    ("changed", "answered", "note"),
    [
        (7591, 7591, "7591 of 7591 requests made a change"),
        (
            7597,
            7591,
            "7597 changes for 7591 answers read"
            " (the requests in flight when the load stopped made theirs too)",
        ),
        (12, 7591, "12 of 7591 requests made a change"),
        (0, 40, "0 of 40 requests made a change"),
    ],
)
def test_a_write_rows_note_counts_changes_against_answers(changed, answered, note):
    assert web.change_note(changed, answered) == note
