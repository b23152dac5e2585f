"""The data of the public search tests: alice's espace (tests/conftest.py) with sector codes, lieux,
motifs of every kind (open online or not, for prescripteurs, with instructions, by phone) and
plages, at a frozen "now": Monday 1 March 2027, 08:00 in Paris."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone

from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings.models import Rdv, RdvAgent
from rdv.motifs.models import BookableBy
from rdv.territories.models import SectorCode
from tests import factories

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)
MARKER = "MARQUEUR-CONTEXTE"
INSTRUCTIONS = "<p>Apportez votre <strong>avis d'imposition</strong>.</p>"
PARTNER = "https://partenaire.example.fr"


def at(day: date, hour: int, minute: int = 0, tz=PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


@dataclass
class Journey:
    world: object
    territory: object
    organisation: object  # sector codes 26000 Valence and 26500 Bourg-lès-Valence
    other_organisation: object  # 26500 Bourg-lès-Valence
    lieu: object  # « Maison des solidarités », Tuesdays 09:00–12:00
    lieu_b: object  # « Antenne Nord », Thursdays 14:00–16:00 (online motif only)
    motif: object  # « Premier accueil »: online, everyone, on site, both lieux
    instructions_motif: object  # « Aide au dossier RSA »: online, with instructions before
    phone_motif: object  # « Conseil téléphonique »: online, by phone
    pmi_motif: object  # « Consultation nourrisson »: online, PMI service
    prescripteur_motif: object  # « Accompagnement social »: agents and prescripteurs
    agents_motif: object  # « Suivi interne »: agents only (though ticked online)
    closed_motif: object  # « Entretien fermé »: everyone, but not open online
    unscheduled_motif: object  # « Sans plage »: online, no plage
    agent: object
    other_agent: object
    other_espace_lieu: object  # a lieu of another espace


def online_motif(organisation, service, name, **fields):
    fields.setdefault("bookable_online", True)
    fields.setdefault("bookable_by", BookableBy.EVERYONE)
    return factories.MotifFactory(organisation=organisation, service=service, name=name, **fields)


def weekly_plage(organisation, agent, lieu, motifs, weekday: int, first: date, start=time(9), end=time(12)):
    plage = PlageOuverture.objects.create(
        organisation=organisation,
        agent=agent,
        lieu=lieu,
        first_date=first,
        start_time=start,
        end_time=end,
        recurrence="weekly",
        recurrence_weekdays=[weekday],
    )
    plage.motifs.set(motifs)
    return plage


def build_journey(alice, bob=None) -> Journey:
    territory = alice.territory
    territory.embedding_origins = f"{PARTNER}\nnot an origin; script-src *\n"
    territory.save()
    organisation, other = alice.organisation, alice.other_organisation
    for org, code, commune in (
        (organisation, "26000", "Valence"),
        (organisation, "26500", "Bourg-lès-Valence"),
        (other, "26500", "Bourg-lès-Valence"),
    ):
        SectorCode.objects.create(organisation=org, code=code, commune=commune)
    social = alice.service
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=territory, service=pmi)
    lieu = Lieu.objects.create(
        organisation=organisation, name="Maison des solidarités", address="1 place de la Mairie 26000 Valence"
    )
    lieu_b = Lieu.objects.create(organisation=organisation, name="Antenne Nord", address="8 rue du Nord 26000 Valence")
    motif = online_motif(organisation, social, "Premier accueil")
    instructions_motif = online_motif(organisation, social, "Aide au dossier RSA", instructions_before=INSTRUCTIONS)
    phone_motif = online_motif(organisation, social, "Conseil téléphonique", location_type="phone")
    pmi_motif = online_motif(organisation, pmi, "Consultation nourrisson")
    prescripteur_motif = online_motif(
        organisation,
        social,
        "Accompagnement social",
        bookable_online=False,
        bookable_by=BookableBy.AGENTS_AND_PRESCRIPTEURS,
    )
    agents_motif = online_motif(organisation, social, "Suivi interne", bookable_by=BookableBy.AGENTS)
    closed_motif = online_motif(organisation, social, "Entretien fermé", bookable_online=False)
    unscheduled_motif = online_motif(organisation, social, "Sans plage")
    agent, other_agent = alice.agent, alice.organisation_admin
    weekly_plage(
        organisation,
        agent,
        lieu,
        [motif, instructions_motif, phone_motif, pmi_motif, prescripteur_motif, agents_motif, closed_motif],
        weekday=1,
        first=date(2027, 3, 2),
    )
    weekly_plage(
        organisation, other_agent, lieu_b, [motif], weekday=3, first=date(2027, 3, 4), start=time(14), end=time(16)
    )
    # A RDV with a Contexte: never shown on a public page.
    rdv = Rdv.objects.create(
        organisation=organisation,
        motif=motif,
        lieu=lieu,
        starts_at=at(date(2027, 3, 2), 9),
        ends_at=at(date(2027, 3, 2), 9, 30),
        context=MARKER,
    )
    RdvAgent.objects.create(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
    other_espace_lieu = None
    if bob is not None:
        other_espace_lieu = Lieu.objects.create(organisation=bob.organisation, name="Lieu de Bob", address="Ailleurs")
    return Journey(
        alice,
        territory,
        organisation,
        other,
        lieu,
        lieu_b,
        motif,
        instructions_motif,
        phone_motif,
        pmi_motif,
        prescripteur_motif,
        agents_motif,
        closed_motif,
        unscheduled_motif,
        agent,
        other_agent,
        other_espace_lieu,
    )
