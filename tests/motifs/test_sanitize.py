"""Instructions accept line breaks, links and a little emphasis; nothing else survives."""

import pytest

from rdv.motifs.sanitize import rich_text_for_editing, sanitize_rich_text


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
