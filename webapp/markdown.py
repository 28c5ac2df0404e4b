"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises, headings get stable anchors."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).use(
    anchors_plugin, min_level=2, max_level=3, permalink=False
)
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "h2": {"id"}, "h3": {"id"}}


def render(text: str) -> Markup:
    """HTML for `text`, safe to put in a page or an email."""
    html = _markdown.render(text)
    return Markup(nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer"))
