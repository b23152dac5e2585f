"""Demo data for a fresh database. Idempotent: running it twice changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, TerritoryRole
from rdv.core.context import Context
from rdv.territories.models import Organisation, Service, Territory, TerritoryService

DEMO_PASSWORD = "rdv-demo-2026"
DEMO_ACTOR = "Données de démonstration"

TERRITORIES = {
    "Drôme (démo)": {
        "departement": "26",
        "organisations": ["MDS Valence", "MDS Romans-sur-Isère"],
        "services": ["Service social", "PMI (Protection Maternelle et Infantile)", "Secrétariat", "Insertion"],
        "agents": [
            # email, first, last, services, {organisation: level}, espace admin
            ("admin@demo.rdv.fr", "Alice", "Martin", ["Service social"], {"MDS Valence": AccessLevel.ADMIN}, True),
            (
                "orga@demo.rdv.fr",
                "Olivier",
                "Durand",
                ["Insertion", "Service social"],
                {"MDS Romans-sur-Isère": AccessLevel.ADMIN},
                False,
            ),
            (
                "agent@demo.rdv.fr",
                "Bruno",
                "Petit",
                ["PMI (Protection Maternelle et Infantile)"],
                {"MDS Valence": AccessLevel.BASIC},
                False,
            ),
            (
                "secretariat@demo.rdv.fr",
                "Sophie",
                "Bernard",
                ["Secrétariat"],
                {"MDS Valence": AccessLevel.BASIC, "MDS Romans-sur-Isère": AccessLevel.BASIC},
                False,
            ),
        ],
    },
    "Ardèche (démo)": {
        "departement": "07",
        "organisations": ["MDS Privas"],
        "services": ["Service social", "Secrétariat"],
        "agents": [
            ("admin07@demo.rdv.fr", "Bob", "Leroy", ["Service social"], {"MDS Privas": AccessLevel.ADMIN}, True),
        ],
    },
}


# Demo usagers: espace -> (organisation, first name, last name, other fields, value of the custom field).
DEMO_USAGERS = {
    "Drôme (démo)": [
        ("MDS Valence", "Éloïse", "Dupré", {"birth_date": "1988-04-12", "phone": "06 12 34 56 78"}, "RSA"),
        ("MDS Valence", "Karim", "Benali", {"email": "karim.benali@exemple.fr", "city": "Valence"}, None),
        ("MDS Valence", "Jeanne", "Lefèvre", {"birth_date": "1952-11-03", "family_situation": "widowed"}, None),
        ("MDS Romans-sur-Isère", "Lucas", "Moreau", {"phone": "04 75 00 00 01", "number_of_children": 2}, None),
        ("MDS Romans-sur-Isère", "Chloé", "Garnier", {"email": "chloe.garnier@exemple.fr"}, "Logement"),
    ],
    "Ardèche (démo)": [
        ("MDS Privas", "Hugo", "Roux", {"city": "Privas"}, None),
    ],
}
DEMO_CUSTOM_FIELD = {
    "label": "Orientation",
    "kind": "choice",
    "choices": ["RSA", "Logement", "Santé", "Emploi"],
    "help_text": "Motif principal de l'accompagnement.",
    "asked_online": True,  # also asked by the online booking
}


def seed_usagers(territory, organisations) -> int:
    """Idempotent: the custom field and each usager are created only when missing."""
    from rdv.core.text import normalise_text
    from rdv.usagers import services as usager_services
    from rdv.usagers.models import CustomField, Usager

    specs = DEMO_USAGERS.get(territory.name, [])
    field = CustomField.objects.filter(territory=territory, label__iexact=DEMO_CUSTOM_FIELD["label"]).first()
    if field is None and any(value for *_, value in specs):
        field = usager_services.create_custom_field(Context.system(territory, label=DEMO_ACTOR), **DEMO_CUSTOM_FIELD)
    created = 0
    for organisation_name, first, last, data, value in specs:
        exists = Usager.objects.filter(
            territory=territory, last_name_key=normalise_text(last), first_name_key=normalise_text(first)
        ).exists()
        if exists:
            continue
        custom = {field: value} if field and value else {}
        ctx = Context.system(territory, organisations[organisation_name], label=DEMO_ACTOR)
        usager_services.create_usager(ctx, {"first_name": first, "last_name": last, **data}, custom)
        created += 1
    return created


# Demo motifs: espace -> (organisations, service, configuration, online booking, instructions).
DEMO_MOTIFS = {
    "Drôme (démo)": [
        (
            ["MDS Valence", "MDS Romans-sur-Isère"],
            "Service social",
            {"name": "Premier accueil", "color": "#000091", "default_duration_minutes": 30, "bookable_by": "everyone"},
            {"bookable_online": True, "min_booking_delay_minutes": 120, "max_booking_delay_minutes": 43200},
            {
                "instructions_before": "Prévoyez une pièce d'identité.",
                "instructions_after": "Merci de vous présenter 5 minutes avant l'heure du rendez-vous.\n"
                'Plan d\'accès : <a href="https://www.ladrome.fr">ladrome.fr</a>',
            },
        ),
        (
            ["MDS Valence"],
            "Service social",
            {"name": "Premier accueil", "color": "#6a6af4", "default_duration_minutes": 20, "location_type": "phone"},
            {},
            {},
        ),
        (
            ["MDS Valence"],
            "PMI (Protection Maternelle et Infantile)",
            {"name": "Consultation du nourrisson", "color": "#e1000f", "default_duration_minutes": 45},
            {},
            {},
        ),
        (
            ["MDS Valence", "MDS Romans-sur-Isère"],
            "Service social",
            {
                "name": "Aide aux démarches administratives",
                "color": "#009081",
                "default_duration_minutes": 30,
                "bookable_by": "everyone",
            },
            {"bookable_online": True, "min_booking_delay_minutes": 60, "max_booking_delay_minutes": 30240},
            {
                "instructions_before": "Ce rendez-vous vous aide à remplir un dossier (CAF, logement, retraite…). "
                "Il ne remplace pas un rendez-vous avec un travailleur social.",
                "instructions_after": "Apportez les courriers reçus, votre pièce d'identité et, si vous en avez, "
                "vos identifiants de connexion aux sites concernés.",
            },
        ),
        (
            ["MDS Valence"],
            "Service social",
            {
                "name": "Accompagnement social (orientation par un partenaire)",
                "color": "#a558a0",
                "default_duration_minutes": 45,
                "bookable_by": "agents_and_prescripteurs",
            },
            # Not « ouvert aux usagers »: prescripteurs book it online (its « Qui peut réserver »), usagers do not.
            {"min_booking_delay_minutes": 1440, "max_booking_delay_minutes": 43200},
            {
                "instructions_before": "Réservé aux professionnels (travailleurs sociaux, associations) qui "
                "orientent une personne vers la MDS.",
                "instructions_after": "La personne accompagnée reçoit la confirmation du rendez-vous. "
                "Merci de lui transmettre les documents utiles à la première rencontre.",
            },
        ),
        (
            ["MDS Romans-sur-Isère"],
            "Service social",
            {
                "name": "Atelier budget",
                "color": "#18753c",
                "default_duration_minutes": 90,
                "collective": True,
                "max_participants": 10,
            },
            {},
            {},
        ),
    ],
    "Ardèche (démo)": [
        (["MDS Privas"], "Service social", {"name": "Premier accueil", "color": "#000091"}, {}, {}),
    ],
}


def seed_motifs(territory, organisations) -> int:
    """Idempotent: a motif is created only when its name, type and service are free in its organisations."""
    from rdv.motifs import services as motif_services
    from rdv.motifs.models import Motif

    created = 0
    for organisation_names, service_name, config, online, instructions in DEMO_MOTIFS.get(territory.name, []):
        service = Service.objects.get(name=service_name)
        targets = [organisations[name] for name in organisation_names]
        exists = Motif.objects.active().filter(
            organisation__in=targets,
            service=service,
            name__iexact=config["name"],
            location_type=config.get("location_type", "public_office"),
        )
        if exists.exists():
            continue
        data = {"service": service, **config, **online, **instructions}
        created += len(
            motif_services.create_territory_motifs(Context.system(territory, label=DEMO_ACTOR), targets, data)
        )
    return created


# Demo agendas: espace -> lieux (organisation, name, address, phone) and weekly plages
# (organisation, agent e-mail, title, lieu, [(service, motif name, location type)], weekdays, start, end).
DEMO_LIEUX = {
    "Drôme (démo)": [
        ("MDS Valence", "MDS Valence — Centre", "12 avenue de Romans 26000 Valence", "04 75 79 70 00"),
        ("MDS Valence", "Antenne Valence-le-Haut", "4 place Pierre Dupont 26000 Valence", ""),
        ("MDS Romans-sur-Isère", "MDS Romans — Centre", "8 rue Jacquemart 26100 Romans-sur-Isère", "04 75 05 00 00"),
    ],
}
DEMO_PLAGES = {
    "Drôme (démo)": [
        (
            "MDS Valence",
            "admin@demo.rdv.fr",
            "Permanence sociale du matin",
            "MDS Valence — Centre",
            [("Service social", "Premier accueil", "public_office"), ("Service social", "Premier accueil", "phone")],
            [0, 1, 3],
            "09:00",
            "12:00",
        ),
        (
            "MDS Valence",
            "agent@demo.rdv.fr",
            "Consultations PMI",
            "Antenne Valence-le-Haut",
            [("PMI (Protection Maternelle et Infantile)", "Consultation du nourrisson", "public_office")],
            [1, 4],
            "14:00",
            "17:00",
        ),
        # Online booking: the motifs open online, in the coming weeks (weekly plages from this week).
        (
            "MDS Valence",
            "admin@demo.rdv.fr",
            "Permanence sociale de l'après-midi",
            "MDS Valence — Centre",
            [
                ("Service social", "Aide aux démarches administratives", "public_office"),
                ("Service social", "Accompagnement social (orientation par un partenaire)", "public_office"),
            ],
            [0, 2],
            "13:30",
            "16:30",
        ),
        (
            "MDS Romans-sur-Isère",
            "orga@demo.rdv.fr",
            "Permanence sociale",
            "MDS Romans — Centre",
            [
                ("Service social", "Premier accueil", "public_office"),
                ("Service social", "Aide aux démarches administratives", "public_office"),
            ],
            [1, 3],
            "09:00",
            "12:00",
        ),
    ],
}


# Sectorisation: espace -> organisation -> lines of the sectorisation page (code, then commune).
# The Ardèche espace has none: every organisation is offered there, whatever the address.
DEMO_SECTORS = {
    "Drôme (démo)": {
        "MDS Valence": ["26000 Valence", "26362 Valence", "26500 Bourg-lès-Valence", "26800 Portes-lès-Valence"],
        "MDS Romans-sur-Isère": ["26100 Romans-sur-Isère", "26281 Romans-sur-Isère", "26300 Bourg-de-Péage"],
    },
}


def seed_sectors(territory, organisations) -> int:
    """Idempotent: codes already present are left as they are."""
    from rdv.territories import services as territory_services

    added = 0
    for organisation_name, lines in DEMO_SECTORS.get(territory.name, {}).items():
        result = territory_services.add_sector_codes(
            Context.system(territory, label=DEMO_ACTOR), organisations[organisation_name], "\n".join(lines)
        )
        added += len(result.added)
    return added


def seed_agendas(territory, organisations) -> int:
    """Idempotent: lieux are created when their name is free, plages when the agent has none with that title."""
    from datetime import timedelta

    from django.utils import timezone

    from rdv.agendas import services as agenda_services
    from rdv.agendas.models import Lieu, PlageOuverture
    from rdv.motifs.models import Motif

    lieux = {}
    for organisation_name, name, address, phone in DEMO_LIEUX.get(territory.name, []):
        organisation = organisations[organisation_name]
        lieu = Lieu.objects.for_organisation(organisation).active().filter(name__iexact=name).first()
        if lieu is None:
            lieu = agenda_services.create_lieu(
                Context.system(territory, organisation, label=DEMO_ACTOR),
                {"name": name, "address": address, "phone": phone, "is_open": True},
            )
        lieux[name] = lieu
    created = 0
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    for organisation_name, email, title, lieu_name, motif_specs, weekdays, start, end in DEMO_PLAGES.get(
        territory.name, []
    ):
        organisation = organisations[organisation_name]
        agent = Agent.objects.get(email__iexact=email)
        if PlageOuverture.objects.filter(organisation=organisation, agent=agent, title=title).exists():
            continue
        motifs = []
        for service_name, motif_name, location_type in motif_specs:
            motif, _ = Motif.objects.active().get_or_create(
                organisation=organisation,
                service=Service.objects.get(name=service_name),
                name=motif_name,
                location_type=location_type,
            )
            motifs.append(motif)
        agenda_services.create_plage(
            Context.system(territory, organisation, label=DEMO_ACTOR),
            agent,
            {
                "title": title,
                "lieu": lieux[lieu_name],
                "motifs": motifs,
                "first_date": monday,
                "start_time": start,
                "end_time": end,
                "recurrence": "weekly",
                "recurrence_interval": 1,
                "recurrence_weekdays": weekdays,
            },
        )
        created += 1
    return created


# Demo RDVs: espace -> (organisation, agent e-mail, (service, motif, location type), lieu or None,
# usager (first, last), working days from today (0: today), "HH:MM" or None (today: soon), context).
DEMO_RDVS = {
    "Drôme (démo)": [
        (
            "MDS Valence",
            "admin@demo.rdv.fr",
            ("Service social", "Premier accueil", "public_office"),
            "MDS Valence — Centre",
            ("Éloïse", "Dupré"),
            0,
            None,
            "Première venue : apporter l'avis d'imposition (démo).",
        ),
        (
            "MDS Valence",
            "admin@demo.rdv.fr",
            ("Service social", "Premier accueil", "phone"),
            None,
            ("Karim", "Benali"),
            1,
            "09:30",
            "",
        ),
        (
            "MDS Valence",
            "agent@demo.rdv.fr",
            ("PMI (Protection Maternelle et Infantile)", "Consultation du nourrisson", "public_office"),
            "Antenne Valence-le-Haut",
            ("Jeanne", "Lefèvre"),
            2,
            "14:00",
            "",
        ),
    ],
}


def seed_rdvs(territory, organisations) -> int:
    """Idempotent: a demo RDV is booked (rdv.bookings.services.book_rdv) only when its usager has no
    RDV of that motif yet; outside the plages it is booked with the logged "override"."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from rdv.agendas.models import Lieu
    from rdv.bookings import services as booking_services
    from rdv.bookings.models import Rdv
    from rdv.core.errors import DomainError
    from rdv.core.text import normalise_text
    from rdv.motifs.models import Motif
    from rdv.usagers.models import Usager

    now = timezone.localtime()
    created = 0
    for organisation_name, email, (service, name, kind), lieu_name, (first, last), days, at, context in DEMO_RDVS.get(
        territory.name, []
    ):
        organisation = organisations[organisation_name]
        motif = (
            Motif.objects.active()
            .filter(organisation=organisation, service__name=service, name=name, location_type=kind)
            .first()
        )
        usager = Usager.objects.filter(
            territory=territory, first_name_key=normalise_text(first), last_name_key=normalise_text(last)
        ).first()
        agent = Agent.objects.filter(email__iexact=email).first()
        lieux = Lieu.objects.for_organisation(organisation).active()
        lieu = lieux.filter(name=lieu_name).first() if lieu_name else None
        if motif is None or usager is None or agent is None or (lieu_name and lieu is None):
            continue
        if Rdv.objects.filter(organisation=organisation, motif=motif, participations__usager=usager).exists():
            continue
        day = now.date()
        while days:
            day += timedelta(days=1)
            days -= 1 if day.weekday() < 5 else 0
        if at is None:  # today: the next full hour (or this morning when the day is almost over)
            hour = min(now.hour + 1, 22)
            start = datetime.combine(day, time(hour), tzinfo=now.tzinfo)
        else:
            start = datetime.combine(day, time.fromisoformat(at), tzinfo=now.tzinfo)
        request = booking_services.BookingRequest(
            motif=motif, starts_at=start, agents=[agent], usagers=[usager], lieu=lieu, context=context
        )
        ctx = Context.system(territory, organisation, label=DEMO_ACTOR)
        try:
            booking_services.book_rdv(ctx, request)
        except DomainError as error:
            if error.code not in booking_services.OVERRIDABLE:
                raise
            booking_services.book_rdv(ctx, request, override=True)
        created += 1
    return created


def seed_deliveries(territory, organisations) -> int:
    """Two undelivered e-mails for the « Envois en échec » page (the failures are simulated: the
    demo has no SMTP server to refuse them). Idempotent: only when the espace has no delivery."""
    from datetime import timedelta

    from django.utils import timezone

    from rdv.bookings.models import Rdv
    from rdv.outbox.models import Delivery, Purpose, Status
    from rdv.outbox.services import enqueue_email

    if Delivery.objects.filter(territory=territory).exists():
        return 0
    now = timezone.now()
    failures = [
        (
            Status.FAILING,
            3,
            "SMTP 421 4.7.0 Service temporairement indisponible, réessayez plus tard",
            now + timedelta(hours=2),
        ),
        (Status.ABANDONED, 1, "SMTP 550 5.1.1 Adresse inconnue : boîte aux lettres inexistante", None),
    ]
    rdvs = Rdv.objects.filter(organisation__territory=territory).select_related("motif", "organisation").order_by("id")
    created = 0
    for rdv, (status, attempts, error, next_attempt_at) in zip(rdvs, failures, strict=False):
        agent = rdv.agent_links.select_related("agent").first().agent
        delivery = enqueue_email(
            to=agent.email,
            subject=f"Salle d'attente : un usager est arrivé pour le RDV « {rdv.motif.name} »",
            text="Bonjour,\n\nUn usager est arrivé en salle d'attente (démonstration).\n",
            purpose=Purpose.WAITING_ROOM,
            about=rdv,
            territory=territory,
            organisation=rdv.organisation,
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=attempts, last_error=error, next_attempt_at=next_attempt_at
        )
        created += 1
    return created


class Command(BaseCommand):
    help = "Charge les données de démonstration (sans effet si elles existent déjà)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for territory_name, spec in TERRITORIES.items():
            territory, _ = Territory.objects.get_or_create(
                name=territory_name, defaults={"departement_number": spec["departement"]}
            )
            organisations = {
                name: Organisation.objects.get_or_create(territory=territory, name=name)[0]
                for name in spec["organisations"]
            }
            for service_name in spec["services"]:
                TerritoryService.objects.get_or_create(
                    territory=territory, service=Service.objects.get(name=service_name)
                )
            for email, first, last, services, levels, is_admin in spec["agents"]:
                agent = Agent.objects.filter(email__iexact=email).first()
                if agent is None:
                    agent = Agent.objects.create_user(email, DEMO_PASSWORD, first_name=first, last_name=last)
                    created += 1
                for service_name in services:
                    AgentService.objects.get_or_create(
                        agent=agent, territory=territory, service=Service.objects.get(name=service_name)
                    )
                for organisation_name, level in levels.items():
                    AgentRole.objects.get_or_create(
                        agent=agent, organisation=organisations[organisation_name], defaults={"access_level": level}
                    )
                if is_admin:
                    TerritoryRole.objects.get_or_create(agent=agent, territory=territory)
            seed_usagers(territory, organisations)
            seed_sectors(territory, organisations)
            seed_motifs(territory, organisations)
            seed_agendas(territory, organisations)
            seed_rdvs(territory, organisations)
            seed_deliveries(territory, organisations)
        self.stdout.write(self.style.SUCCESS(f"Données de démonstration prêtes ({created} agent(s) créé(s))."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for spec in TERRITORIES.values():
            for email, first, last, _, levels, is_admin in spec["agents"]:
                role = "administrateur d'espace" if is_admin else ", ".join(f"{o} ({lvl})" for o, lvl in levels.items())
                self.stdout.write(f"  {email:28} {first} {last} — {role}")
