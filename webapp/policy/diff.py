"""Comparing two versions of the policy word by word, as accessible HTML.

The texts are split into blocks (headings, paragraphs, list items) by markdown-it; blocks are
aligned first, then the words of each changed block are compared with difflib. Changes are
marked with `<ins>`/`<del>`, each carrying visually hidden words ("inserted:", "deleted:") so a
screen reader says what a strike-through or an underline shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")

#: Private-use characters mark where a change starts and ends while the Markdown is rendered.
_INS_OPEN, _INS_CLOSE, _DEL_OPEN, _DEL_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKERS = {
    _INS_OPEN: '<ins><span class="visually-hidden">[inserted: </span>',
    _INS_CLOSE: '<span class="visually-hidden">]</span></ins>',
    _DEL_OPEN: '<del><span class="visually-hidden">[deleted: </span>',
    _DEL_CLOSE: '<span class="visually-hidden">]</span></del>',
}
_LEFTOVER = re.compile("[\ue000-\ue003]|%EE%80%8[0-3]")
_SAME_BLOCK = 0.3  #: blocks at least this similar are compared word by word
#: The most pairs of items (words, sentences, blocks) one SequenceMatcher is given: its work
#: grows with the product of the lengths. About 400 words against 400 in one changed region.
MAX_PAIRS = 640_000
_SENTENCE_END = {".", "!", "?", ";", ":"}


@dataclass(frozen=True)
class Block:
    """A heading, paragraph, list item or code block: its kind and its (inline Markdown) text."""

    kind: str  #: "h1".."h6", "p", "ol", "ul" (a list item of that list), "pre", "hr"
    text: str


@dataclass(frozen=True)
class Change:
    """A run of the new text: unchanged ("="), deleted ("-") or inserted ("+")."""

    op: str
    text: str


def blocks(text: str) -> list[Block]:
    """The text's blocks in reading order."""
    found: list[Block] = []
    lists: list[str] = []
    kind = "p"
    for token in _markdown.parse(text):
        if token.type in ("ordered_list_open", "bullet_list_open"):
            lists.append(token.tag)
        elif token.type in ("ordered_list_close", "bullet_list_close"):
            lists.pop()
        elif token.type == "heading_open":
            kind = token.tag
        elif token.type == "paragraph_open":
            kind = lists[-1] if lists else "p"
        elif token.type == "inline":
            found.append(Block(kind, token.content))
        elif token.type in ("fence", "code_block"):
            found.append(Block("pre", token.content.rstrip("\n")))
        elif token.type == "hr":
            found.append(Block("hr", ""))
    return found


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str], *, by_sentence: bool = False) -> list[Opcode]:
    """difflib's opcodes, after setting aside the common start and end, with bounded work.

    SequenceMatcher aligns on the longest common run, which in repetitive text can turn one
    changed word into a long insertion and deletion; trimming the shared ends first (as Myers
    diff implementations do) keeps a single change a single change. Its work grows with the
    product of the lengths, so no matcher is ever given more than MAX_PAIRS pairs: a longer
    middle is aligned sentence by sentence (`by_sentence`), and what is still too long is
    marked as replaced whole.
    """
    shortest = min(len(a), len(b))
    start = 0
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle = _middle(a[start : len(a) - end], b[start : len(b) - end], by_sentence)
    opcodes: list[Opcode] = [("equal", 0, start, 0, start)] if start else []
    opcodes += [
        (tag, i1 + start, i2 + start, j1 + start, j2 + start)
        for tag, i1, i2, j1, j2 in middle
        if i2 > i1 or j2 > j1
    ]
    if end:
        opcodes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return opcodes


def _middle(a: list[str], b: list[str], by_sentence: bool) -> list[Opcode]:
    if len(a) * len(b) <= MAX_PAIRS:
        return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    whole: list[Opcode] = [("replace", 0, len(a), 0, len(b))]
    if not by_sentence:
        return whole
    ends_a, ends_b = _sentence_ends(a), _sentence_ends(b)
    if (len(ends_a) - 1) * (len(ends_b) - 1) > MAX_PAIRS:
        return whole
    sentences_a = ["".join(a[i:j]) for i, j in pairwise(ends_a)]
    sentences_b = ["".join(b[i:j]) for i, j in pairwise(ends_b)]
    opcodes: list[Opcode] = []
    matcher = SequenceMatcher(None, sentences_a, sentences_b, autojunk=False)
    for tag, s1, s2, t1, t2 in matcher.get_opcodes():
        i1, i2, j1, j2 = ends_a[s1], ends_a[s2], ends_b[t1], ends_b[t2]
        if tag == "equal":
            opcodes.append((tag, i1, i2, j1, j2))
        else:  # the changed sentences word by word, when that is small enough
            inner = _middle(a[i1:i2], b[j1:j2], by_sentence=False)
            opcodes += [(t, i1 + x1, i1 + x2, j1 + y1, j1 + y2) for t, x1, x2, y1, y2 in inner]
    return opcodes


def _sentence_ends(tokens: list[str]) -> list[int]:
    """Token offsets where sentences start, and the end: [0, …, len(tokens)]."""
    ends = [0]
    for index, token in enumerate(tokens[:-1]):
        if token in _SENTENCE_END and tokens[index + 1].isspace():
            ends.append(index + 2)
    if ends[-1] != len(tokens):
        ends.append(len(tokens))
    return ends


def word_changes(old: str, new: str) -> list[Change]:
    """`new` as runs of unchanged, deleted and inserted words (punctuation counts as a word)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    opcodes = _opcodes(a, b, by_sentence=True)
    changes: list[Change] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted or inserted:
            changes.extend(_marked("".join(deleted), "".join(inserted)))
            deleted.clear()
            inserted.clear()

    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        between_changes = 0 < index < len(opcodes) - 1 and "".join(a[i1:i2]).isspace()
        if tag == "equal" and not (between_changes and (deleted or inserted)):
            flush()
            changes.append(Change("=", "".join(b[j1:j2])))
        else:
            # A space between two changes joins them: "<del>a b</del>", not "<del>a</del> <del>b</del>".
            deleted.extend(a[i1:i2])
            inserted.extend(b[j1:j2])
    flush()
    return changes


def _marked(deleted: str, inserted: str) -> list[Change]:
    """One changed run, with the whitespace at its ends left outside the marks."""
    lead = " " if deleted[:1].isspace() or inserted[:1].isspace() else ""
    trail = " " if deleted[-1:].isspace() or inserted[-1:].isspace() else ""
    runs = [Change("=", lead)] if lead else []
    if deleted.strip():
        runs.append(Change("-", deleted.strip()))
    if inserted.strip():
        runs.append(Change("+", inserted.strip()))
    if trail:
        runs.append(Change("=", trail))
    return runs


def _aligned(old: list[Block], new: list[Block]) -> list[tuple[Block | None, Block | None]]:
    """Pairs (old block, new block); None on one side for a block only the other has."""
    keys_a = [(block.kind, " ".join(block.text.split())) for block in old]
    keys_b = [(block.kind, " ".join(block.text.split())) for block in new]
    pairs: list[tuple[Block | None, Block | None]] = []
    for tag, i1, i2, j1, j2 in _opcodes(keys_a, keys_b):
        if tag == "equal":
            pairs.extend(zip(old[i1:i2], new[j1:j2], strict=True))
            continue
        i, j = i1, j1
        while i < i2 and j < j2:
            a, b = old[i], new[j]
            if a.kind == b.kind and _similarity(a.text, b.text) >= _SAME_BLOCK:
                pairs.append((a, b))
                i, j = i + 1, j + 1
            elif i2 - i >= j2 - j:
                pairs.append((a, None))
                i += 1
            else:
                pairs.append((None, b))
                j += 1
        pairs.extend((a, None) for a in old[i:i2])
        pairs.extend((None, b) for b in new[j:j2])
    return pairs


def _similarity(a: str, b: str) -> float:
    """How alike two blocks are; for long blocks an upper bound that takes linear time."""
    words_a, words_b = _TOKEN.findall(a), _TOKEN.findall(b)
    matcher = SequenceMatcher(None, words_a, words_b, autojunk=False)
    return matcher.ratio() if len(words_a) * len(words_b) <= MAX_PAIRS else matcher.quick_ratio()


def _source(changes: list[Change]) -> str:
    marks = {"=": ("", ""), "+": (_INS_OPEN, _INS_CLOSE), "-": (_DEL_OPEN, _DEL_CLOSE)}
    return "".join(marks[c.op][0] + c.text + marks[c.op][1] for c in changes)


def _render_block(kind: str, source: str, state: str) -> str:
    """One block of the comparison; headings move down a level below the page's own h1."""
    css = f' class="diff-{state}"' if state != "same" else ""
    if kind == "hr":
        return f"<hr{css}>"
    if kind == "pre":
        return f"<pre{css}>{escape(source)}</pre>"
    inline = _markdown.renderInline(source)
    if kind.startswith("h"):
        level = min(int(kind[1]) + 1, 6)
        return f"<h{level}{css}>{inline}</h{level}>"
    if kind in ("ol", "ul"):
        return f"<li{css}>{inline}</li>"
    return f"<p{css}>{inline}</p>"


@lru_cache(maxsize=32)
def compare_html(old: str, new: str) -> Markup:
    """HTML of `new` with every word deleted from or inserted into `old` marked."""
    parts: list[str] = []
    open_list = ""
    for before, after in _aligned(blocks(old), blocks(new)):
        block = after or before
        assert block is not None
        if before is None:
            source, state = _INS_OPEN + block.text + _INS_CLOSE, "inserted"
        elif after is None:
            source, state = _DEL_OPEN + block.text + _DEL_CLOSE, "deleted"
        elif before.text == after.text:
            source, state = after.text, "same"
        else:
            source, state = _source(word_changes(before.text, after.text)), "changed"
        kind = block.kind
        if open_list != (kind if kind in ("ol", "ul") else ""):
            if open_list:
                parts.append(f"</{open_list}>")
            open_list = kind if kind in ("ol", "ul") else ""
            if open_list:
                parts.append(f"<{open_list}>")
        parts.append(_render_block(kind, source, state))
    if open_list:
        parts.append(f"</{open_list}>")
    html = "\n".join(parts)
    for marker, tag in _MARKERS.items():
        html = html.replace(marker, tag)
    html = _LEFTOVER.sub("", html)
    # Marks that crossed inline Markdown (a link, emphasis) are re-nested by the sanitiser.
    return Markup(
        nh3.clean(
            html,
            attributes={"*": {"class"}, "a": {"href", "title"}},
            link_rel="noopener noreferrer",
        )
    )
