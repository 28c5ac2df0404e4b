"""Comparing versions marks exactly the words that changed, in accessible markup."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.policy_support import V1, V2, V2_DELETED, V2_INSERTED
from webapp.policy.diff import blocks, compare_html, word_changes

HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.S)


def marked(html: str, tag: str) -> list[str]:
    """The visible words inside each <ins> or <del>, in order."""
    return [
        " ".join(re.sub(r"<[^>]+>", "", HIDDEN.sub("", inner)).split())
        for inner in re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
    ]


def test_comparing_v1_and_v2_marks_exactly_the_words_that_changed():
    html = compare_html(V1, V2)
    assert marked(html, "ins") == V2_INSERTED
    assert marked(html, "del") == V2_DELETED


def test_every_mark_says_what_it_is_to_a_screen_reader():
    html = compare_html(V1, V2)
    assert html.count('<span class="visually-hidden">[inserted: </span>') == len(V2_INSERTED)
    assert html.count('<span class="visually-hidden">[deleted: </span>') == len(V2_DELETED)


def test_changed_blocks_are_flagged_and_unchanged_ones_are_not():
    html = compare_html(V1, V2)
    assert '<li class="diff-inserted"><ins>' in html
    assert html.count('class="diff-changed"') == 3
    assert "<h2>Sentro Privacy Policy</h2>" in html  # the document's title sits below the page's h1


def test_identical_texts_mark_nothing():
    html = compare_html(V1, V1)
    assert "<ins>" not in html and "<del>" not in html


def test_a_removed_section_is_deleted_whole():
    old = "## Keep\n\nStays.\n\n## Gone\n\nThis paragraph goes away.\n"
    html = compare_html(old, "## Keep\n\nStays.\n")
    assert marked(html, "del") == ["Gone", "This paragraph goes away."]
    assert marked(html, "ins") == []


def test_neighbouring_changed_words_form_one_mark():
    assert [(c.op, c.text) for c in word_changes("the quick brown fox", "a slow red fox")] == [
        ("-", "the quick brown"),
        ("+", "a slow red"),
        ("=", " fox"),
    ]


def test_markdown_in_the_text_is_rendered_not_shown():
    html = compare_html(
        "Read [our terms](https://sentro.co/terms).\n",
        "Read [the terms](https://sentro.co/terms).\n",
    )
    assert '<a href="https://sentro.co/terms"' in html
    assert marked(html, "del") == ["our"] and marked(html, "ins") == ["the"]


def test_html_in_a_version_is_shown_as_text():
    html = compare_html("Hello.\n", "Hello <script>alert(1)</script>.\n")
    assert "<script>" not in html


def test_blocks_know_headings_paragraphs_and_list_items():
    assert [b.kind for b in blocks("# T\n\nIntro.\n\n## S\n\n1. One\n2. Two\n\n- x\n")] == [
        "h1",
        "p",
        "h2",
        "ol",
        "ol",
        "ul",
    ]


words = st.lists(st.sampled_from(["we", "you", "data", "email", "policy", "Sentro", "2020", "."]))


@given(old=words, new=words)
def test_the_unchanged_and_deleted_words_are_the_old_text_and_the_unchanged_and_inserted_the_new(
    old, new
):
    changes = word_changes(" ".join(old), " ".join(new))
    before = "".join(c.text + " " * (c.op == "-") for c in changes if c.op != "+")
    after = "".join(c.text + " " * (c.op == "+") for c in changes if c.op != "-")
    assert before.split() == " ".join(old).split()
    assert after.split() == " ".join(new).split()


@given(
    sentence=st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), min_size=1),
    where=st.integers(min_value=0),
)
@example(sentence=["alpha"] * 6, where=2)  # difflib alone marked four words here
def test_replacing_one_word_marks_that_word_only(sentence, where):
    position = where % len(sentence)
    changed = [*sentence]
    changed[position] = "omega"
    marks = [c for c in word_changes(" ".join(sentence), " ".join(changed)) if c.op != "="]
    # With repeated words, which "alpha" left is a matter of alignment; what changed is not.
    assert sorted((c.op, c.text) for c in marks) == [("+", "omega"), ("-", sentence[position])]


# --- the work is bounded for any input -------------------------------------------------


@pytest.fixture
def matcher_sizes(monkeypatch) -> list[int]:
    """The pairs (len(a) × len(b)) every alignment difflib was asked to do had to consider."""
    from difflib import SequenceMatcher

    from webapp.policy import diff

    sizes: list[int] = []

    class Counting(SequenceMatcher):
        def get_matching_blocks(self):
            sizes.append(len(self.a) * len(self.b))
            return super().get_matching_blocks()

    monkeypatch.setattr(diff, "SequenceMatcher", Counting)
    compare_html.cache_clear()  # a cached answer would hide the work
    return sizes


#: No single alignment may consider more pairs than this (about 1,000 words against 1,000).
PAIRS_BOUND = 1_000_000


def paragraph(words: int, seed: int, sentence_every: int = 0) -> str:
    """One paragraph of `words` words drawn from a small vocabulary (so words repeat a lot)."""
    vocabulary = ["we", "you", "data", "email", "policy", "Sentro", "keep", "share", "the"]
    text = []
    for n in range(words):
        text.append(vocabulary[(n * 7 + seed * 3 + n // 11 * seed) % len(vocabulary)])
        if sentence_every and n % sentence_every == sentence_every - 1:
            text[-1] += "."
    return " ".join(text)


@pytest.mark.parametrize("sentence_every", [0, 15], ids=["one-sentence", "sentences"])
@pytest.mark.parametrize("words", [4000, 8000])
def test_two_huge_single_paragraph_versions_are_compared_with_bounded_work(
    matcher_sizes, words, sentence_every
):
    old = paragraph(words, seed=1, sentence_every=sentence_every)
    new = paragraph(words, seed=2, sentence_every=sentence_every)
    html = compare_html(old, new)
    assert "<del>" in html and "<ins>" in html
    assert matcher_sizes and max(matcher_sizes) <= PAIRS_BOUND
    # Sentence by sentence, each changed one at most once: linear in the text, not quadratic.
    assert len(matcher_sizes) <= 3 * words


def test_a_few_words_changed_in_a_huge_paragraph_are_marked_exactly(matcher_sizes):
    old = paragraph(8000, seed=1, sentence_every=20)
    words = old.split(" ")
    words[1000], words[5000] = "privacy", "notice"
    html = compare_html(old, " ".join(words))
    assert marked(html, "ins") == ["privacy", "notice"]
    assert marked(html, "del") == [old.split(" ")[1000], old.split(" ")[5000]]
    assert max(matcher_sizes) <= PAIRS_BOUND
