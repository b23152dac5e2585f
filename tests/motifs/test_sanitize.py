"""Instructions accept line breaks, links and a little emphasis; nothing else survives."""

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdv.motifs.sanitize import ALLOWED_TAGS, rich_text_for_editing, sanitize_rich_text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("", ""),
        ("   \n ", ""),
        ("Bonjour\nApportez vos papiers.\r\n\r\nMerci", "Bonjour<br>Apportez vos papiers.<br><br>Merci"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>body{display:none}</style>ok", "ok"),
        ('<img src="x" onerror="alert(1)">', ""),
        ('<a href="javascript:alert(1)">ici</a>', '<a rel="noopener noreferrer">ici</a>'),
        ('<a href="JaVaScRiPt:alert(1)">ici</a>', '<a rel="noopener noreferrer">ici</a>'),
        ('<a href="data:text/html,x">ici</a>', '<a rel="noopener noreferrer">ici</a>'),
        ('<a href="/relatif">ici</a>', '<a rel="noopener noreferrer">ici</a>'),
        (
            '<a href="https://exemple.fr/?a=1&b=2" target="_blank" onclick="x()">site</a>',
            '<a href="https://exemple.fr/?a=1&amp;b=2" rel="noopener noreferrer">site</a>',
        ),
        (
            '<a href="mailto:accueil@exemple.fr">écrire</a>',
            '<a href="mailto:accueil@exemple.fr" rel="noopener noreferrer">écrire</a>',
        ),
        ('<a href="tel:+33102030405">appeler</a>', '<a href="tel:+33102030405" rel="noopener noreferrer">appeler</a>'),
        ("<strong>fort</strong> <em>penché</em> <b>gras</b>", "<strong>fort</strong> <em>penché</em> gras"),
        ("Liste :\n<ul>\n  <li>un</li>\n  <li>deux</li>\n</ul>\nFin", "Liste :<ul><li>un</li><li>deux</li></ul>Fin"),
        ('<p style="color:red" class="x">para</p>', "<p>para</p>"),
        ("a < b & c", "a &lt; b &amp; c"),
        ("<!-- caché --><iframe src='https://x'></iframe>visible", "visible"),
    ],
)
def test_only_safe_formatting_is_kept(typed, stored):
    assert sanitize_rich_text(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "Bonjour\nApportez vos papiers.\n\nMerci",
        'Voir <a href="https://exemple.fr/?a=1&b=2">le site</a>\net <strong>venez</strong>',
        "Liste :\n<ul><li>un</li><li>deux</li></ul>",
        "a < b & c",
    ],
)
def test_editing_then_saving_again_changes_nothing(typed):
    stored = sanitize_rich_text(typed)
    assert sanitize_rich_text(rich_text_for_editing(stored)) == stored


def test_line_breaks_come_back_as_line_breaks_for_editing():
    assert rich_text_for_editing("un<br>deux<br><br>trois") == "un\ndeux\n\ntrois"


# What must never survive: anything that runs script, loads content or navigates by itself.
@pytest.mark.parametrize(
    "typed",
    [
        '<meta http-equiv="refresh" content="0;url=https://exemple.invalid/">',
        '"><img src=x onerror=alert(1)>',
        "<<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>x</svg>",
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="java\tscript:alert(1)">x</a>',
        "<a href=javascript:alert(1)>x</a>",
        '<a href="vbscript:msgbox(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<a href="https://exemple.fr" onmouseover="alert(1)" style="position:fixed">x</a>',
        '<strong onclick="alert(1)">x</strong>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<ul><li onfocus=alert(1) tabindex=0>x</li></ul>",
        '<form action="https://exemple.invalid/"><input autofocus onfocus=alert(1)><button>ok</button></form>',
        '<object data="https://exemple.invalid/x.swf"></object><embed src="https://exemple.invalid/">',
        '<base href="https://exemple.invalid/">',
        '<link rel="stylesheet" href="https://exemple.invalid/x.css">',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        "<scr<script>ipt>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
        "<template><img src=x onerror=alert(1)></template>",
        "<textarea><img src=x onerror=alert(1)></textarea>",
        '<video><source onerror="alert(1)"></video>',
        "<details open ontoggle=alert(1)>",
    ],
)
def test_nothing_that_runs_loads_or_redirects_survives(typed):
    found = _Elements.of(sanitize_rich_text(typed))
    assert found.tags <= ALLOWED_TAGS
    assert found.attributes <= {("a", "href"), ("a", "rel")}
    assert all(href.startswith(("https://", "http://", "mailto:", "tel:")) for href in found.hrefs), found.hrefs


class _Elements(HTMLParser):
    """The tags, attributes and link targets of an HTML fragment, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.hrefs = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add((tag, name))
            if name == "href":
                self.hrefs.append(value or "")

    handle_startendtag = handle_starttag

    @classmethod
    def of(cls, fragment: str) -> "_Elements":
        parser = cls()
        parser.feed(fragment)
        parser.close()
        return parser


_PIECES = st.sampled_from(
    [
        "<", ">", "/", '"', "'", "=", " ", "\n", "&", "#", ";", ":", "!--", "-->",
        "a", "img", "script", "meta", "svg", "style", "p", "li", "strong", "iframe", "br",
        "href", "src", "onerror", "onload", "http-equiv", "javascript", "data", "https", "//x",
        "alert(1)", "&#106;", "&lt;", "\t", "\x00", "<!", "]]>", "<![CDATA[",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_any_soup_of_markup_comes_out_as_allowed_elements_only(typed):
    stored = sanitize_rich_text(typed)
    found = _Elements.of(stored)
    assert found.tags <= ALLOWED_TAGS
    assert found.attributes <= {("a", "href"), ("a", "rel")}
    assert all(href.startswith(("https:", "http:", "mailto:", "tel:")) for href in found.hrefs), found.hrefs
    # Saving the stored text again changes nothing.
    assert sanitize_rich_text(stored) == stored
