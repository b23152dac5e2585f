"""The sites allowed to show the public booking pages in an iframe (CSP `frame-ancestors`): one
origin per line, `https://host[:port]`, without path.

Plain functions without database access. The origins end up in a response header: only what the
strict grammar below accepts is ever stored or returned, so no line can smuggle another directive.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings

MAX_ORIGINS = 20
# A host name of the DNS: labels of letters, digits and hyphens (not at their ends), a dot
# between labels, a top-level label that is not all digits.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(?:{_LABEL}\.)+(?!\d+$){_LABEL}$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1")


def local_http_allowed() -> bool:
    """In development and in tests `http://localhost…` and `http://127.0.0.1…` are accepted too."""
    return bool(settings.DEBUG or getattr(settings, "EMBEDDING_ALLOW_LOCAL_HTTP", False))


def _host(value: str) -> str | None:
    """The host name in lowercase ASCII (internationalised names in punycode), or None."""
    try:
        ascii_host = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return ascii_host if len(ascii_host) <= 253 else None


def normalise_origin(text: str, *, allow_local_http: bool | None = None) -> tuple[str | None, str]:
    """(the origin as stored: scheme and host in lowercase, no default port, no trailing slash;
    "") or (None, why it is refused, in French)."""
    if allow_local_http is None:
        allow_local_http = local_http_allowed()
    value = text.strip()
    if value.endswith("/") and value.count("/") == 3:
        value = value[:-1]  # « https://exemple.fr/ »: the lone slash is not a path
    if re.search(r"\s", value):
        return None, "une ligne contient un seul site, sans espace."
    if "*" in value:
        return None, "les caractères génériques (*) ne sont pas acceptés : indiquez chaque site."
    lowered = value.lower()
    if not lowered.startswith(("https://", "http://")):
        return None, "l'adresse doit commencer par https://, par exemple https://www.exemple.fr."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None, "le port doit être un nombre entre 1 et 65535."
    host = _host(parts.hostname or "")
    local = host in _LOCAL_HOSTS
    if parts.scheme.lower() == "http" and not (allow_local_http and local):
        return None, "seules les adresses en https:// sont acceptées."
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        return None, "indiquez seulement le site (https://www.exemple.fr), sans chemin ni paramètres."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return None, "l'adresse ne doit pas contenir d'identifiant ni de mot de passe."
    if host is None or not (_HOST.match(host) or (allow_local_http and local)):
        return None, "le nom du site n'est pas valide (par exemple www.exemple.fr)."
    if port is not None and not 1 <= port <= 65535:
        return None, "le port doit être un nombre entre 1 et 65535."
    scheme = parts.scheme.lower()
    default_port = 443 if scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{scheme}://{host}{suffix}", ""


def parse_origins(text: str, *, allow_local_http: bool | None = None) -> tuple[list[str], list[str]]:
    """Every non-blank line: (the normalised origins without repeats, in order; the French error of
    each refused line, or of too many lines)."""
    origins: list[str] = []
    errors: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        origin, error = normalise_origin(line, allow_local_http=allow_local_http)
        if origin is None:
            shown = line.strip() if len(line.strip()) <= 60 else line.strip()[:57] + "…"
            errors.append(f"Ligne {number} (« {shown} ») : {error}")
        elif origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors.append(f"Indiquez au plus {MAX_ORIGINS} sites ({len(origins)} saisis).")
    return origins, errors


def stored_origins(text: str) -> list[str]:
    """The origins of a stored value, each checked again (a value written by other means than the
    settings page never reaches a header unchecked); local http ones only where they are allowed."""
    origins, _ = parse_origins(text)
    return origins[:MAX_ORIGINS]
