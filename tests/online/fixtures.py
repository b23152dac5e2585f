"""A small espace with an online motif, for the online booking tests (rdv.online and the public
booking and manage pages).

"Now" is Monday 8 March 2027, 08:00 in Paris. Two agents of the Service social have plages every
weekday 09:00–12:00 at « MDS Centre » offering the online motif « Accueil en ligne » (30 minutes,
30 minutes to 30 days ahead, usagers may cancel and move).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core import mail
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.core.context import ActorKind, Context
from rdv.motifs.models import BookableBy
from rdv.online import services
from tests import factories
from tests.helpers import deliver_emails

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 8, 8, 0, tzinfo=PARIS)
MARKER = "MARQUEUR-CONTEXTE"
INSTRUCTIONS_AFTER = "<p>Apportez votre <strong>pièce d'identité</strong>.</p>"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


TUESDAY = date(2027, 3, 9)
THURSDAY = date(2027, 3, 11)


@dataclass
class Online:
    territory: object
    organisation: object
    other_organisation: object
    service: object
    lieu: object
    other_lieu: object
    motif: object  # open online to everyone
    prescripteur_motif: object  # agents and prescripteurs only
    collective_motif: object  # open online, collective
    agent: object
    agent2: object

    def ctx(self, kind=ActorKind.USAGER):
        return Context.public(self.organisation, kind=kind)

    def hold(
        self, start, *, holder_key="visiteur-1", motif=None, lieu="default", kind=ActorKind.USAGER, displayed_at=None
    ):
        motif = motif or self.motif
        return services.hold_slot(
            self.ctx(kind),
            motif=motif,
            lieu=self.lieu if lieu == "default" else lieu,
            starts_at=start,
            holder_key=holder_key,
            displayed_at=displayed_at,
        )


def build_online(prefix: str = "online") -> Online:
    territory = factories.TerritoryFactory(name=f"Espace {prefix}")
    organisation = factories.OrganisationFactory(territory=territory, name=f"MDS {prefix}")
    other_organisation = factories.OrganisationFactory(territory=territory, name=f"MDS {prefix} Nord")
    service = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=service)
    lieu = Lieu.objects.create(
        organisation=organisation, name="MDS Centre", address="1 place de la Mairie 26000 Valence"
    )
    other_lieu = Lieu.objects.create(
        organisation=organisation, name="MDS Gare", address="3 avenue de la Gare 26000 Valence"
    )
    common = {
        "organisation": organisation,
        "service": service,
        "bookable_online": True,
        "bookable_by": BookableBy.EVERYONE,
        "min_booking_delay_minutes": 30,
        "max_booking_delay_minutes": 30 * 24 * 60,
        "usager_can_cancel": True,
        "usager_can_move": True,
    }
    motif = factories.MotifFactory(
        name="Accueil en ligne",
        instructions_after=INSTRUCTIONS_AFTER,
        cancellation_warning="<p>Prévenez-nous si possible.</p>",
        **common,
    )
    prescripteur_motif = factories.MotifFactory(
        name="Orientation", **{**common, "bookable_online": False, "bookable_by": BookableBy.AGENTS_AND_PRESCRIPTEURS}
    )
    collective_motif = factories.MotifFactory(name="Atelier", collective=True, max_participants=5, **common)
    agents = []
    for index in (1, 2):
        agent = factories.AgentFactory(
            email=f"{prefix}-agent{index}@exemple.fr", first_name="Agnès", last_name=f"Agent{index}"
        )
        factories.AgentRoleFactory(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
        factories.AgentServiceFactory(agent=agent, territory=territory, service=service)
        plage = PlageOuverture.objects.create(
            organisation=organisation,
            agent=agent,
            lieu=lieu,
            first_date=NOW.date(),
            start_time=time(9),
            end_time=time(12),
            recurrence="weekly",
            recurrence_weekdays=[0, 1, 2, 3, 4],
        )
        plage.motifs.set([motif, prescripteur_motif, collective_motif])
        agents.append(agent)
    return Online(
        territory,
        organisation,
        other_organisation,
        service,
        lieu,
        other_lieu,
        motif,
        prescripteur_motif,
        collective_motif,
        *agents,
    )


CODE = re.compile(r"\b(\d{6})\b")


def last_code(to: str) -> str:
    """The code of the last verification e-mail sent to `to` (after sending what is due)."""
    deliver_emails()
    for message in reversed(mail.outbox):
        if to in message.to and "code" in message.subject.lower():
            return CODE.search(message.body).group(1)
    raise AssertionError(f"no code e-mail to {to}")


PERSON = {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@usager.fr", "phone": "06 12 34 56 78"}
