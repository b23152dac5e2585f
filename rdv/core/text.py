"""Text normalisation shared by every app (search keys)."""

import re
import unicodedata

# Letters that Unicode decomposition does not split into base letter + accent.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
_NOT_WORD = re.compile(r"[\W_]+")
# The longest search an agent may type (a name, an e-mail, a phone number, a date).
SEARCH_MAX_LENGTH = 100


def normalise_text(text: str | None) -> str:
    """Lowercase, accents stripped, punctuation turned into single spaces.

    "Éloïse D'Aubigné-Œuvray" -> "eloise d aubigne oeuvray". The same function builds the stored
    search columns and the searched words, so matching is accent- and case-insensitive on every
    database with a plain LIKE."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char)).translate(_LIGATURES)
    return " ".join(_NOT_WORD.sub(" ", text).split())


# French elision: « de » becomes « d' » before a vowel or a mute h (names: « d'Alice », « d'Hélène »).
_ELIDING_INITIALS = set("aeiouyhàâäéèêëîïôöùûüÿæœ")


def elides(word: str | None) -> bool:
    """Whether « de », « le », « que »… lose their vowel before `word` (its first letter is a vowel
    or an h, accents and case ignored)."""
    text = str(word or "").lstrip()
    return bool(text) and text[0].casefold() in _ELIDING_INITIALS


def de(name) -> str:
    """« de » and a name, with the French elision: de("Alice Martin") == "d'Alice Martin",
    de("Bruno Petit") == "de Bruno Petit". Every title and message that puts a name (of a person,
    an organisation, a place) after « de » goes through it."""
    text = str(name)
    return f"d'{text}" if elides(text) else f"de {text}"
