"""Normalisation of what agents type: accent- and case-insensitive search keys, phone numbers.

No Django model import here: these helpers are pure and used by models, services and forms.
"""

import re
import unicodedata

import phonenumbers

# Letters that Unicode decomposition does not split into base letter + accent.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str | None) -> str:
    """Lowercase, accents stripped, punctuation turned into single spaces.

    "Éloïse D'Aubigné-Œuvray" -> "eloise d aubigne oeuvray". The same function builds the stored
    search columns and the searched words, so matching is accent- and case-insensitive on every
    database with a plain (indexable) LIKE."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char)).translate(_LIGATURES)
    return " ".join(_NOT_WORD.sub(" ", text).split())


class InvalidPhone(ValueError):
    message = "Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78 ou +32 470 12 34 56."


def normalise_phone(raw: str | None) -> str:
    """E.164 form ("+33612345678") of a number typed by an agent; French numbers by default.

    Empty input gives "". Raises InvalidPhone when the number is not a valid one."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(InvalidPhone.message) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(InvalidPhone.message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """National format for French numbers ("06 12 34 56 78"), international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "FR":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_keys(e164: str | None) -> str:
    """The digits an agent may type to find this number: national ("0612345678") and international."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    international = re.sub(r"\D", "", e164)
    return f"{national} {international}" if national != international else international
