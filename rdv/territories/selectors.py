"""Reads of the espace administration pages, scoped by the context (rdv.territories.policies)."""

from typing import NamedTuple

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from rdv.core.context import Context
from rdv.territories.models import Organisation, SectorCode, Service, Territory
from rdv.territories.policies import can_administer, journal_scope, organisations_scope, sector_codes_scope
from rdv.territories.sectors import commune_prefixes, looks_like_code, normalise_code, parse_place_query


def organisations(ctx: Context):
    """The espace's organisations with their number of agents and of sector codes, by name."""
    return (
        organisations_scope(ctx)
        .annotate(
            agent_count=Count("agent_roles", distinct=True),
            # A subquery, not a second join: agents × codes rows would be counted otherwise.
            sector_code_count=Coalesce(
                Subquery(
                    SectorCode.objects.filter(organisation=OuterRef("pk"))
                    .order_by()
                    .values("organisation")
                    .annotate(count=Count("pk"))
                    .values("count")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
        .order_by("name")
    )


def active_service_ids(ctx: Context) -> set[int]:
    return set(Service.objects.active_in(ctx.territory).values_list("pk", flat=True))


JOURNAL_ORDER = ("-created_at", "-id")  # newest first, served by the index auditlog_territory_idx


def journal(ctx: Context):
    """The espace journal, newest first, with each entry's organisation (the page names it: motifs
    created together in several organisations share a name)."""
    return journal_scope(ctx).select_related("organisation").order_by(*JOURNAL_ORDER)


def services_overview(ctx: Context, agent_counts: dict[int, int]) -> list[dict]:
    """Every service of the catalogue: active in the espace or not, and how many of the espace's
    agents work for it (`agent_counts`, from rdv.accounts.selectors)."""
    if not can_administer(ctx):
        return []
    active = active_service_ids(ctx)
    return [
        {"service": service, "active": service.pk in active, "agents": agent_counts.get(service.pk, 0)}
        for service in Service.objects.order_by("name")
    ]


def organisation_choices(ctx: Context):
    """The espace's organisations, by name (forms of the espace pages)."""
    return organisations_scope(ctx).order_by("name")


def active_services(ctx: Context):
    """The services active in the espace, by name: those agents may be given."""
    if not can_administer(ctx):
        return Service.objects.none()
    return Service.objects.active_in(ctx.territory).order_by("name")


def organisation_services(ctx: Context):
    """The services active in the espace, by name, for the members of one of its organisations: the
    services its agents and motifs may belong to (the API's list)."""
    if not ctx.is_member:
        return Service.objects.none()
    return Service.objects.active_in(ctx.territory).order_by("name", "pk")


# Sectorisation ------------------------------------------------------------------------------


def sector_codes(ctx: Context, organisation: Organisation) -> list[SectorCode]:
    """The organisation's sector codes, by code then commune (empty without the right)."""
    return list(sector_codes_scope(ctx, organisation).order_by("code", "commune_key", "id"))


def territory_is_sectorised(territory: Territory) -> bool:
    """Whether an organisation of the espace has a sector code (without any, the online booking
    offers every organisation of the espace)."""
    return SectorCode.objects.filter(organisation__territory=territory).exists()


def _starts_with_any(prefixes: tuple[str, ...]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(commune_key__startswith=prefix)
    return condition


def _place_filter(query: str) -> Q | None:
    """The condition on sector codes for what an usager typed, or None when it can match nothing."""
    place = parse_place_query(query)
    if place.empty:
        return None
    if not place.code:
        return _starts_with_any(place.communes)
    condition = Q(code=place.code)
    if place.communes:  # « 26000 Valence »: codes without a commune match too
        condition &= _starts_with_any(place.communes) | Q(commune_key="")
    return condition


def organisations_for_place(territory: Territory | None, query: str) -> list[Organisation]:
    """The organisations serving the place an usager typed: a postal or INSEE code (exact), a
    commune (case, accents, hyphens and « St » ignored; the start of the name is enough), or both
    (« 26000 Valence »). By espace then name, with their espace. One query.

    With an espace: an espace without any sector code offers all its organisations, whatever was
    typed (no sectorisation); otherwise the matching ones. Without an espace (the platform-wide
    search): the matching organisations of every espace, none from espaces without sectorisation."""
    condition = _place_filter(query)
    matching = Q(pk__in=SectorCode.objects.filter(condition).values("organisation_id")) if condition else Q(pk__in=[])
    organisations = Organisation.objects.select_related("territory")
    if territory is None:
        if condition is None:
            return []
        organisations = organisations.filter(matching)
    else:
        unsectorised = ~Exists(SectorCode.objects.filter(organisation__territory_id=OuterRef("territory_id")))
        organisations = organisations.filter(territory=territory).filter(matching | Q(unsectorised))
    return list(organisations.order_by("territory__name", "name", "pk"))


class CommuneSuggestion(NamedTuple):
    code: str
    commune: str

    @property
    def label(self) -> str:
        """« 26000 Valence », or the code alone."""
        return f"{self.code} {self.commune}".strip()


def communes_matching(query: str, territory: Territory | None = None, limit: int = 10) -> list[CommuneSuggestion]:
    """Suggestions while an usager types a place: the sector codes whose commune starts with the
    text, or whose commune has a word starting with it (« valence » suggests « Bourg-lès-Valence »
    after « Valence »), or whose code starts with the digits typed. Each code and commune once,
    in the espace's codes only when one is given. One query."""
    text = (query or "").strip()
    limit = max(0, min(int(limit), 50))
    if not text or not limit or len(text) > 200:
        return []
    if looks_like_code(text):
        condition = Q(code__startswith=normalise_code(text))
        rank = Value(0)
    else:
        prefixes = commune_prefixes(text)
        if not prefixes:
            return []
        condition = _starts_with_any(prefixes)
        for prefix in prefixes:
            condition |= Q(commune_key__contains=" " + prefix)
        # Communes whose name starts with the text come first.
        rank = Case(When(_starts_with_any(prefixes), then=Value(0)), default=Value(1), output_field=IntegerField())
    codes = SectorCode.objects.filter(condition)
    if territory is not None:
        codes = codes.filter(organisation__territory=territory)
    rows = (
        codes.annotate(rank=rank)
        .values_list("rank", "code", "commune", "commune_key")
        .order_by("rank", "commune_key", "code", "commune")
        .distinct()
    )
    suggestions: list[CommuneSuggestion] = []
    seen: set[tuple[str, str]] = set()
    # A few more rows than asked: spellings of one commune that differ only by case or accents
    # are shown once.
    for _rank, code, commune, key in rows[: limit * 5]:
        if (code, key) in seen:
            continue
        seen.add((code, key))
        suggestions.append(CommuneSuggestion(code, commune))
        if len(suggestions) == limit:
            break
    return suggestions
