"""Limited, safe formatting for texts shown to usagers (instructions, cancellation warning).

Agents may type line breaks, links and a little emphasis; everything else is stripped by nh3
(a maintained Rust sanitiser). The result is stored, and only the stored result is ever rendered
with `|safe`.
"""

import html as html_lib
import re

import nh3

ALLOWED_TAGS = {"a", "br", "p", "strong", "em", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
LINK_REL = "noopener noreferrer"

_BLOCK_TAG = r"</?(?:p|ul|ol|li)\b[^>]*>"
# Line breaks right before or after a block tag are layout, not content: no <br> there.
_NEWLINES_AROUND_BLOCKS = re.compile(rf"\s*\n\s*(?={_BLOCK_TAG})|(?<=>)\s*\n\s*(?={_BLOCK_TAG})")
_NEWLINES_AFTER_BLOCKS = re.compile(rf"({_BLOCK_TAG})\s*\n\s*")
_BR = re.compile(r"<br\s*/?>\n?", re.IGNORECASE)
_ADDED_REL = re.compile(rf' rel="{LINK_REL}"')


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def sanitize_rich_text(text: str | None) -> str:
    """Sanitised HTML for `text`, with its line breaks turned into <br>."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    html = _clean(text)
    html = _NEWLINES_AFTER_BLOCKS.sub(r"\1", html)
    html = _NEWLINES_AROUND_BLOCKS.sub("", html)
    html = re.sub(r"\n+", lambda m: "<br>" * len(m.group(0)), html.strip())
    # A second pass: the <br> added above are allowed; this keeps the output canonical.
    return _clean(html)


def rich_text_for_editing(html: str | None) -> str:
    """The stored HTML as the agent typed it: <br> back to line breaks, entities back to characters.

    Only for a form field's value (which Django escapes); never render it with |safe."""
    return html_lib.unescape(_ADDED_REL.sub("", _BR.sub("\n", html or "")))
