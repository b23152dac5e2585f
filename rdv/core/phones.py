"""Phone numbers as agents and usagers type them: validation, E.164 storage, display, search keys.

Pure helpers (no Django model), used by usager files and lieux alike.
"""

import re

import phonenumbers

# The longest phone number accepted as typed (spaces, dots and a country code included).
PHONE_INPUT_MAX_LENGTH = 30


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
