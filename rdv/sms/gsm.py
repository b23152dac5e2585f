"""GSM 03.38 (GSM-7) text: which characters an SMS can carry in 7 bits, how many segments a text
costs, and a conversion that keeps French text 7-bit. Pure Python, no Django.

An SMS segment holds 140 bytes: 160 GSM-7 characters, or 70 UCS-2 code units as soon as one
character is outside GSM-7. A longer text is split into concatenated segments whose header takes
room: 153 characters (GSM-7) or 67 units (UCS-2) each. Characters of the GSM-7 extension table
(€ [ ] { } \\ ^ ~ | and form feed) are sent as an escape plus a character: they count double and
an escape pair is never split between two segments. Operators bill per segment, so a reminder of
161 characters costs twice one of 160.
"""

import re
import unicodedata

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The basic character set (the escape 0x1B is not a character of its own).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + a character, two septets.
EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_SEGMENT = {GSM7: 160, UCS2: 70}
PER_SEGMENT = {GSM7: 153, UCS2: 67}

# Characters outside GSM-7 that French (and nearby) text uses, and what replaces them. The accented
# letters GSM-7 has (é è ù ì ò à É Ç Ä Ö Ü Ñ ä ö ü ñ) are kept.
REPLACEMENTS = {
    # Lower-case letters
    "â": "a",
    "á": "a",
    "ã": "a",
    "ê": "e",
    "ë": "e",
    "î": "i",
    "ï": "i",
    "í": "i",
    "ô": "o",
    "ó": "o",
    "õ": "o",
    "û": "u",
    "ú": "u",
    "ÿ": "y",
    "ý": "y",
    "ç": "c",
    "œ": "oe",
    # Upper-case letters
    "À": "A",
    "Â": "A",
    "Á": "A",
    "Ã": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Í": "I",
    "Ì": "I",
    "Ô": "O",
    "Ó": "O",
    "Ò": "O",
    "Õ": "O",
    "Ù": "U",
    "Û": "U",
    "Ú": "U",
    "Ÿ": "Y",
    "Ý": "Y",
    "Œ": "OE",
    # Quotes and apostrophes
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‹": '"',
    "›": '"',
    # Dashes and bullets
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "•": "-",
    "·": ".",
    # Spaces (non-breaking, narrow, thin, figure…) and tabs
    "\u00a0": " ",
    "\u202f": " ",
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u3000": " ",
    "\t": " ",
    "\u2028": "\n",
    "\u2029": "\n",
    # Invisible characters: dropped
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\u00ad": "",
    # Other usual signs
    "…": "...",
    "°": "o",
    "º": "o",
    "ª": "a",
    "²": "2",
    "³": "3",
    "×": "x",
    "÷": "/",
}
UNKNOWN = "?"

# French guillemets usually enclose (non-breaking) spaces: « Bonjour » → "Bonjour".
_GUILLEMETS = re.compile(r"«[\s\u00a0\u202f]*|[\s\u00a0\u202f]*»")


def is_gsm(text: str) -> bool:
    """Every character can be sent in GSM-7 (basic set or extension table)."""
    return all(char in BASIC or char in EXTENSION for char in text)


def _replace(char: str) -> str:
    if char in BASIC or char in EXTENSION:
        return char
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    # Other accented letters: the letter without its marks, when that is GSM-7 (ā → a, ş → s).
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if decomposed and all(c in BASIC or c in EXTENSION for c in decomposed):
        return decomposed
    return UNKNOWN


def to_gsm(text: str) -> str:
    """The text with every character outside GSM-7 replaced by a close GSM-7 one (accents that
    GSM-7 lacks dropped, typographic quotes, dashes and spaces made plain, « » as straight quotes,
    … as three dots, œ as oe); what has no close equivalent (emoji, other scripts) becomes « ? ».
    The result is always GSM-7, so a French text costs 160 characters per SMS, not 70."""
    text = _GUILLEMETS.sub(lambda match: '"', text)
    return "".join(_replace(char) for char in text)


def _septets(char: str) -> int:
    return 2 if char in EXTENSION else 1


def _ucs2_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair


def segments(text: str) -> tuple[str, int]:
    """(encoding, number of segments) of the text as an SMS: GSM-7 when every character is GSM-7
    (extension characters count two), UCS-2 otherwise. An empty text is one (empty) segment."""
    encoding = GSM7 if is_gsm(text) else UCS2
    size = _septets if encoding == GSM7 else _ucs2_units
    sizes = [size(char) for char in text]
    if sum(sizes) <= SINGLE_SEGMENT[encoding]:
        return encoding, 1
    # Concatenated: fill each segment, never splitting an escape pair or a surrogate pair.
    capacity = PER_SEGMENT[encoding]
    count, used = 1, 0
    for units in sizes:
        if used + units > capacity:
            count, used = count + 1, 0
        used += units
    return encoding, count


def length(text: str) -> int:
    """Characters as the phone counts them: septets in GSM-7, code units in UCS-2."""
    if is_gsm(text):
        return sum(_septets(char) for char in text)
    return sum(_ucs2_units(char) for char in text)
