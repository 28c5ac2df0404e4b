"""Staff wording for text written to the person: the data map speaks to "you", staff read "they".

The data map's names and reasons are written for the person ("Changes to your data"); the
staff pages show the same text about a third person ("Changes to their data"), so there is
one declaration and no second list to keep in step.
"""

from __future__ import annotations

import re

#: Words after which "you" is the object of the sentence ("emails we sent you").
_OBJECT_AFTER = {
    "sent", "send", "tell", "told", "give", "gave", "contact", "email", "emailed", "ask",
    "asked", "to", "for", "with", "about", "from", "by", "let", "help", "show", "remind",
}  # fmt: skip
_WORD = re.compile(r"\b(yours|your|you)\b", re.IGNORECASE)


def for_staff(text: str) -> str:
    """`text` written to the person, rewritten about them: you → they/them, your → their."""

    def swap(match: re.Match[str]) -> str:
        word = match[1].lower()
        if word == "yours":
            new = "theirs"
        elif word == "your":
            new = "their"
        else:
            before = text[: match.start()].split()
            new = "them" if before and before[-1].lower().strip(",;:") in _OBJECT_AFTER else "they"
        return new.capitalize() if match[1][0].isupper() else new

    return _WORD.sub(swap, text)
