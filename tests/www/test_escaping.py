"""Texts typed by admins and agents are never rendered as HTML.

The first tests pin the bug that was found (a custom field's help text, typed by an espace
admin, was rendered raw in every agent's usager forms) and the form layer's rule that fixes it.
The sweep at the end sets every entered text of the product to markup and crawls every page.
"""

import datetime
import html
import importlib
import inspect
import itertools
import pkgutil
from dataclasses import dataclass

import pytest
import time_machine
from django import forms
from django.contrib import admin
from django.template import Context, Template
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

import rdv
from rdv.accounts import services as accounts_services
from rdv.accounts.context import personal_context
from rdv.accounts.models import AccessLevel, Invitation
from rdv.agendas.models import Lieu
from rdv.bookings import services as booking_services
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.motifs import services as motif_services
from rdv.motifs.models import Motif
from rdv.motifs.sanitize import rich_text_for_editing, sanitize_rich_text
from rdv.online.models import ManageLink
from rdv.outbox.models import Delivery, DeliveryAttempt, Status
from rdv.outbox.services import enqueue_email
from rdv.territories.models import SectorCode, WaitingRoomNotification
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomFieldKind, Usager
from rdv.webhooks import services as webhook_services
from rdv.www.forms.accounts import SetPasswordForm
from rdv.www.forms.base import BoundField, DsfrForm
from tests import factories
from tests.helpers import INVITATION_LINK, as_agent, deliver_emails, invite_data, last_invitation_path, log_in

META = '<meta http-equiv="refresh" content="0;url=https://exemple.invalid/">'
IMG = '"><img src=x onerror=alert(1)>'


# The bug: custom field help texts ----------------------------------------------------------------


@pytest.mark.parametrize("kind", [k.value for k in CustomFieldKind])
@pytest.mark.parametrize("page", ["usager_create", "usager_edit"])
def test_a_custom_field_help_text_is_escaped_in_the_usager_forms(alice, kind, page):
    factories.CustomFieldFactory(
        territory=alice.territory,
        label="Quartier",
        kind=kind,
        choices=["Nord", "Sud"] if kind == CustomFieldKind.CHOICE else [],
        help_text=f"Aide {META}{IMG}",
    )
    usager = factories.UsagerFactory(territory=alice.territory, organisations=[alice.organisation])
    args = [alice.organisation.pk] + ([usager.pk] if page == "usager_edit" else [])

    body = log_in(Client(), alice.agent).get(reverse(page, args=args)).content.decode()

    assert META not in body and "<img src=x" not in body
    assert escape(f"Aide {META}{IMG}") in body


def _form_classes_of_the_product():
    """Every form class defined in rdv (views, forms, anywhere), imported module by module."""
    for info in pkgutil.walk_packages(rdv.__path__, "rdv."):
        if ".migrations" in info.name or ".tests" in info.name:
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == info.name:
                yield cls


def test_every_form_of_the_product_escapes_its_help_texts():
    found = list(_form_classes_of_the_product())
    concrete = [cls for cls in found if not cls.__name__.endswith("Mixin")]
    assert len(concrete) >= 30, [cls.__name__ for cls in found]
    for cls in concrete:
        assert issubclass(cls, DsfrForm), f"{cls.__module__}.{cls.__name__} does not derive from DsfrForm"
        assert cls.bound_field_class is BoundField, cls  # Django's auth forms come first in some MROs
    # Mixins that are forms only add fields; they must not bring their own bound field class.
    for cls in found:
        assert cls.bound_field_class in (None, BoundField), cls


class _HelpTexts(DsfrForm):
    typed = forms.CharField(help_text=f"a < b {IMG}")
    built = forms.CharField(help_text=format_html("Voir <strong>{}</strong>", "a < b"))
    constant = forms.CharField(help_text=mark_safe("Ligne<br>suivante"))


def test_help_texts_are_escaped_once_and_markup_written_on_purpose_is_kept():
    page = _HelpTexts().render()
    assert escape(f"a < b {IMG}") in page and IMG not in page
    assert "Voir <strong>a &lt; b</strong>" in page
    assert "Ligne<br>suivante" in page
    assert "&amp;" not in page


def test_the_password_rules_keep_their_list_markup(alice):
    help_text = SetPasswordForm(alice.agent)["new_password1"].help_text
    assert help_text.startswith("<ul>") and "<li>" in help_text and "&lt;" not in help_text


def test_dsfr_components_escape_their_content():
    # django-dsfr's components (alerts, notices, tables…) mark their content safe unless
    # DSFR_CONTENT_IS_SAFE is False: a future page giving them an entered text stays safe.
    rendered = Template("{% load dsfr_tags %}{{ text|dsfr_maybe_safe }}").render(Context({"text": IMG}))
    assert rendered == escape(IMG)


# Fields whose validation refuses markup ----------------------------------------------------------------


def _motif_data(world, **extra) -> dict:
    data = {
        "name": "Accueil",
        "color": "#000091",
        "default_duration_minutes": "30",
        "location_type": "public_office",
        "service": world.service.pk,
        "bookable_by": "agents",
    }
    return {**data, **extra}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("usager phone", "Saisissez un numéro de téléphone valide"),
        ("custom number", "saisissez un nombre"),
        ("custom date", "saisissez une date valide"),
        ("lieu phone", "Saisissez un numéro de téléphone valide"),
        ("motif colour", "La couleur doit être un code hexadécimal"),
    ],
)
def test_structured_fields_refuse_markup_and_echo_it_escaped(alice, case, message):
    """Phone numbers, numbers, dates and colours cannot hold markup: the sweep does not mark them;
    here the form refuses it in French, changes nothing and shows the typed value escaped."""
    organisation = alice.organisation.pk
    typed = IMG
    if case in ("usager phone", "custom number", "custom date"):
        kind = {"custom number": CustomFieldKind.NUMBER, "custom date": CustomFieldKind.DATE}.get(case, "text")
        field = factories.CustomFieldFactory(territory=alice.territory, kind=kind)
        name = "phone" if case == "usager phone" else field.key
        url, data, model = reverse("usager_create", args=[organisation]), {**_USAGER, name: typed}, Usager
    elif case == "lieu phone":
        url, data, model = reverse("lieu_create", args=[organisation]), {**_LIEU, "phone": typed}, Lieu
    else:
        typed = '"><svg>'  # the colour field takes 7 characters
        url, data, model = reverse("organisation_motif_create", args=[organisation]), None, Motif
        data = _motif_data(alice, color=typed)
    before = model.objects.count()

    response = log_in(Client(), alice.organisation_admin).post(url, data)

    assert response.status_code == 200
    body = response.content.decode()
    assert message in html.unescape(body)
    assert escape(typed) in body and typed not in body
    assert model.objects.count() == before


_USAGER = {"first_name": "Anne", "last_name": "Durand"}
_LIEU = {"name": "Maison des solidarités", "address": "1 rue de la Paix 26000 Valence", "is_open": "on"}

# The sweep: every entered text, every page ---------------------------------------------------------
#
# Every text an admin or agent can type is set to markup followed by a distinct marker (k01, k02…),
# then every URL pattern of the product is crawled as an espace admin, an organisation admin, a
# basic agent and an anonymous visitor (GET with the query strings that make the pages show data,
# then POSTs that echo typed values back with errors). Two things must hold:
#   - no page ever contains the markup raw (the check is case-insensitive: names are upper-cased);
#   - every text appears escaped on at least one page, so the sweep proves it rendered each text.
# Texts whose validation refuses markup (phone numbers, colours, numbers, dates) are listed in
# test_structured_fields_refuse_markup below instead. Out of scope: the CSV export (text/csv, read
# by spreadsheets) and /superadmin/ (Django's admin escapes everything; operators only).

PARIS = timezone.get_default_timezone()
NOW = datetime.datetime(2027, 3, 9, 8, 0, tzinfo=PARIS)  # a Tuesday without public holiday
TODAY = NOW.date()
# What must never appear raw, in any page (compared lower-case).
RAW_MARKUP = ("<meta http-equiv", "<img src=x", "<img/src=x", "<q>k", 'href="javascript:')
# Escaped twice (the marked texts contain no entity): a text escaped by hand, then by the template.
DOUBLE_ESCAPED = ("&amp;lt;", "&amp;gt;", "&amp;quot;")


class Texts:
    """The marked texts of the sweep: what each one is (French, as in the UI) -> what must appear."""

    def __init__(self):
        self.count = 0
        self.expected: dict[str, tuple[str, ...]] = {}  # what -> the HTML a page must contain (one of)

    def _next(self) -> str:
        self.count += 1
        assert self.count < 100, "two-digit markers: k01 must not be found inside k010"
        return f"k{self.count:02d}"

    def text(self, what: str, max_length: int | None = None) -> str:
        """A plain text field: markup after a marker, as long as the field allows."""
        marker = self._next()
        for value in (f"{marker}{IMG}{META}", f"{marker}{IMG}", f"<q>{marker}</q>"):
            if max_length is None or len(value) <= max_length:
                break
        else:
            raise AssertionError(f"{what}: {max_length} characters are too few for a marked text")
        return self._register(what, value)

    def email(self, what: str) -> str:
        """An address Django's validator accepts: markup fits in a quoted local part."""
        value = f'"{self._next()}<img/src=x/onerror=alert(1)>"@exemple.fr'
        return self._register(what, value)

    def url(self, what: str) -> str:
        value = f'https://visio.exemple.fr/{self._next()}"><img/src=x/onerror=alert(1)>'
        return self._register(what, value)

    def rich(self, what: str) -> str:
        """A rich text (motif instructions), as typed. Stored sanitised, it is rendered with |safe
        where usagers will read it, and as the text typed (escaped) in the journal."""
        typed = f'{self._next()}{IMG}{META}<a href="javascript:alert(1)">lien</a> <strong>gras</strong>'
        stored = sanitize_rich_text(typed)
        assert not any(markup in stored.lower() for markup in RAW_MARKUP), stored
        self._register(what, typed, stored, escape(rich_text_for_editing(stored)))
        return typed

    def _register(self, what: str, value: str, *shown: str) -> str:
        assert what not in self.expected, what
        self.expected[what] = shown or (escape(value),)
        return value


@dataclass
class Sweep:
    world: object
    texts: Texts
    ids: dict  # URL keyword -> the ids to crawl
    queries: dict  # URL name -> query strings to GET
    usager: object
    custom_fields: dict
    lieu: object
    motif: object
    echo: str  # posted in every field of every form


def _rdv(organisation, motif, lieu, agent, usager, start, **fields) -> Rdv:
    end = start + datetime.timedelta(minutes=motif.default_duration_minutes)
    rdv = Rdv.objects.create(
        organisation=organisation,
        motif=motif,
        lieu=lieu,
        starts_at=start,
        ends_at=end,
        created_by_agent=agent,
        **fields,
    )
    RdvAgent.objects.create(rdv=rdv, agent=agent, starts_at=start, ends_at=end)
    Participation.objects.create(rdv=rdv, usager=usager)
    return rdv


def _through_services(world, texts: Texts, usager, custom_fields, rdv, other_rdv, motif):
    """The texts that only exist through a service function: an invitation (and its e-mail) and
    the journal entries (old → new values) of an usager file, two RDVs and a motif.

    The only service calls of this module."""
    accounts_services.invite_agent(
        as_agent(world.territory_admin, world.territory),
        texts.email("adresse e-mail d'une invitation"),
        [world.service],
        {world.organisation: AccessLevel.BASIC},
    )
    usager_services.update_usager(
        as_agent(world.agent, world.organisation),
        usager,
        {"city": texts.text("commune d'un usager (modifiée)", 150), "notes": texts.text("remarques (modifiées)")},
        {custom_fields[CustomFieldKind.TEXT]: texts.text("valeur d'un champ texte (modifiée)", 255)},
    )
    # The journal says that the Contexte changed, never what it says: the address's old value is kept.
    booking_services.update_rdv(
        as_agent(world.agent, rdv), rdv, address=texts.text("adresse d'un RDV à domicile (modifiée)", 300)
    )
    booking_services.cancel_rdv(
        as_agent(world.agent, other_rdv), other_rdv, reason=texts.text("motif d'annulation d'un RDV", 300)
    )
    motif_services.update_motif_instructions(
        as_agent(world.territory_admin, motif),
        motif,
        {
            "instructions_before": rich_text_for_editing(motif.instructions_before),
            "instructions_after": texts.rich("instructions après la réservation (modifiées)"),
            "cancellation_warning": rich_text_for_editing(motif.cancellation_warning),
        },
    )


def build_sweep(world) -> Sweep:
    texts = Texts()
    text = texts.text
    territory, organisation, other = world.territory, world.organisation, world.other_organisation

    # Espace, organisations, services of the catalogue (Service.short_name and
    # Territory.departement_number are shown nowhere but in /superadmin/).
    territory.name = text("nom de l'espace", 200)
    territory.waiting_room_notification = WaitingRoomNotification.BOTH
    territory.save()
    organisation.name = text("nom d'une organisation", 200)
    organisation.save()
    other.name = text("nom d'une autre organisation de l'espace", 200)
    other.save()
    for service, what in ((world.service, "activé"), (world.inactive_service, "non activé")):
        service.name = text(f"nom d'un service du catalogue ({what})", 200)
        service.save()

    # Agents (names typed when accepting an invitation; e-mail typed by the admin who invites).
    for agent, who in (
        (world.territory_admin, "administrateur de l'espace"),
        (world.organisation_admin, "administrateur de l'organisation"),
        (world.agent, "agent"),
    ):
        agent.first_name = text(f"prénom ({who})", 150)
        agent.last_name = text(f"nom ({who})", 150)
        agent.save()
    world.agent.email = texts.email("adresse e-mail d'un agent")
    world.agent.save()

    # Custom fields of the usager file: label, help text, options; one archived.
    custom_fields = {}
    for kind in CustomFieldKind:
        choices = [text(f"option {n} d'une liste de choix", 100) for n in (1, 2)] if kind == "choice" else []
        custom_fields[kind] = factories.CustomFieldFactory(
            territory=territory,
            kind=kind,
            label=text(f"libellé d'un champ personnalisé ({kind.label})", 100),
            help_text=text(f"texte d'aide d'un champ personnalisé ({kind.label})", 300),
            choices=choices,
            required=kind == CustomFieldKind.TEXT,
        )
    archived_field = factories.CustomFieldFactory(
        territory=territory, label=text("libellé d'un champ personnalisé archivé", 100), archived_at=NOW
    )
    # Sectorisation: a commune as it could be typed outside the sectorisation page (its own form
    # refuses markup).
    sector_code = SectorCode.objects.create(
        organisation=organisation, code="26000", commune=text("commune d'un code de sectorisation", 150)
    )

    # Usager files: every standard text field, custom values, a relative.
    long_text = custom_fields[CustomFieldKind.LONG_TEXT]
    usager = factories.UsagerFactory(
        territory=territory,
        organisations=[organisation],
        first_name=text("prénom d'un usager", 150),
        last_name=text("nom d'un usager", 150),
        birth_name=text("nom de naissance", 150),
        email=texts.email("adresse e-mail d'un usager"),
        address=text("adresse d'un usager", 300),
        postal_code=text("code postal", 10),
        city=text("commune d'un usager", 150),
        caf_number=text("numéro d'allocataire CAF", 20),
        case_number=text("numéro de dossier", 50),
        notes=text("remarques sur un usager"),
        custom_values={
            custom_fields[CustomFieldKind.TEXT].key: text("valeur d'un champ texte", 255),
            long_text.key: text("valeur d'un champ texte long", 5000),
            custom_fields[CustomFieldKind.CHOICE].key: custom_fields[CustomFieldKind.CHOICE].choices[0],
            custom_fields[CustomFieldKind.BOOLEAN].key: True,
        },
    )
    relative = factories.UsagerFactory(
        territory=territory,
        organisations=[organisation],
        responsible=usager,
        first_name=text("prénom d'un proche", 150),
        last_name=text("nom d'un proche", 150),
    )

    # Lieux, motifs (two created together, in two organisations), plage, absence.
    lieu = factories.LieuFactory(
        organisation=organisation, name=text("nom d'un lieu", 200), address=text("adresse d'un lieu", 300)
    )
    archived_lieu = factories.LieuFactory(
        organisation=organisation,
        name=text("nom d'un lieu archivé", 200),
        address=text("adresse d'un lieu archivé", 300),
        archived_at=NOW,
    )
    motif = factories.MotifFactory(
        organisation=organisation,
        service=world.service,
        name=text("nom d'un motif", 200),
        instructions_before=sanitize_rich_text(texts.rich("instructions avant la réservation")),
        instructions_after=sanitize_rich_text(texts.rich("instructions après la réservation")),
        cancellation_warning=sanitize_rich_text(texts.rich("avertissement d'annulation")),
    )
    sibling = factories.MotifFactory(
        organisation=other,
        service=world.service,
        name=text("nom d'un motif créé en même temps dans une autre organisation", 200),
        creation_batch=motif.creation_batch,
    )
    plage = factories.PlageOuvertureFactory(
        organisation=organisation,
        agent=world.agent,
        lieu=lieu,
        motifs=[motif],
        title=text("titre d'une plage d'ouverture", 200),
        first_date=TODAY,
        recurrence="weekly",
        recurrence_weekdays=[TODAY.weekday()],
    )
    absence = factories.AbsenceFactory(
        organisation=organisation,
        agent=world.agent,
        title=text("titre d'une absence", 200),
        first_date=TODAY + datetime.timedelta(days=2),
        start_time=datetime.time(14),
        end_time=datetime.time(16),
    )

    # RDVs: today at 10:00 at home (the usager has arrived) and at 11:00 (cancelled below, with a reason).
    home_motif = factories.MotifFactory(
        organisation=organisation,
        service=world.service,
        name=text("nom d'un motif à domicile", 200),
        location_type="home",
    )
    rdv = _rdv(
        organisation,
        home_motif,
        None,
        world.agent,
        usager,
        datetime.datetime.combine(TODAY, datetime.time(10), tzinfo=PARIS),
        context=text("contexte d'un RDV"),
        address=text("adresse d'un RDV à domicile", 300),
        visio_url=texts.url("lien de visioconférence d'un RDV"),
        arrived_at=NOW,
    )
    cancelled = _rdv(
        organisation,
        motif,
        lieu,
        world.agent,
        relative,
        datetime.datetime.combine(TODAY, datetime.time(11), tzinfo=PARIS),
    )
    # An active manage link of the first RDV: the RDV page and « Révoquer le lien » name its usager.
    manage_link = ManageLink.objects.create(rdv=rdv, usager=usager, token_hash="0" * 64)
    _through_services(world, texts, usager, custom_fields, rdv, cancelled, motif)
    invitation = Invitation.objects.get(territory=territory)
    # The last invitation e-mail (the agents' own notifications of the changes above come after it).
    invitations = [m for m in deliver_emails() if INVITATION_LINK.search(m.body)]
    token = last_invitation_path(invitations).split("/")[-2]
    # An e-mail that could not be delivered: its subject (names typed by agents) shows on the
    # undelivered-messages pages.
    undelivered = enqueue_email(
        to="destinataire@exemple.fr",
        subject=texts.text("objet d'un e-mail en échec", 200),
        text="…",
        about=rdv,
        territory=territory,
        organisation=organisation,
    )
    Delivery.objects.filter(pk=undelivered.pk).update(
        status=Status.ABANDONED, next_attempt_at=None, attempts=1, last_error=texts.text("erreur d'envoi", 200)
    )
    # A webhook (issue 19): its URL as typed, and what its receiver answered (external text).
    webhook_ctx = as_agent(world.territory_admin, territory)
    endpoint = webhook_services.create_endpoint(
        webhook_ctx, organisation=organisation, target_url=texts.url("URL de destination d'un webhook")
    )
    webhook_event = webhook_services.send_test_event(webhook_ctx, endpoint)
    DeliveryAttempt.objects.create(
        delivery_id=webhook_event.delivery_id,
        number=1,
        started_at=NOW,
        duration_ms=3,
        outcome="temporary",
        status_code=500,
        response_excerpt=text("réponse du système d'information à un webhook", 1000),
    )
    Delivery.objects.filter(pk=webhook_event.delivery_id).update(
        status=Status.FAILING, last_error=text("erreur d'envoi d'un webhook", 200)
    )
    # A personal API token (issue 21): its name as typed, on the agent's « Jetons d'API » page.
    api_token, _ = accounts_services.create_api_token(
        personal_context(world.territory_admin), name=text("nom d'un jeton d'API", 100)
    )

    agents = [world.territory_admin, world.organisation_admin, world.agent]
    ids = {
        "territory_id": [territory.pk],
        "organisation_id": [organisation.pk, other.pk],
        "agent_id": [agent.pk for agent in agents],
        "motif_id": [motif.pk, sibling.pk, home_motif.pk],
        "lieu_id": [lieu.pk, archived_lieu.pk],
        "plage_id": [plage.pk],
        "absence_id": [absence.pk],
        "rdv_id": [rdv.pk, cancelled.pk],
        "link_id": [manage_link.pk],
        "usager_id": [usager.pk, relative.pk],
        "field_id": [field.pk for field in custom_fields.values()] + [archived_field.pk],
        "code_id": [sector_code.pk],
        "invitation_id": [invitation.pk],
        "delivery_id": [undelivered.pk],
        "endpoint_id": [endpoint.pk],
        "event_id": [webhook_event.pk],
        "service_id": [world.service.pk, world.inactive_service.pk],
        "token_id": [api_token.pk],
        "token": [token],
        "booking_id": ["00000000-0000-4000-8000-000000000000"],  # public booking pages (visitor's session only)
        "uidb64": ["MQ"],
        "day": [TODAY.isoformat()],
        "direction": ["haut"],
        "operation": ["activer"],
    }
    day = {"date": TODAY.isoformat()}
    queries = {
        "usager_list": [{}, {"q": usager.last_name[:3]}],
        "usager_create": [{}, {"responsable": usager.pk}],
        "lieu_list": [{}, {"archives": "1"}],
        "espace_motifs": [{}, {"archived": "tous"}],
        "organisation_motifs": [{}, {"archived": "tous"}],
        "agenda_week": [day],
        "plage_create": [day],
        "slot_search": [{"motif": motif.pk, "start_date": TODAY.isoformat()}],
        "agenda": [
            {**day, "agents": [agent.pk for agent in agents], "affichage": "grille"},
            {**day, "vue": "jour", "agents": [world.agent.pk], "annules": "1"},
            {**day, "agents": [agent.pk for agent in agents], "affichage": "liste"},
            {**day, "vue": "jour", "agents": [world.agent.pk], "annules": "1"},
        ],
        "agenda_grid": [{**day, "agents": [agent.pk for agent in agents], "annules": "1"}],
        "agenda_move": [{"debut": f"{TODAY.isoformat()}T11:30", "agent": world.agent.pk}],
        "agenda_arrivals": [{"rdvs": f"{rdv.pk},{cancelled.pk}"}],
        "rdv_list": [{}],
        "rdv_create": [
            {
                "motif": motif.pk,
                "debut": f"{TODAY.isoformat()}T10:30",
                "agent": world.agent.pk,
                "lieu": lieu.pk,
                "usager": usager.pk,
            }
        ],
        "rdv_usager_search": [
            {"recherche_usager": usager.last_name[:3], "usagers": [relative.pk]},
            {"recherche_usager": f"{IMG}{META}"},  # not echoed by the fragment: only checked never raw
        ],
    }
    # Searches typed by agents, echoed back in their search boxes (reflected, never stored).
    queries["usager_list"].append({"q": text("recherche d'usagers", 100)})
    queries["espace_agents"] = [{}, {"q": text("recherche d'agents", 100)}]
    queries["rdv_list"].append({"usager": text("filtre usager de la liste des RDV", 100)})
    echo = text("texte saisi dans tous les champs d'un formulaire envoyé")
    return Sweep(world, texts, ids, queries, usager, custom_fields, lieu, motif, echo)


def _patterns(resolver=None, namespace=""):
    """(name with its namespace, pattern) of every named URL but logout and the admin site."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if "superadmin" not in str(entry.pattern):
                yield from _patterns(entry, namespace + (f"{entry.namespace}:" if entry.namespace else ""))
        elif isinstance(entry, URLPattern) and entry.name and entry.name != "logout":
            yield namespace + entry.name, entry


def _urls(ids: dict) -> list[tuple[str, str]]:
    urls = []
    for name, pattern in _patterns():
        names = list(pattern.pattern.regex.groupindex)
        for values in itertools.product(*(ids[key] for key in names)):
            urls.append((name, reverse(name, kwargs=dict(zip(names, values, strict=True)))))
    return urls


class Crawl:
    """Responses checked as they come: raw markup is a failure; escaped texts are ticked off."""

    def __init__(self, texts: Texts, forbidden=(*RAW_MARKUP, *DOUBLE_ESCAPED)):
        self.texts = texts
        self.forbidden = forbidden
        self.raw: list[str] = []
        self.seen: set[str] = set()
        self.pages = 0

    def check(self, who: str, method: str, url: str, response) -> None:
        assert response.status_code < 500, f"{method} {url} as {who}: {response.status_code}"
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        body = response.content.decode()
        self.pages += 1
        lowered = body.lower()
        for markup in self.forbidden:
            if markup in lowered:
                start = lowered.index(markup)
                self.raw.append(f"{method} {url} as {who}: {markup!r} in …{body[max(0, start - 60) : start + 60]}…")
                break
        upper = body.upper()  # names are shown upper-case here and there
        for what, shown in self.texts.expected.items():
            if what not in self.seen and any(form in body or form.upper() in upper for form in shown):
                self.seen.add(what)

    def missing(self) -> list[str]:
        return [f"{what}: {shown[0]}" for what, shown in self.texts.expected.items() if what not in self.seen]


def _get_all(client, who: str, sweep: Sweep, crawl: Crawl) -> None:
    for name, url in _urls(sweep.ids):
        for query in sweep.queries.get(name, [{}]):
            crawl.check(who, "GET", url, client.get(url, query))


def _post_all(client, who: str, sweep: Sweep, crawl: Crawl) -> None:
    """Forms that show entered texts or echo typed values: duplicates found, then for every URL an
    empty POST (errors, e.g. a required custom field) and a POST with a marked text in every field
    of every form (errors echo it; what is accepted is stored and shown by the next pages). Last,
    because some of them change settings."""
    world, usager = sweep.world, sweep.usager
    organisation = world.organisation.pk
    same_names = {"first_name": usager.first_name, "last_name": usager.last_name}
    crawl.check(who, "POST", "usager_create", client.post(reverse("usager_create", args=[organisation]), same_names))
    booking = {
        "motif": sweep.motif.pk,
        "date": TODAY.isoformat(),
        "heure": "10:30",
        "lieu": sweep.lieu.pk,
        "agents": [world.agent.pk],
        "new_first_name": usager.first_name,
        "new_last_name": usager.last_name,
    }
    crawl.check(who, "POST", "rdv_create", client.post(reverse("rdv_create", args=[organisation]), booking))
    every_field = {name for cls in _form_classes_of_the_product() for name in cls.base_fields}
    every_field |= {field.key for field in sweep.custom_fields.values()}
    every_field |= {f"org_{pk}" for pk in sweep.ids["organisation_id"]}
    echo = dict.fromkeys(every_field, sweep.echo)
    # Redirects are followed: the next page shows the flash message ("Le lieu « … » est créé.").
    for name, url in _urls(sweep.ids):
        crawl.check(who, "POST", url, client.post(url, {}, follow=True))
        if name != "accept_invitation":  # accepted, it would log this client in as the new agent
            crawl.check(who, "POST", url, client.post(url, echo, follow=True))
    (url,) = [url for name, url in _urls(sweep.ids) if name == "accept_invitation"]
    crawl.check("anonyme", "POST", url, Client().post(url, echo, follow=True))


@pytest.fixture
def sweep(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_sweep(alice)


def test_no_entered_text_is_ever_rendered_as_html(sweep):
    world = sweep.world
    crawl = Crawl(sweep.texts)
    with time_machine.travel(NOW, tick=False):
        _get_all(Client(), "anonyme", sweep, crawl)
        for who, agent in (
            ("agent", world.agent),
            ("administrateur de l'organisation", world.organisation_admin),
            ("administrateur de l'espace", world.territory_admin),
        ):
            _get_all(log_in(Client(), agent), who, sweep, crawl)
        _post_all(log_in(Client(), world.territory_admin), "administrateur de l'espace", sweep, crawl)

    assert not crawl.raw, "markup rendered raw or escaped twice:\n" + "\n".join(crawl.raw[:30])
    assert not crawl.missing(), "texts shown on no page (not crawled?):\n" + "\n".join(crawl.missing())
    assert len(sweep.texts.expected) >= 60
    assert crawl.pages >= 1000, crawl.pages


# E-mails: plain text only, entered text as typed, one-line subjects --------------------------------------


def _assert_plain_text(message) -> None:
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", None)
    assert message.message().get_content_type() == "text/plain"
    assert "\n" not in message.subject and "\r" not in message.subject


def test_the_invitation_e_mail_is_plain_text_with_names_as_typed(alice):
    alice.territory.name = f"Drôme {META}\nBcc: victime@exemple.invalid"  # as an operator could type it
    alice.territory.save()
    alice.territory_admin.first_name, alice.territory_admin.last_name = "Anne", IMG
    alice.territory_admin.save()
    client = log_in(Client(), alice.territory_admin)

    response = client.post(reverse("espace_invite", args=[alice.territory.pk]), invite_data(alice, "eve@exemple.fr"))

    assert response.status_code == 302
    (message,) = deliver_emails()
    _assert_plain_text(message)
    assert message.subject.startswith(f"Invitation à rejoindre Drôme {META} Bcc: victime@exemple.invalid sur ")
    assert message.to == ["eve@exemple.fr"] and not message.bcc
    assert f"Anne {IMG} vous invite" in message.body and f"« Drôme {META}\nBcc" in message.body
    assert "&lt;" not in message.body and "&quot;" not in message.body


def test_the_waiting_room_e_mail_is_plain_text_with_names_as_typed(alice):
    alice.territory.waiting_room_notification = WaitingRoomNotification.EMAIL
    alice.territory.save()
    usager = factories.UsagerFactory(
        territory=alice.territory, organisations=[alice.organisation], first_name=IMG, last_name="Durand"
    )
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name=META)
    lieu = factories.LieuFactory(organisation=alice.organisation)
    with time_machine.travel(NOW, tick=False):
        rdv = _rdv(alice.organisation, motif, lieu, alice.agent, usager, NOW + datetime.timedelta(hours=2))
        response = log_in(Client(), alice.agent).post(reverse("rdv_arrival", args=[alice.organisation.pk, rdv.pk]))
        (message,) = deliver_emails()  # due now (the frozen now), before its expiry at the end of the day

    assert response.status_code == 302
    _assert_plain_text(message)
    assert f"{IMG} DURAND est arrivé(e)" in message.subject
    assert f"{IMG} DURAND est arrivé(e) en salle d'attente pour le rendez-vous « {META} »" in message.body


def test_the_operators_admin_site_escapes_entered_texts_too(sweep):
    """/superadmin/ is out of the sweep's scope because Django's admin escapes every value (no
    model admin of the product renders HTML); this checks it once, as a platform operator."""
    operator = factories.AgentFactory(is_staff=True, is_superuser=True)
    client = log_in(Client(), operator)
    # The admin shows the motifs' stored instructions as HTML source: "&gt;" there is no double escape.
    crawl = Crawl(sweep.texts, forbidden=RAW_MARKUP)
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        crawl.check("opérateur", "GET", url, client.get(url))
        for pk in model.objects.values_list("pk", flat=True)[:20]:
            url = reverse("admin:{}_{}_change".format(*info), args=[pk])
            crawl.check("opérateur", "GET", url, client.get(url))
    assert not crawl.raw, "\n".join(crawl.raw[:30])
    assert crawl.pages >= 40, crawl.pages
    # The admin lists what operators manage: espaces, organisations, services, agents…
    assert {"nom de l'espace", "nom d'une organisation", "nom d'un service du catalogue (activé)"} <= crawl.seen
