"""Sectorisation text rules: what a sector code is, how a commune name is compared, how the admins'
textarea (« un code par ligne, éventuellement suivi de la commune ») is read.

Plain functions without database access: the services, the selectors and the forms share them.
"""

import re
from dataclasses import dataclass

from rdv.core.text import normalise_text

CODE_LENGTH = 5
COMMUNE_MAX_LENGTH = 150
# The most lines one submission may hold: a département has at most about 700 communes.
MAX_LINES = 1000
# How many line errors one message lists (the others are counted).
MAX_REPORTED_ERRORS = 5

# A French postal code (5 digits) or an INSEE commune code (5 characters, 2A/2B for Corsica). Both
# start with a département number, 01 to 98 (97x and 98x overseas).
_CODE = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-8])[0-9]{3}$|^2[AB][0-9]{3}$")
_LINE = re.compile(r"^([0-9A-Za-z]+)(?:[\s,;:–—-]+(.*))?$")
# Letters of every language, digits, spaces and the punctuation of French commune names.
_COMMUNE = re.compile(r"^[\w\s'’().-]+$")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalise_code(code: str) -> str:
    """« 2a004 » -> « 2A004 », spaces around removed."""
    return (code or "").strip().upper()


def is_sector_code(code: str) -> bool:
    """A 5-digit postal code or INSEE code (2A/2B + 3 digits in Corsica), already normalised."""
    return bool(_CODE.match(code or ""))


def looks_like_code(text: str) -> bool:
    """The start of a code: digits only (or 2A/2B and digits), 2 to 5 characters."""
    return bool(re.fullmatch(r"[0-9]{2,5}|2[AB][0-9]{0,3}", normalise_code(text)))


def commune_key(name: str) -> str:
    """The comparison key of a commune name: lowercase, no accents, punctuation and hyphens as
    spaces, « St » and « Ste » written in full. « Saint-Étienne », « st etienne » and
    « ST-ÉTIENNE » share the key « saint etienne »."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in normalise_text(name).split())


def commune_prefixes(text: str) -> tuple[str, ...]:
    """The keys a typed (possibly unfinished) commune name may start: its commune_key, and the text
    as typed when its last word is an abbreviation (« St » may be « Saint » or « Strasbourg » being
    typed)."""
    key = commune_key(text)
    raw = normalise_text(text)
    return tuple(dict.fromkeys(value for value in (key, raw) if value))


def clean_commune(name: str) -> str:
    """The commune as it is shown: single spaces, typographic apostrophes as straight ones."""
    return " ".join((name or "").replace("’", "'").split())


@dataclass(frozen=True)
class SectorLine:
    code: str
    commune: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, commune_key(self.commune))

    def __str__(self) -> str:
        return f"{self.code} {self.commune}".strip()


def _line_error(number: int, line: str, reason: str) -> str:
    shown = line if len(line) <= 60 else line[:57] + "…"
    return f"Ligne {number} (« {shown} ») : {reason}"


def parse_line(line: str) -> tuple[SectorLine | None, str]:
    """One line of the textarea: (the code and commune, "") or (None, why it is refused)."""
    line = line.strip()
    match = _LINE.match(line)
    reversed_ = re.search(r"[\s,;]([0-9]{5}|2[AB][0-9]{3})$", line, re.IGNORECASE)
    if reversed_ and not (match and is_sector_code(normalise_code(match.group(1)))):
        example = f"{reversed_.group(1).upper()} {clean_commune(line[: reversed_.start()].strip(' ,;'))}"
        return None, f"écrivez le code en premier, puis la commune : « {example.strip()} »."
    if not match:
        return None, "commencez la ligne par un code postal ou un code INSEE à 5 caractères."
    code = normalise_code(match.group(1))
    commune = clean_commune(match.group(2) or "")
    if not is_sector_code(code):
        if re.fullmatch(r"[0-9]+", code) and len(code) != CODE_LENGTH:
            return None, f"un code postal ou un code INSEE a {CODE_LENGTH} caractères, par exemple 26000."
        return None, (
            "le code doit être un code postal (5 chiffres, par exemple 26000) ou un code INSEE "
            "(5 caractères, par exemple 26362 ou 2A004 en Corse)."
        )
    if len(commune) > COMMUNE_MAX_LENGTH:
        return None, f"le nom de la commune ne doit pas dépasser {COMMUNE_MAX_LENGTH} caractères."
    if commune and (not _COMMUNE.match(commune) or not re.search(r"[^\W\d_]", commune)):
        return None, (
            "le nom de la commune ne peut contenir que des lettres, des chiffres, des espaces, "
            "des tirets et des apostrophes."
        )
    return SectorLine(code, commune), ""


def parse_lines(text: str) -> tuple[list[SectorLine], list[str]]:
    """Every non-blank line of the textarea: (the entries, without repeats, in their order; the
    French error of each refused line)."""
    entries: list[SectorLine] = []
    errors: list[str] = []
    seen: set[tuple[str, str]] = set()
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), start=1) if line.strip()]
    if len(lines) > MAX_LINES:
        return [], [f"Saisissez au plus {MAX_LINES} lignes à la fois ({len(lines)} saisies)."]
    for number, line in lines:
        entry, error = parse_line(line)
        if entry is None:
            errors.append(_line_error(number, line.strip(), error))
        elif entry.key not in seen:
            seen.add(entry.key)
            entries.append(entry)
    return entries, errors


def limit_errors(errors: list[str]) -> list[str]:
    """The first line errors, then how many more."""
    shown = errors[:MAX_REPORTED_ERRORS]
    rest = len(errors) - len(shown)
    if rest:
        shown.append(f"… et {rest} autre{'s' if rest > 1 else ''} ligne{'s' if rest > 1 else ''} à corriger.")
    return shown


def errors_message(errors: list[str]) -> str:
    """One message for a list of line errors (limit_errors)."""
    return " ".join(limit_errors(errors))


# The place an usager types on the public pages ------------------------------------------------


@dataclass(frozen=True)
class PlaceQuery:
    """What an usager typed to find their organisations: an exact code, a commune (the keys its
    name may start with: commune_prefixes), or both (« 26000 Valence »)."""

    code: str = ""
    communes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.code or self.communes)


QUERY_MAX_LENGTH = 200


def parse_place_query(query: str) -> PlaceQuery:
    """« 26000 », « 2a004 », « Saint-Étienne », « st etienne », « 26000 Valence »."""
    text = (query or "").strip()
    if not text or len(text) > QUERY_MAX_LENGTH:
        return PlaceQuery()
    first, _, rest = text.partition(" ")
    code = normalise_code(first)
    if is_sector_code(code):
        return PlaceQuery(code=code, communes=commune_prefixes(rest))
    if re.fullmatch(r"[0-9]+", code):  # a number that is not a code: matched exactly, so nothing
        return PlaceQuery(code=code)
    return PlaceQuery(communes=commune_prefixes(text))
