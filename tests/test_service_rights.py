"""Every service function that changes data refuses a context that lacks the right.

For each one: called with each forbidden context, it raises DomainError("forbidden") and changes
nothing (no row of any table, no journal entry); then called with the same arguments by an allowed
context, it succeeds (so the refusal was about rights, not about the data). A last test checks that
every service function taking a context appears here: a new one without a case fails.
"""

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from rdv.accounts import services as account_services
from rdv.accounts.context import personal_context
from rdv.accounts.models import AccessLevel
from rdv.agendas import services as agenda_services
from rdv.agendas.models import PlageException
from rdv.bookings import services as booking_services
from rdv.bookings.models import RdvStatus
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.motifs import services as motif_services
from rdv.outbox import services as outbox_services
from rdv.outbox.models import Delivery, Status
from rdv.retention import services as retention_services
from rdv.territories import services as territory_services
from rdv.territories.models import SectorCode
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from tests import factories
from tests.helpers import as_agent

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 9, 8, 0, tzinfo=PARIS)  # a Tuesday, no holiday that week
TODAY = NOW.date()
SERVICE_MODULES = [
    territory_services,
    account_services,
    usager_services,
    motif_services,
    agenda_services,
    booking_services,
    outbox_services,
    retention_services,
]
DOMAIN_APPS = {"core", "territories", "accounts", "usagers", "motifs", "agendas", "bookings", "outbox", "retention"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@dataclass
class W:
    alice: object
    bob: object
    pmi_agent: object  # basic agent of alice's organisation, PMI service
    nord_agent: object  # basic agent of alice's other organisation
    lieu: object
    spare_lieu: object  # no plage: may be archived
    archived_lieu: object
    motif: object  # Service social, sur place
    collective: object
    archived_motif: object
    plage: object  # the basic agent's, weekdays 09:00–12:00
    absence: object
    usager: object
    usager2: object
    nord_usager: object  # belongs to the other organisation only
    rdv: object  # today 10:00, taken by the basic agent
    collective_rdv: object  # tomorrow 10:00, with usager
    field: object
    archived_field: object
    invitation: object
    pmi: object
    delivery: object  # an abandoned e-mail of the espace

    @property
    def organisation(self):
        return self.alice.organisation

    @property
    def inactive_service(self):
        return self.alice.inactive_service

    # Contexts ------------------------------------------------------------------------------
    def espace_admin(self):
        return as_agent(self.alice.territory_admin, self.alice.territory)

    def org_admin(self):
        return as_agent(self.alice.organisation_admin, self.organisation)

    def basic(self):
        return as_agent(self.alice.agent, self.organisation)

    def other_service(self):
        return as_agent(self.pmi_agent, self.organisation)

    def other_organisation(self):
        return as_agent(self.nord_agent, self.alice.other_organisation)

    def other_espace(self):
        return as_agent(self.bob.territory_admin, self.bob.organisation)

    def other_espace_admin(self):
        return as_agent(self.bob.territory_admin, self.bob.territory)

    def org_admin_at_espace(self):
        """An organisation admin on the espace pages: no right there."""
        return as_agent(self.alice.organisation_admin, self.alice.territory)

    def public(self):
        return Context.public(self.organisation)

    def own_account(self):
        """The basic agent on their own pages (« Mon compte »)."""
        return personal_context(self.alice.agent)

    def colleague_account(self):
        """Another agent of the same organisation, on their own pages."""
        return personal_context(self.alice.organisation_admin)

    def system(self):
        return Context.system(self.alice.territory, self.organisation)

    # Data ----------------------------------------------------------------------------------
    def booking(self, **overrides):
        values = {
            "motif": self.motif,
            "starts_at": at(TODAY + timedelta(days=1), 11),
            "agents": [self.alice.agent],
            "usagers": [self.usager],
            "lieu": self.lieu,
        }
        values.update(overrides)
        return booking_services.BookingRequest(**values)

    def plage_data(self, **overrides):
        data = {
            "title": "Après-midi",
            "lieu": self.lieu,
            "motifs": [self.motif],
            "first_date": TODAY + timedelta(days=7),
            "start_time": time(14),
            "end_time": time(16),
            "recurrence": "none",
        }
        data.update(overrides)
        return data

    def absence_data(self, **overrides):
        data = {
            "title": "Formation",
            "first_date": TODAY + timedelta(days=14),
            "start_time": time(9),
            "end_date": TODAY + timedelta(days=14),
            "end_time": time(12),
            "recurrence": "none",
        }
        data.update(overrides)
        return data

    def motif_configuration(self, **overrides):
        data = {
            "name": "Nouveau motif",
            "color": "#1f8d49",
            "default_duration_minutes": 30,
            "location_type": "public_office",
            "service": self.alice.service,
            "collective": False,
            "max_participants": None,
            "follow_up": False,
            "for_secretariat": False,
            "bookable_by": "agents",
        }
        data.update(overrides)
        return data


@pytest.fixture
def w(alice, bob):
    with time_machine.travel(NOW, tick=False):
        yield _world(alice, bob)


def _world(alice, bob) -> W:
    organisation = alice.organisation
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    pmi_agent = factories.AgentFactory(email="pmi@exemple.fr")
    factories.AgentRoleFactory(agent=pmi_agent, organisation=organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=pmi_agent, territory=alice.territory, service=pmi)
    nord_agent = factories.AgentFactory(email="nord@exemple.fr")
    factories.AgentRoleFactory(agent=nord_agent, organisation=alice.other_organisation)
    factories.AgentServiceFactory(agent=nord_agent, territory=alice.territory, service=alice.service)
    lieu = factories.LieuFactory(organisation=organisation, name="Centre")
    spare_lieu = factories.LieuFactory(organisation=organisation, name="Antenne")
    archived_lieu = factories.LieuFactory(organisation=organisation, name="Ancien", archived_at=NOW)
    motif = factories.MotifFactory(organisation=organisation, service=alice.service, name="Premier accueil")
    collective = factories.MotifFactory(
        organisation=organisation, service=alice.service, name="Atelier", collective=True, max_participants=5
    )
    archived_motif = factories.MotifFactory(
        organisation=organisation, service=alice.service, name="Ancien motif", archived_at=NOW
    )
    plage = factories.PlageOuvertureFactory(
        organisation=organisation,
        agent=alice.agent,
        lieu=lieu,
        first_date=TODAY,
        recurrence="weekly",
        recurrence_weekdays=[0, 1, 2, 3, 4],
        motifs=[motif, collective],
    )
    factories.PlageExceptionFactory(plage=plage, date=TODAY + timedelta(days=2))
    absence = factories.AbsenceFactory(
        organisation=organisation, agent=alice.agent, first_date=TODAY + timedelta(days=21)
    )
    usager = factories.UsagerFactory(territory=alice.territory, organisations=[organisation])
    usager2 = factories.UsagerFactory(territory=alice.territory, organisations=[organisation])
    nord_usager = factories.UsagerFactory(territory=alice.territory, organisations=[alice.other_organisation])
    system = Context.system(alice.territory, organisation)
    rdv = booking_services.book_rdv(
        system,
        booking_services.BookingRequest(
            motif=motif, starts_at=at(TODAY, 10), agents=[alice.agent], usagers=[usager], lieu=lieu
        ),
    )
    collective_rdv = booking_services.book_rdv(
        system,
        booking_services.BookingRequest(
            motif=collective,
            starts_at=at(TODAY + timedelta(days=1), 10),
            agents=[alice.agent],
            usagers=[usager],
            lieu=lieu,
        ),
    )
    field = factories.CustomFieldFactory(territory=alice.territory, label="Quartier")
    archived_field = factories.CustomFieldFactory(territory=alice.territory, label="Ancien champ", archived_at=NOW)
    invitation = account_services.invite_agent(
        Context.system(alice.territory), "nouveau@exemple.fr", [alice.service], {organisation: AccessLevel.BASIC}
    ).invitation
    delivery = outbox_services.enqueue_email(
        to="perdu@exemple.fr", subject="Bienvenue", text="…", territory=alice.territory, organisation=organisation
    )
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.ABANDONED, next_attempt_at=None, attempts=1)
    return W(
        alice,
        bob,
        pmi_agent,
        nord_agent,
        lieu,
        spare_lieu,
        archived_lieu,
        motif,
        collective,
        archived_motif,
        plage,
        absence,
        usager,
        usager2,
        nord_usager,
        rdv,
        collective_rdv,
        field,
        archived_field,
        invitation,
        pmi,
        Delivery.objects.get(pk=delivery.pk),
    )


def database_state() -> dict:
    """Every row of every table of the domain apps (the journal included)."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in DOMAIN_APPS:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        state[model._meta.label] = sorted(repr(row) for row in model.objects.values_list(*names))
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            state[through._meta.label] = sorted(repr(row) for row in through.objects.values_list())
    return state


@dataclass
class Case:
    function: Callable
    call: Callable  # (w, ctx, function) -> result
    allowed: str  # name of the W context method that may call it
    forbidden: list[str] = field(default_factory=list)
    prepare: Callable | None = None  # (w) -> None, before everything

    @property
    def id(self) -> str:
        return f"{self.function.__module__.split('.')[1]}.{self.function.__name__}"


# Functions acting on the context's own espace: another espace's admin acts on theirs, not forbidden.
ESPACE_FORBIDDEN = ["org_admin_at_espace", "basic", "org_admin", "public"]
ORG_ADMIN_FORBIDDEN = ["basic", "other_service", "other_organisation", "other_espace", "public"]
AGENDA_FORBIDDEN = ["other_service", "other_organisation", "other_espace", "public"]
RDV_FORBIDDEN = ["other_service", "other_organisation", "other_espace", "public"]


def _territory_wide(w):
    w.alice.territory.usagers_visible_territory_wide = True
    w.alice.territory.save()


CASES = [
    # Espace ------------------------------------------------------------------------------------
    Case(
        territory_services.create_territory,
        lambda w, ctx, f: f(ctx, "Nouvel espace"),
        allowed="operator",
        forbidden=["espace_admin", "system", "org_admin"],
    ),
    Case(
        territory_services.create_organisation,
        lambda w, ctx, f: f(ctx, "MDS Sud"),
        "espace_admin",
        ["org_admin_at_espace", "basic", "org_admin", "public"],
    ),
    Case(
        territory_services.rename_organisation,
        lambda w, ctx, f: f(ctx, w.organisation, "MDS Centre-ville"),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        territory_services.activate_service,
        lambda w, ctx, f: f(ctx, w.inactive_service),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(territory_services.deactivate_service, lambda w, ctx, f: f(ctx, w.pmi), "espace_admin", ESPACE_FORBIDDEN),
    Case(
        territory_services.set_hidden_usager_fields,
        lambda w, ctx, f: f(ctx, ["caf_number"]),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(
        territory_services.set_usagers_visible_territory_wide,
        lambda w, ctx, f: f(ctx, True),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(
        territory_services.set_rdv_fields_enabled,
        lambda w, ctx, f: f(ctx, {"context": False}),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(
        territory_services.set_waiting_room_notification,
        lambda w, ctx, f: f(ctx, "email"),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(territory_services.set_holiday_zone, lambda w, ctx, f: f(ctx, "57"), "espace_admin", ESPACE_FORBIDDEN),
    Case(territory_services.set_reminders, lambda w, ctx, f: f(ctx, 72, 2), "espace_admin", ESPACE_FORBIDDEN),
    Case(
        territory_services.set_online_booking_settings,
        lambda w, ctx, f: f(
            ctx,
            online_hold_minutes=15,
            online_max_upcoming_per_contact=2,
            online_max_bookings_per_ip_per_day=20,
            online_cancel_min_hours=6,
            online_move_min_hours=72,
            embedding_origins="https://www.exemple.fr",
        ),
        "espace_admin",
        ESPACE_FORBIDDEN,
    ),
    Case(
        territory_services.add_sector_codes,
        lambda w, ctx, f: f(ctx, w.organisation, "26000 Valence"),
        "org_admin",
        [
            "basic",
            "other_service",
            "other_organisation",
            "other_espace",
            "other_espace_admin",
            "org_admin_at_espace",
            "public",
        ],
    ),
    Case(
        territory_services.delete_sector_code,
        lambda w, ctx, f: f(ctx, SectorCode.objects.get(organisation=w.organisation, code="26000")),
        "espace_admin",
        ["basic", "other_organisation", "other_espace_admin", "org_admin_at_espace", "public"],
        prepare=lambda w: SectorCode.objects.create(organisation=w.organisation, code="26000", commune="Valence"),
    ),
    # Agents ------------------------------------------------------------------------------------
    Case(
        account_services.invite_agent,
        lambda w, ctx, f: f(ctx, "invite@exemple.fr", [w.alice.service], {w.organisation: AccessLevel.BASIC}),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "basic", "public"],
    ),
    Case(
        account_services.resend_invitation,
        lambda w, ctx, f: f(ctx, w.invitation),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        account_services.cancel_invitation,
        lambda w, ctx, f: f(ctx, w.invitation),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        account_services.update_agent_assignments,
        lambda w, ctx, f: f(ctx, w.alice.agent, [w.alice.service, w.pmi], {w.organisation: AccessLevel.BASIC}),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        account_services.add_intervenant,
        lambda w, ctx, f: f(
            ctx, first_name="Inès", last_name="Terprète", services=[w.alice.service], organisations=[w.organisation]
        ),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "basic", "public"],
    ),
    # Usagers and custom fields -----------------------------------------------------------------
    Case(
        usager_services.create_usager,
        lambda w, ctx, f: f(ctx, {"first_name": "Nina", "last_name": "Nouvelle"}),
        "basic",
        ["other_espace_admin", "org_admin_at_espace"],
    ),
    Case(
        usager_services.update_usager,
        lambda w, ctx, f: f(ctx, w.usager, {"city": "Valence"}),
        "basic",
        ["other_organisation", "other_espace", "public"],
    ),
    Case(
        usager_services.add_usager_to_organisation,
        lambda w, ctx, f: f(ctx, w.nord_usager),
        "basic",
        ["other_espace", "public"],
        prepare=_territory_wide,
    ),
    Case(
        usager_services.create_custom_field,
        lambda w, ctx, f: f(ctx, label="Nouveau champ", kind="text"),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "basic", "public"],
    ),
    Case(
        usager_services.update_custom_field,
        lambda w, ctx, f: f(ctx, w.field, label="Quartier (QPV)", kind="text"),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        usager_services.archive_custom_field,
        lambda w, ctx, f: f(ctx, w.field),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        usager_services.restore_custom_field,
        lambda w, ctx, f: f(ctx, w.archived_field),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        usager_services.move_custom_field,
        lambda w, ctx, f: f(ctx, w.field, "down"),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    # Motifs ------------------------------------------------------------------------------------
    Case(
        motif_services.create_territory_motifs,
        lambda w, ctx, f: f(ctx, [w.organisation, w.alice.other_organisation], w.motif_configuration()),
        "espace_admin",
        ["org_admin_at_espace", "org_admin", "other_espace_admin", "public"],
    ),
    Case(
        motif_services.create_motif,
        lambda w, ctx, f: f(ctx, w.motif_configuration()),
        "org_admin",
        ["basic", "other_service", "public"],
    ),
    Case(
        motif_services.update_motif_configuration,
        lambda w, ctx, f: f(ctx, w.motif, w.motif_configuration(name="Accueil")),
        "org_admin",
        ORG_ADMIN_FORBIDDEN,
    ),
    Case(
        motif_services.update_motif_online_booking,
        lambda w, ctx, f: f(ctx, w.motif, {"min_booking_delay_minutes": 60, "max_booking_delay_minutes": 600}),
        "org_admin",
        ORG_ADMIN_FORBIDDEN,
    ),
    Case(
        motif_services.update_motif_instructions,
        lambda w, ctx, f: f(ctx, w.motif, {"instructions_before": "Apportez vos justificatifs."}),
        "org_admin",
        ORG_ADMIN_FORBIDDEN,
    ),
    Case(motif_services.duplicate_motif, lambda w, ctx, f: f(ctx, w.motif), "org_admin", ORG_ADMIN_FORBIDDEN),
    Case(motif_services.archive_motif, lambda w, ctx, f: f(ctx, w.motif), "org_admin", ORG_ADMIN_FORBIDDEN),
    Case(motif_services.restore_motif, lambda w, ctx, f: f(ctx, w.archived_motif), "org_admin", ORG_ADMIN_FORBIDDEN),
    # Lieux and agendas -------------------------------------------------------------------------
    Case(
        agenda_services.create_lieu,
        lambda w, ctx, f: f(ctx, {"name": "Mairie", "address": "1 place de la Mairie"}),
        "org_admin",
        ["basic", "other_service", "public"],
    ),
    Case(
        agenda_services.update_lieu,
        lambda w, ctx, f: f(ctx, w.lieu, {"name": "Centre social", "address": "2 rue Neuve"}),
        "org_admin",
        ORG_ADMIN_FORBIDDEN,
    ),
    Case(agenda_services.archive_lieu, lambda w, ctx, f: f(ctx, w.spare_lieu), "org_admin", ORG_ADMIN_FORBIDDEN),
    Case(agenda_services.restore_lieu, lambda w, ctx, f: f(ctx, w.archived_lieu), "org_admin", ORG_ADMIN_FORBIDDEN),
    Case(
        agenda_services.create_plage,
        lambda w, ctx, f: f(ctx, w.alice.agent, w.plage_data()),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.update_plage,
        lambda w, ctx, f: f(ctx, w.plage, w.plage_data(first_date=TODAY, start_time=time(9), end_time=time(11))),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.update_plage_from,
        lambda w, ctx, f: f(
            ctx,
            w.plage,
            TODAY + timedelta(days=7),
            w.plage_data(start_time=time(9), end_time=time(11), recurrence="weekly", recurrence_weekdays=[0, 1]),
        ),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.cancel_plage_occurrence,
        lambda w, ctx, f: f(ctx, w.plage, TODAY + timedelta(days=3)),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.move_plage_occurrence,
        lambda w, ctx, f: f(ctx, w.plage, TODAY + timedelta(days=3), "13:00", "15:00"),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.restore_plage_occurrence,
        lambda w, ctx, f: f(ctx, w.plage, TODAY + timedelta(days=2)),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.end_plage,
        lambda w, ctx, f: f(ctx, w.plage, TODAY + timedelta(days=30)),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(agenda_services.delete_plage, lambda w, ctx, f: f(ctx, w.plage), "basic", AGENDA_FORBIDDEN),
    Case(
        agenda_services.create_absence,
        lambda w, ctx, f: f(ctx, w.alice.agent, w.absence_data()),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(
        agenda_services.update_absence,
        lambda w, ctx, f: f(ctx, w.absence, w.absence_data(title="Séminaire")),
        "basic",
        AGENDA_FORBIDDEN,
    ),
    Case(agenda_services.delete_absence, lambda w, ctx, f: f(ctx, w.absence), "basic", AGENDA_FORBIDDEN),
    # RDVs --------------------------------------------------------------------------------------
    Case(booking_services.book_rdv, lambda w, ctx, f: f(ctx, w.booking()), "basic", RDV_FORBIDDEN),
    Case(
        booking_services.book_rdv_for_new_usager,
        lambda w, ctx, f: f(ctx, {"first_name": "Inès", "last_name": "Nouvelle"}, w.booking(usagers=[])),
        "basic",
        RDV_FORBIDDEN,
    ),
    Case(
        booking_services.update_rdv, lambda w, ctx, f: f(ctx, w.rdv, context="Dossier complet"), "basic", RDV_FORBIDDEN
    ),
    Case(
        booking_services.move_rdv,
        lambda w, ctx, f: f(ctx, w.rdv, at(TODAY, 10, 30)),
        "basic",
        RDV_FORBIDDEN,
    ),
    Case(booking_services.cancel_rdv, lambda w, ctx, f: f(ctx, w.rdv), "basic", RDV_FORBIDDEN),
    Case(
        booking_services.set_status,
        lambda w, ctx, f: f(ctx, w.rdv, RdvStatus.REVOKED),
        "basic",
        RDV_FORBIDDEN,
    ),
    Case(
        booking_services.add_participant,
        lambda w, ctx, f: f(ctx, w.collective_rdv, w.usager2),
        "basic",
        RDV_FORBIDDEN,
    ),
    Case(
        booking_services.remove_participant,
        lambda w, ctx, f: f(ctx, w.collective_rdv, w.usager),
        "basic",
        RDV_FORBIDDEN,
    ),
    Case(booking_services.mark_arrived, lambda w, ctx, f: f(ctx, w.rdv), "basic", RDV_FORBIDDEN),
    # Personal API tokens -----------------------------------------------------------------------
    Case(
        account_services.create_api_token,
        lambda w, ctx, f: f(ctx, name="Logiciel de suivi"),
        "own_account",
        ["public"],
    ),
    Case(account_services.agent_api_tokens, lambda w, ctx, f: f(ctx), "own_account", ["public"]),
    Case(
        account_services.revoke_api_token,
        lambda w, ctx, f: f(ctx, w.api_token),
        "own_account",
        ["colleague_account", "espace_admin", "other_espace", "public"],
        prepare=lambda w: setattr(w, "api_token", account_services.create_api_token(w.own_account(), name="SI")[0]),
    ),
    # Usagers' rights and retention (RGPD) -------------------------------------------------------
    Case(
        retention_services.export_usager,
        lambda w, ctx, f: f(ctx, w.usager, format="json"),
        "org_admin",
        [*ORG_ADMIN_FORBIDDEN, "org_admin_at_espace"],
    ),
    Case(
        retention_services.delete_usager,
        lambda w, ctx, f: f(ctx, w.usager),
        "org_admin",
        [*ORG_ADMIN_FORBIDDEN, "org_admin_at_espace"],
    ),
    Case(
        retention_services.keep_usager,
        lambda w, ctx, f: f(ctx, w.usager),
        "org_admin",
        [*ORG_ADMIN_FORBIDDEN, "org_admin_at_espace"],
        prepare=lambda w: Usager.objects.filter(pk=w.usager.pk).update(retention_flagged_at=NOW),
    ),
    # Undelivered messages ----------------------------------------------------------------------
    Case(
        outbox_services.retry_delivery,
        lambda w, ctx, f: f(ctx, w.delivery),
        "espace_admin",
        ["org_admin_at_espace", "basic", "other_espace_admin", "other_espace", "public"],
    ),
]


def _context(w: W, name: str) -> Context:
    if name == "operator":
        return Context.operator()
    return getattr(w, name)()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_context_without_the_right_is_refused_and_changes_nothing(w, case):
    with time_machine.travel(NOW, tick=False):
        if case.prepare:
            case.prepare(w)
        assert case.forbidden, "each case names at least one forbidden context"
        for name in case.forbidden:
            ctx = _context(w, name)
            before = database_state()
            with pytest.raises(DomainError) as caught:
                case.call(w, ctx, case.function)
            assert caught.value.code == "forbidden", (name, caught.value.code, caught.value.message)
            assert database_state() == before, f"{name}: a refused call changed something"
        case.call(w, _context(w, case.allowed), case.function)  # the same call by an allowed context


def _service_functions():
    for module in SERVICE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters and parameters[0] == "ctx":
                yield f"{module.__name__}.{name}"


def test_every_service_function_taking_a_context_has_a_rights_case():
    covered = {f"{case.function.__module__}.{case.function.__name__}" for case in CASES}
    assert set(_service_functions()) == covered
    assert len(covered) == len(CASES)


def test_the_service_modules_are_the_domain_apps_services():
    """The list above is complete: every rdv.<app>.services module of the domain is in it."""
    found = set()
    for app in DOMAIN_APPS - {"core"}:  # every domain app but core has a services module
        try:
            found.add(importlib.import_module(f"rdv.{app}.services").__name__)
        except ModuleNotFoundError:
            continue
    assert found == {module.__name__ for module in SERVICE_MODULES}


def test_plage_exception_fixture_is_a_real_exception(w):
    """Guard of the restore case: the occurrence it restores was cancelled in the fixture."""
    assert PlageException.objects.filter(plage=w.plage, date=TODAY + timedelta(days=2), cancelled=True).exists()
