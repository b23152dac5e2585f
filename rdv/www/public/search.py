"""The public search pages (issue 18, journey steps 1–4): « Où ? », « Quel service ? »,
« Quel motif ? » (with the motif's instructions before), « Où exactement ? », « Quand ? », the short
links for partner sites and paper letters, and the prescripteur entry.

The choices travel in query parameters (`espace`, `q`, `organisation`, `service`, `motif`, `lieu`,
`semaine`, `lu`), so that every step is a plain link that works without JavaScript, can be
bookmarked, printed or embedded. Bad or stale parameters give a French 400/404 page or a redirect to
the right step with a message, never a 500. Reads come from rdv.online.selectors; who may book what
from rdv.motifs.policies (through those selectors); free times from the one slot function.
Every view is rate-limited (rdv.www.public.limits) and may be framed by the espace's sites
(rdv.www.public.embedding). No agent is ever named.
"""

import re
from datetime import datetime
from functools import wraps
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from rdv.core.context import ActorKind
from rdv.core.dates import french_date, parse_day
from rdv.core.db import reads_from_replica
from rdv.online import selectors
from rdv.online.selectors import PLACE_QUERY_MAX_LENGTH
from rdv.www.public import steps
from rdv.www.public.embedding import embeddable, set_territory
from rdv.www.public.limits import rate_limited
from rdv.www.public.session import HOLDER_KEY

MODE_KEY = "public_mode"  # "prescripteur" while a professional books for someone else
PRESCRIPTEUR, USAGER = "prescripteur", "usager"
ID_RE = re.compile(r"^[0-9]{1,18}$")
MAX_ID = 2**63 - 1
MAP_SEARCH_URL = "https://www.openstreetmap.org/search"

MISSING_PLACE = "Indiquez un code postal ou le nom d'une commune."
PLACE_TOO_LONG = f"Saisissez au plus {PLACE_QUERY_MAX_LENGTH} caractères."
MOTIF_CLOSED = "Ce motif n'est pas ou plus proposé en ligne. Choisissez parmi les rendez-vous proposés."
LIEU_ELSEWHERE = "Ce lieu ne propose pas ce rendez-vous en ligne. Choisissez un des lieux proposés."
LIEU_OF_ANOTHER = "Ce lieu ne dépend pas de cette organisation. Choisissez parmi les rendez-vous proposés."
WEEK_OUTSIDE = "Cette semaine est en dehors de la période de réservation en ligne : voici la première semaine possible."
BAD_DATE = "La date demandée n'est pas valide : voici la première semaine possible."
INSTRUCTIONS_UNREAD = "Cochez « J'ai lu ces informations » pour continuer."
SERVICE_CLOSED = (
    "Ce service ne propose pas de rendez-vous en ligne pour le moment. Choisissez parmi les services proposés."
)


class Stop(Exception):
    """Ends a view early with a response (an error page or a redirect)."""

    def __init__(self, response):
        self.response = response


def public_page(view):
    """Rate limit, embedding headers and early stops of a public search page. Its GET requests read
    from the read replica when one is configured (rdv.core.db, docs/adr/0017-read-replica.md): the
    slots shown may be a moment behind, the hold (a POST) re-checks on the primary."""

    @embeddable
    @rate_limited()
    @reads_from_replica
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Stop as stop:
            return stop.response

    return wrapper


# Mode (usager or prescripteur) ----------------------------------------------------------------


def actor_kind(request) -> ActorKind:
    return ActorKind.PRESCRIPTEUR if request.session.get(MODE_KEY) == PRESCRIPTEUR else ActorKind.USAGER


def mode_name(request) -> str:
    return PRESCRIPTEUR if actor_kind(request) == ActorKind.PRESCRIPTEUR else USAGER


# Wording ---------------------------------------------------------------------------------------


def french_time(moment: datetime) -> str:
    """« 14 h 00 »."""
    return f"{moment.hour} h {moment.minute:02d}"


def french_moment(moment: datetime, tz) -> str:
    """« mardi 9 mars à 14 h 00 » in the espace's time."""
    local = timezone.localtime(moment, tz)
    this_year = local.year == timezone.localtime(timezone.now(), tz).year
    return f"{french_date(local.date(), year=not this_year)} à {french_time(local)}"


def map_url(address: str) -> str:
    return f"{MAP_SEARCH_URL}?{urlencode({'query': address})}"


# Parameters ------------------------------------------------------------------------------------


def url(name: str, **params) -> str:
    """A public URL with its non-empty query parameters."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "", False)})
    return reverse(f"public:{name}") + (f"?{query}" if query else "")


def error_page(request, status: int, title: str, message: str, link: tuple[str, str] | None = None):
    response = render(
        request,
        "public/search/error.html",
        {
            "title": title,
            "message": message,
            "link_url": link[0] if link else reverse("public:start"),
            "link_label": link[1] if link else "Recommencer la recherche",
            **_mode_context(request),
        },
        status=status,
    )
    response.product_page = True  # rdv.www.middleware.ProductNotFoundMiddleware leaves it as is
    return response


def bad_link(request):
    return Stop(
        error_page(
            request,
            400,
            "Lien incorrect",
            "Ce lien de prise de rendez-vous est incomplet ou mal recopié. "
            "Vérifiez l'adresse ou recommencez la recherche.",
        )
    )


def not_offered(request, what: str = "Ce rendez-vous"):
    return Stop(
        error_page(
            request,
            404,
            "Rendez-vous introuvable",
            f"{what} n'existe pas ou n'est pas proposé en ligne. Recommencez la recherche.",
        )
    )


def param_id(request, name: str) -> int | None:
    """An id from the query string: None when absent, a 400 page when malformed."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not ID_RE.match(raw) or int(raw) > MAX_ID:
        raise bad_link(request)
    return int(raw)


def path_id(request, pk: int) -> int:
    if pk > MAX_ID:
        raise not_offered(request)
    return pk


def go(request, target: str, message: str = "", level=messages.WARNING):
    if message:
        messages.add_message(request, level, message)
    return Stop(redirect(target))


def _mode_context(request) -> dict:
    return {"prescripteur": actor_kind(request) == ActorKind.PRESCRIPTEUR, "mode": mode_name(request)}


def _page(request, template: str, step: str, context: dict):
    """A search page with the journey's step indicator (rdv.www.public.steps): once the motif is
    known, a motif without a place counts no « Où exactement ? » step."""
    motif = context.get("motif")
    on_site = motif is None or motif.location_type in selectors.ON_SITE
    return render(
        request,
        template,
        {
            **context,
            **_mode_context(request),
            "stepper": steps.stepper(step, prescripteur=actor_kind(request) == ActorKind.PRESCRIPTEUR, on_site=on_site),
        },
    )


def _known_holder_key(request) -> str:
    """The visitor's hold key when they have one (lists do not create a session)."""
    return request.session.get(HOLDER_KEY, "")


# Loading the choices ---------------------------------------------------------------------------


def _organisation(request, pk: int | None):
    if pk is None:
        raise go(request, url("start"))
    organisation = selectors.organisation_by_id(pk)
    if organisation is None:
        raise not_offered(request, "Cette organisation")
    set_territory(request, organisation.territory)
    return organisation


def _motif(request):
    """The motif of the query string, open online to this actor; otherwise a French page or a
    redirect to the choice of a motif."""
    pk = param_id(request, "motif")
    if pk is None:
        raise go(request, url("start"))
    motif = selectors.motif_by_id(pk, actor_kind(request))
    if motif is None:
        raise not_offered(request, "Ce motif")
    set_territory(request, motif.organisation.territory)
    if not motif.public_bookable:
        raise go(request, url("services", organisation=motif.organisation_id), MOTIF_CLOSED)
    return motif


def _lieu(request, organisation, *, motif=None, required=False):
    """The lieu of the query string (None when absent): of the organisation, open, offering the motif."""
    pk = param_id(request, "lieu")
    if pk is None:
        return None
    lieu = selectors.lieu_by_id(pk, motif)
    if lieu is None:
        raise not_offered(request, "Ce lieu")
    if lieu.organisation_id != organisation.pk:
        raise go(request, url("services", organisation=organisation.pk), LIEU_OF_ANOTHER)
    if motif is not None and not lieu.offers_motif:
        raise go(request, url("lieux", motif=motif.pk, lu=request.GET.get("lu") == "1" and "1"), LIEU_ELSEWHERE)
    if motif is None and (lieu.archived_at is not None or not lieu.is_open):
        raise go(request, url("services", organisation=organisation.pk), LIEU_ELSEWHERE)
    return lieu


def _instructions_read(request, motif) -> bool:
    return not motif.instructions_before.strip() or request.GET.get("lu") == "1"


def after_motif_url(motif, *, lieu=None, semaine: str | None = None, read: bool = False) -> str:
    """Where the journey goes once the motif is chosen: its instructions before (until read), the
    choice of a lieu (on-site motifs), or the week of free times (`semaine`: its Monday)."""
    has_instructions = bool(motif.instructions_before.strip())
    lieu_id = lieu.pk if lieu is not None else None
    if has_instructions and not read:
        return url("instructions", motif=motif.pk, lieu=lieu_id, semaine=semaine)
    lu = "1" if has_instructions else None
    if lieu is None and motif.location_type in selectors.ON_SITE:
        return url("lieux", motif=motif.pk, lu=lu)
    return url("week", motif=motif.pk, lieu=lieu_id, semaine=semaine, lu=lu)


def _monday_param(moment: datetime, motif) -> str:
    local = timezone.localtime(moment, motif.organisation.territory.zone)
    return selectors.monday_of(local.date()).isoformat()


# Step 1: where -----------------------------------------------------------------------------------


@public_page
def start(request):
    """« Où ? »: a postal code or a commune → the organisations serving it (sectorisation), across
    espaces, or within the espace of an espace link; skipped when one organisation answers."""
    if request.GET.get("mode") == USAGER:
        request.session.pop(MODE_KEY, None)
    kind = actor_kind(request)
    territory = None
    espace_id = param_id(request, "espace")
    if espace_id is not None:
        territory = selectors.territory_by_id(espace_id)
        if territory is None:
            raise not_offered(request, "Cet espace")
        set_territory(request, territory)
    listing = request.GET.get("liste") == "1"
    context = {"territory": territory, "query": "", "error": "", "organisations": None, "communes": []}
    if territory is not None:
        context["suggestions"] = selectors.territory_communes(territory)
    if territory is not None and not selectors.territory_has_sectorisation(territory):
        organisations = selectors.organisations_offering(selectors.organisations_for_place(territory, ""), kind)
        if len(organisations) == 1 and not listing:
            raise go(request, url("services", organisation=organisations[0].pk))
        context.update(organisations=organisations, without_sectorisation=True)
        return _page(request, "public/search/start.html", steps.WHERE, context)
    if "q" in request.GET:
        raw = request.GET["q"]
        query = " ".join(raw.split())
        context["query"] = query[:PLACE_QUERY_MAX_LENGTH]
        if not query:
            context["error"] = MISSING_PLACE
        elif len(query) > PLACE_QUERY_MAX_LENGTH:
            context["error"] = PLACE_TOO_LONG
        else:
            organisations = selectors.organisations_offering(selectors.organisations_for_place(territory, query), kind)
            communes = [] if selectors.is_code(query) else selectors.communes_matching(query, territory)
            if len(organisations) == 1 and len(communes) <= 1 and not listing:
                raise go(request, url("services", organisation=organisations[0].pk, q=query))
            context.update(organisations=organisations, communes=communes if len(communes) > 1 else [])
    return _page(request, "public/search/start.html", steps.WHERE, context)


# Step 2: service, motif, instructions -----------------------------------------------------------


@public_page
def services(request):
    """« Quel service ? »: the services of the organisation with a motif the actor may book and a
    free slot in its online window (at the lieu of a lieu link)."""
    organisation = _organisation(request, param_id(request, "organisation"))
    lieu = _lieu(request, organisation)
    offered = selectors.offered_motifs(
        organisation, actor_kind(request), lieu=lieu, holder_key=_known_holder_key(request)
    )
    services = selectors.offered_services(offered)
    if len(services) == 1 and request.GET.get("liste") != "1":
        raise go(
            request,
            url("motifs", organisation=organisation.pk, service=services[0].service.pk, lieu=lieu and lieu.pk),
        )
    context = {
        "organisation": organisation,
        "lieu": lieu,
        "services": [
            {
                "service": item.service,
                "url": url("motifs", organisation=organisation.pk, service=item.service.pk, lieu=lieu and lieu.pk),
                "count": len(item.motifs),
            }
            for item in services
        ],
        "query": request.GET.get("q", "")[:PLACE_QUERY_MAX_LENGTH],
    }
    return _page(request, "public/search/services.html", steps.MOTIF, context)


@public_page
def motifs(request):
    """« Quel motif ? »: the motifs of the service the actor may book, with a free slot."""
    organisation = _organisation(request, param_id(request, "organisation"))
    lieu = _lieu(request, organisation)
    service_id = param_id(request, "service")
    if service_id is None:
        raise go(request, url("services", organisation=organisation.pk, lieu=lieu and lieu.pk))
    offered = selectors.offered_motifs(
        organisation,
        actor_kind(request),
        lieu=lieu,
        service_id=service_id,
        holder_key=_known_holder_key(request),
    )
    if not offered:
        raise go(request, url("services", organisation=organisation.pk, lieu=lieu and lieu.pk), SERVICE_CLOSED)
    if len(offered) == 1 and request.GET.get("liste") != "1":
        first = offered[0]
        raise go(
            request, after_motif_url(first.motif, lieu=lieu, semaine=_monday_param(first.first_slot.start, first.motif))
        )
    tz = organisation.territory.zone
    context = {
        "organisation": organisation,
        "lieu": lieu,
        "service": offered[0].motif.service,
        "motifs": [
            {
                "motif": item.motif,
                "url": after_motif_url(item.motif, lieu=lieu, semaine=_monday_param(item.first_slot.start, item.motif)),
                "first": french_moment(item.first_slot.start, tz),
            }
            for item in offered
        ],
        "services_url": url("services", organisation=organisation.pk, lieu=lieu and lieu.pk, liste="1"),
    }
    return _page(request, "public/search/motifs.html", steps.MOTIF, context)


@public_page
def instructions(request):
    """The motif's instructions before, shown before any slot is chosen; « J'ai lu ces
    informations » must be ticked to continue."""
    motif = _motif(request)
    lieu = _lieu(request, motif.organisation, motif=motif)
    semaine = parse_day(request.GET.get("semaine"))
    semaine_param = semaine.isoformat() if semaine else None
    if not motif.instructions_before.strip():
        raise go(request, after_motif_url(motif, lieu=lieu, semaine=semaine_param, read=True))
    error = ""
    if "envoyer" in request.GET:
        if request.GET.get("lu") == "1":
            raise go(request, after_motif_url(motif, lieu=lieu, semaine=semaine_param, read=True))
        error = INSTRUCTIONS_UNREAD
    context = {
        "organisation": motif.organisation,
        "motif": motif,
        "lieu": lieu,
        "semaine": semaine_param or "",
        "error": error,
        "motifs_url": url(
            "motifs", organisation=motif.organisation_id, service=motif.service_id, lieu=lieu and lieu.pk, liste="1"
        ),
    }
    response = _page(request, "public/search/instructions.html", steps.MOTIF, context)
    if error:
        response.status_code = 400
    return response


# Step 3: lieu ------------------------------------------------------------------------------------


@public_page
def lieux(request):
    """« Où exactement ? »: the lieux of the motif with their address, a map link and their next
    free time; skipped for motifs without a place (phone, visio, home) and when one lieu answers."""
    motif = _motif(request)
    if not _instructions_read(request, motif):
        raise go(request, url("instructions", motif=motif.pk))
    read = "1" if motif.instructions_before.strip() else None
    if motif.location_type not in selectors.ON_SITE:
        raise go(request, url("week", motif=motif.pk, lu=read))
    tz = motif.organisation.territory.zone
    offered = selectors.lieux_with_next_slot(motif, holder_key=_known_holder_key(request))
    if len(offered) == 1 and request.GET.get("liste") != "1":
        only = offered[0]
        raise go(
            request,
            url("week", motif=motif.pk, lieu=only.lieu.pk, semaine=_monday_param(only.next_slot.start, motif), lu=read),
        )
    context = {
        "organisation": motif.organisation,
        "motif": motif,
        "lieux": [
            {
                "lieu": item.lieu,
                "map_url": map_url(item.lieu.address),
                "next": french_moment(item.next_slot.start, tz),
                "url": url(
                    "week",
                    motif=motif.pk,
                    lieu=item.lieu.pk,
                    semaine=_monday_param(item.next_slot.start, motif),
                    lu=read,
                ),
            }
            for item in offered
        ],
        "motifs_url": url("motifs", organisation=motif.organisation_id, service=motif.service_id, liste="1"),
    }
    return _page(request, "public/search/lieux.html", steps.LIEU, context)


# Step 4: a week of free times -------------------------------------------------------------------


def days_html(days: list[dict]) -> SafeString:
    """The days of the week page, each with its times as the hold form's buttons, escaped. Built
    here rather than by the template's loops: the page is the one the public reads most, and a week
    has dozens of times."""
    parts = []
    for number, day in enumerate(days, start=1):
        label = escape(day["label"])
        parts.append(
            f'<section class="public-day" aria-labelledby="jour-{number}">'
            f'<h3 class="fr-h6 fr-mb-1w" id="jour-{number}">{escape(capfirst(day["label"]))}</h3>'
        )
        if day["times"]:
            parts.append('<ul class="public-times">')
            parts.extend(
                '<li><button type="submit" class="fr-btn fr-btn--secondary fr-btn--sm" name="debut"'
                f' value="{escape(time["iso"])}"><span class="fr-sr-only">{label} à </span>{escape(time["label"])}'
                "</button></li>"
                for time in day["times"]
            )
            parts.append("</ul>")
        else:
            parts.append('<p class="fr-text--sm fr-mb-0">Pas d\'horaire libre ce jour-là.</p>')
        parts.append("</section>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


@public_page
def week(request):
    """« Quand ? »: the free start times of a week (Monday–Sunday) in the espace's time; each is a
    button of a form posted to `public:hold`."""
    motif = _motif(request)
    read = "1" if motif.instructions_before.strip() else None
    lieu = _lieu(request, motif.organisation, motif=motif)
    if not _instructions_read(request, motif):
        raise go(request, url("instructions", motif=motif.pk, lieu=lieu and lieu.pk))
    if lieu is None and motif.location_type in selectors.ON_SITE:
        raise go(request, url("lieux", motif=motif.pk, lu=read))
    now = timezone.now()
    tz = motif.organisation.territory.zone
    window = selectors.online_window(motif, now)
    here = {"motif": motif.pk, "lieu": lieu and lieu.pk, "lu": read}
    raw_week = request.GET.get("semaine", "").strip()
    if raw_week:
        monday = parse_day(raw_week)
        if monday is None:
            raise go(request, url("week", **here), BAD_DATE)
        monday = selectors.monday_of(monday)
        if not selectors.week_in_window(motif, monday, now):
            raise go(request, url("week", **here), WEEK_OUTSIDE)
    else:
        monday = selectors.monday_of(window.first_day)
    # A visitor who only browses has no session: one is opened by their first hold (public:hold).
    key = _known_holder_key(request)
    result = selectors.week_of_free_times(motif, monday, lieu=lieu, now=now, holder_key=key)
    if not raw_week and result.next_slot is not None:  # no week asked: the first one with free times
        monday = selectors.monday_of(result.next_slot.date())
        result = selectors.week_of_free_times(motif, monday, lieu=lieu, now=now, holder_key=key)
    days = []
    for day in result.days:
        if not window.first_day <= day.day <= window.last_day:
            continue
        days.append(
            {
                "day": day.day,
                "label": french_date(day.day, year=False),
                "times": [{"iso": t.iso, "label": french_time(t.start)} for t in day.times],
            }
        )
    next_slot_url = url("week", **here, semaine=_monday_param(result.next_slot, motif)) if result.next_slot else ""
    context = {
        "organisation": motif.organisation,
        "motif": motif,
        "lieu": lieu,
        "lieu_map_url": map_url(lieu.address) if lieu else "",
        "days_html": days_html(days),
        "count": result.count,
        "monday_label": french_date(result.monday, weekday=False, year=False),
        "sunday_label": french_date(result.sunday, weekday=False),
        "previous_url": url("week", **here, semaine=result.previous_week.isoformat()) if result.previous_week else "",
        "next_url": url("week", **here, semaine=result.next_week.isoformat()) if result.next_week else "",
        "next_slot": french_moment(result.next_slot, tz) if result.next_slot else "",
        "next_slot_url": next_slot_url,
        "displayed_at": timezone.localtime(now, tz).isoformat(timespec="seconds"),
        "clock_name": motif.organisation.territory.clock_name,
        "lieux_url": url("lieux", motif=motif.pk, lu=read, liste="1"),
        "motifs_url": url("motifs", organisation=motif.organisation_id, service=motif.service_id, liste="1"),
    }
    return _page(request, "public/search/week.html", steps.WHEN, context)


# Short links and modes -------------------------------------------------------------------------


@public_page
def short_espace(request, territory_id: int):
    territory = selectors.territory_by_id(path_id(request, territory_id))
    if territory is None:
        raise not_offered(request, "Cet espace")
    return redirect(url("start", espace=territory.pk))


@public_page
def short_organisation(request, organisation_id: int):
    organisation = selectors.organisation_by_id(path_id(request, organisation_id))
    if organisation is None:
        raise not_offered(request, "Cette organisation")
    return redirect(url("services", organisation=organisation.pk))


@public_page
def short_lieu(request, lieu_id: int):
    lieu = selectors.lieu_by_id(path_id(request, lieu_id))
    if lieu is None or lieu.archived_at is not None or not lieu.is_open:
        raise not_offered(request, "Ce lieu")
    return redirect(url("services", organisation=lieu.organisation_id, lieu=lieu.pk))


@public_page
def short_motif(request, motif_id: int):
    motif = selectors.motif_by_id(path_id(request, motif_id), actor_kind(request))
    if motif is None:
        raise not_offered(request, "Ce motif")
    set_territory(request, motif.organisation.territory)
    if not motif.public_bookable:
        raise go(request, url("services", organisation=motif.organisation_id), MOTIF_CLOSED)
    return redirect(after_motif_url(motif))


@public_page
def prescripteur(request):
    """The journey in prescripteur mode: a professional books for someone else."""
    request.session[MODE_KEY] = PRESCRIPTEUR
    espace = request.GET.get("espace", "")
    return redirect(url("start", espace=espace if ID_RE.match(espace) else None))
