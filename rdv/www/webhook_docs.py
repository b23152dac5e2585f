"""What the webhook documentation page shows, computed from the code that sends, so that it cannot
drift from it: an example body built by rdv.webhooks.payloads from an in-memory RDV (nothing is read
from or written to the database), the retry schedule from settings.OUTBOX_RETRY["webhook"], and the
verification example, the text of rdv/webhooks/examples/verify.py (run by the tests)."""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from rdv.bookings.models import CreatedBy
from rdv.motifs.models import LocationType
from rdv.outbox.services import retry_policy
from rdv.webhooks import examples, payloads

VERIFY_EXAMPLE_PATH = Path(examples.__file__).with_name("verify.py")


def example_rdv_body(zone: ZoneInfo) -> str:
    """The body of a « Rdv created » event for a made-up RDV, indented for reading."""
    territory = SimpleNamespace(rdv_field_enabled=lambda name: True)
    organisation = SimpleNamespace(pk=12, name="MDS Valence", territory=territory)
    lieu = SimpleNamespace(
        pk=34,
        name="MDS Valence centre",
        address="4 rue de l'Hôtel de Ville, 26000 Valence",
        phone="",
        organisation_id=12,
    )
    motif = SimpleNamespace(
        pk=56,
        name="Accompagnement social",
        location_type=LocationType.PUBLIC_OFFICE,
        archived_at=None,
        bookable_online=True,
        service_id=2,
        organisation_id=12,
        collective=False,
        follow_up=False,
        instructions_after="Apportez votre dernier avis d'imposition.",
        bookable_by="everyone",
    )
    starts_at = datetime(2027, 3, 9, 10, 0, tzinfo=zone)
    usager = SimpleNamespace(
        pk=78,
        first_name="Camille",
        last_name="Durand",
        birth_name="",
        birth_date=date(1985, 6, 14),
        email="camille.durand@exemple.fr",
        phone="06 12 34 56 78",
        address="12 avenue Victor Hugo",
        postal_code="26000",
        city="Valence",
        responsible_id=None,
        responsible=None,
        caf_number="1234567",
        family_situation="single",
        number_of_children=1,
        case_number="",
        logement="locataire",
        notes="",
        notify_by_email=True,
        notify_by_sms=True,
        created_at=starts_at - timedelta(days=40),
    )
    agent = SimpleNamespace(pk=90, first_name="Alice", last_name="Martin", email="alice.martin@exemple.fr")
    rdv = SimpleNamespace(
        pk=1234,
        status="unknown",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        duration_minutes=30,
        address="",
        context="Première rencontre",
        status_changed_at=None,
        max_participants=None,
        collective=False,
        created_by=CreatedBy.AGENT,
        created_by_agent_id=agent.pk,
        organisation=organisation,
        motif=motif,
        lieu=lieu,
        # What payloads.with_rdv_relations prefetches for a real RDV: lists.
        **{
            payloads.PARTICIPATIONS: [SimpleNamespace(pk=4321, status="unknown", usager=usager)],
            payloads.AGENT_LINKS: [SimpleNamespace(agent=agent)],
        },
    )
    data = payloads.rdv_data(rdv, zone)
    text = payloads.body(
        data, model="Rdv", event="created", reason=None, timestamp=starts_at - timedelta(days=7), zone=zone
    )
    return json.dumps(json.loads(text), ensure_ascii=False, indent=2)


def verify_example() -> str:
    return VERIFY_EXAMPLE_PATH.read_text(encoding="utf-8")


def human_duration(seconds: float) -> str:
    """« 30 s », « 2 min », « 1 h 04 », « 6 h »."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d}"


@dataclass(frozen=True)
class RetrySchedule:
    attempts: int
    delays: list[str]  # the nominal delays (before the ± jitter) while they grow
    then_every: str  # then the capped delay…
    then_times: int  # …this many times
    total_hours: float
    jitter_percent: int

    @property
    def total_days(self) -> str:
        return f"{self.total_hours / 24:.1f}".replace(".", ",")


def retry_schedule() -> RetrySchedule:
    policy = retry_policy("webhook")
    seconds = [
        min(policy.base_seconds * policy.factor ** (attempt - 1), policy.max_seconds)
        for attempt in range(1, policy.max_attempts)
    ]
    growing = [value for value in seconds if value < policy.max_seconds]
    capped = len(seconds) - len(growing)
    return RetrySchedule(
        attempts=policy.max_attempts,
        delays=[human_duration(value) for value in growing],
        then_every=human_duration(policy.max_seconds) if capped else "",
        then_times=capped,
        total_hours=sum(seconds) / 3600,
        jitter_percent=round(policy.jitter * 100),
    )
