"""Data retention (RGPD) and the usagers' rights: the only code that deletes RDVs and usager files.

Two ways in, one way to delete:

- the nightly jobs (rdv.retention.tasks): RDVs whose end is older than `RDV_RETENTION_DAYS`,
  journal entries older than `AUDIT_RETENTION_DAYS`, and usager files without activity for
  `USAGER_INACTIVITY_DAYS`, first flagged for review, then deleted `USAGER_DELETION_REVIEW_DAYS`
  later unless the usager became active again or an admin kept the file;
- an organisation admin, on the usager's request: export of their data, deletion of their file.

Every deletion of a RDV or of a file writes its journal entry (`rdv.deleted`, `usager.deleted`)
*before* the row goes, in the same transaction: the webhook listener builds the `destroyed` body
from the record as it still is, with `meta.webhook_reason` « rgpd ». The jobs work in batches
(`RETENTION_BATCH_SIZE` rows per transaction), so a first run over years of data never holds one
huge transaction, and log one line per run and one journal entry per espace with their counts.
"""

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from rdv.bookings.models import Participation, Rdv
from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.online.models import OnlineBooking
from rdv.outbox.models import Channel, Delivery
from rdv.retention import policies, selectors
from rdv.territories.models import Territory
from rdv.usagers.models import Usager, UsagerOrganisation

logger = logging.getLogger(__name__)

REASON = "rgpd"  # the webhooks' meta.webhook_reason
SYSTEM_ACTOR = "Conservation des données (RGPD)"
RDV_EXPIRED = "durée de conservation dépassée"
USAGER_INACTIVE = "fiche sans activité, non conservée après examen"
ON_REQUEST = "à la demande de l’usager"
DELETED_USAGER = "usager supprimé"


def neutral_name(usager_pk: int) -> str:
    """How the journal names a deleted (or exported) file: no personal data."""
    return f"Usager n° {usager_pk}"


# Deleting (the single way) ---------------------------------------------------------------------------


def _erase_rdvs(actor, rdvs: list[Rdv], *, why: str) -> None:
    """Journal each RDV's deletion (webhooks `destroyed`, reason « rgpd », bodies built now), then
    delete the RDVs with what hangs on them: agents' links, participations, reminders and manage
    links (cascades), the online booking that created them (what the visitor typed), and the
    messages about them that no worker holds (e-mails, SMS, reminders). Rows must come with
    `organisation__territory` and `motif` (the journal names them)."""
    if not rdvs:
        return
    for rdv in rdvs:
        log_action(actor, "rdv.deleted", rdv, {"deletion": why}, related={"webhook_reason": REASON})
    ids = [rdv.pk for rdv in rdvs]
    OnlineBooking.objects.filter(rdv_id__in=ids).delete()
    Delivery.objects.filter(
        content_type=ContentType.objects.get_for_model(Rdv), object_id__in=ids, lease_owner=""
    ).delete()
    Rdv.objects.filter(pk__in=ids).delete()


@dataclass
class Erasure:
    rdvs_deleted: int = 0
    rdvs_left: int = 0
    relatives_detached: int = 0


def _erase_usager(actor, usager: Usager, *, why: str, organisation=None) -> Erasure:
    """Delete an usager file (in the caller's transaction, the usager row locked by the caller):

    - RDVs where the usager is the only participant: deleted (`rdv.deleted`, a `destroyed`
      webhook); the collective RDVs they shared: their participation only (`rdv.participant_deleted`,
      an `updated` webhook, no message to anyone);
    - relatives: detached (their own files stay; `usager.updated` on each);
    - what the visitor typed online, the messages to the usager's e-mail address or phone number
      that no worker holds, the file's own history (it holds the file's data);
    - then `usager.deleted` (a `destroyed` webhook, built before the row goes), naming no one."""
    result = Erasure()
    participations = list(
        Participation.objects.filter(usager=usager).select_related("rdv__organisation__territory", "rdv__motif")
    )
    rdv_ids = [participation.rdv_id for participation in participations]
    shared = set()
    if rdv_ids:
        list(Rdv.objects.select_for_update().filter(pk__in=rdv_ids).values_list("pk", flat=True))  # lock them
        shared = set(
            Participation.objects.filter(rdv_id__in=rdv_ids).exclude(usager=usager).values_list("rdv_id", flat=True)
        )
    alone = sorted((p.rdv for p in participations if p.rdv_id not in shared), key=lambda rdv: rdv.pk)
    for participation in participations:
        if participation.rdv_id in shared:
            participation.delete()
            log_action(actor, "rdv.participant_deleted", participation.rdv, {"usager": DELETED_USAGER})
            result.rdvs_left += 1
    _erase_rdvs(actor, alone, why=why)
    result.rdvs_deleted = len(alone)

    relatives = list(Usager.objects.select_related("territory").filter(responsible=usager).order_by("pk"))
    if relatives:  # `updated_at` unchanged: detaching is no activity of theirs
        Usager.objects.filter(pk__in=[relative.pk for relative in relatives]).update(responsible=None)
    for relative in relatives:
        relative.responsible = None
        log_action(
            actor, "usager.updated", relative, {"responsible": [DELETED_USAGER, None]}, organisation=organisation
        )
    result.relatives_detached = len(relatives)

    OnlineBooking.objects.filter(usager=usager).delete()
    addresses = [value for value in (usager.email, usager.phone) if value]
    if addresses:
        Delivery.objects.filter(
            territory_id=usager.territory_id,
            channel__in=(Channel.EMAIL, Channel.SMS),
            recipient__in=addresses,
            lease_owner="",
        ).delete()
    AuditLog.objects.filter(object_type=Usager._meta.label, object_id=str(usager.pk)).delete()
    changes = {"deletion": why, "rdvs_deleted": result.rdvs_deleted}
    if result.rdvs_left:
        changes["rdvs_left"] = result.rdvs_left
    if result.relatives_detached:
        changes["relatives_detached"] = result.relatives_detached
    log_action(
        actor,
        "usager.deleted",
        usager,
        changes,
        organisation=organisation,
        related={"webhook_reason": REASON},
        object_repr=neutral_name(usager.pk),
    )
    usager.delete()  # organisation links, reminders and manage links of shared RDVs go with it
    return result


# Admins' actions ------------------------------------------------------------------------------------


@transaction.atomic
def export_usager(ctx: Context, usager: Usager, *, format: str) -> dict:
    """The usager's data (rdv.retention.selectors.usager_export), for an admin who hands it over on
    request; the export is journaled (the file's history and the espace journal)."""
    require(policies.can_exercise_rights(ctx, usager), policies.SHARED_FILE_MESSAGE)
    if format not in selectors.EXPORT_FORMATS:
        raise DomainError("invalid_format", "Format d’export inconnu : choisissez JSON ou CSV.")
    usager = Usager.objects.select_related("territory", "responsible").get(pk=usager.pk)
    data = selectors.usager_export(usager, organisation=ctx.organisation, agent=ctx.agent)
    log_action(
        ctx.actor,
        "usager.exported",
        usager,
        {"format": format.upper()},
        organisation=ctx.organisation,
        object_repr=neutral_name(usager.pk),
    )
    return data


@transaction.atomic
def delete_usager(ctx: Context, usager: Usager) -> Erasure:
    """Delete the file on the usager's request (see `_erase_usager` for what goes with it). Nobody
    is notified: the usager asked for it, and the agents' agendas free the deleted RDVs' times."""
    require(policies.can_exercise_rights(ctx, usager), policies.SHARED_FILE_MESSAGE)
    usager = Usager.objects.select_for_update(of=("self",)).select_related("territory").get(pk=usager.pk)
    try:
        with transaction.atomic():
            return _erase_usager(ctx.actor, usager, why=ON_REQUEST, organisation=ctx.organisation)
    except ProtectedError as exc:  # a RDV or a relative was added at this very moment
        raise DomainError(
            "changed_meanwhile",
            "La fiche vient d’être modifiée (un rendez-vous ou un proche ajouté) : vérifiez-la puis recommencez.",
        ) from exc


@transaction.atomic
def keep_usager(ctx: Context, usager: Usager) -> bool:
    """Keep a file flagged as inactive: the flag goes, and the decision counts as activity (the file
    is not flagged again for `USAGER_INACTIVITY_DAYS`). Returns False when it was not flagged."""
    require(policies.can_keep(ctx, usager))
    locked = Usager.objects.select_for_update(of=("self",)).get(pk=usager.pk)
    if locked.retention_flagged_at is None:
        return False
    now = timezone.now()
    Usager.objects.filter(pk=locked.pk).update(retention_flagged_at=None, retention_kept_at=now)
    log_action(
        ctx.actor,
        "usager.retention_kept",
        locked,
        {"retention_flagged_at": [locked.retention_flagged_at.isoformat(), None]},
        organisation=ctx.organisation,
    )
    usager.retention_flagged_at, usager.retention_kept_at = None, now
    return True


# Activity of usager files -----------------------------------------------------------------------------


def _own_activity(since: datetime) -> Q:
    """The file itself was active at or after `since`: created, changed, kept by an admin, attached
    to an organisation, or a participation booked then or in a RDV ending then or later (upcoming
    RDVs included)."""
    rdvs = Participation.objects.filter(usager=OuterRef("pk")).filter(
        Q(rdv__ends_at__gte=since) | Q(created_at__gte=since)
    )
    links = UsagerOrganisation.objects.filter(usager=OuterRef("pk"), created_at__gte=since)
    return (
        Q(created_at__gte=since)
        | Q(updated_at__gte=since)
        | Q(retention_kept_at__gte=since)
        | Q(Exists(rdvs))
        | Q(Exists(links))
    )


def activity_since(since: datetime) -> Q:
    """The file, or one of its relatives (whose RDVs its responsible usager looks after), was active
    at or after `since`."""
    relatives = Usager.objects.filter(responsible=OuterRef("pk")).filter(_own_activity(since))
    return _own_activity(since) | Q(Exists(relatives))


def inactive_usagers(since: datetime) -> QuerySet:
    return Usager.objects.exclude(activity_since(since))


# Nightly jobs -------------------------------------------------------------------------------------------


@dataclass
class RunReport:
    """What one run of a job did: totals, per espace, batches, time."""

    job: str
    counts: dict[str, int] = field(default_factory=dict)
    by_territory: dict[int, Counter] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    finished: bool = True  # False: stopped at the time budget, the next run goes on
    started: float = field(default_factory=time.monotonic)

    def out_of_time(self, done: int) -> bool:
        """After `done` (at least one) batches of a loop, whether the run has used its
        `RETENTION_RUN_BUDGET_SECONDS` (a first run over years of data stops there; the next night
        goes on where it stopped)."""
        if done and time.monotonic() - self.started >= settings.RETENTION_RUN_BUDGET_SECONDS:
            self.finished = False
            return True
        return False

    def add(self, territory_id: int | None, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
        if territory_id is not None:
            self.by_territory.setdefault(territory_id, Counter())[name] += n


def _finish(report: RunReport, action: str, **details) -> RunReport:
    """One log line for the run, one journal entry per espace where something happened."""
    report.seconds = round(time.monotonic() - report.started, 3)
    territories = Territory.objects.in_bulk(list(report.by_territory))
    for territory_id, counts in sorted(report.by_territory.items()):
        territory = territories.get(territory_id)
        if territory is not None and any(counts.values()):
            log_action(SYSTEM_ACTOR, action, territory, {**dict(sorted(counts.items())), **details})
    logger.info(
        "retention run %s",
        json.dumps(
            {
                "job": report.job,
                **report.counts,
                "espaces": len(report.by_territory),
                "batches": report.batches,
                "seconds": report.seconds,
                "finished": report.finished,
                **details,
            },
            sort_keys=True,
        ),
    )
    return report


def _batch_size(batch_size: int | None) -> int:
    return max(1, batch_size or settings.RETENTION_BATCH_SIZE)


def purge_old_rdvs(*, now: datetime | None = None, batch_size: int | None = None) -> RunReport:
    """Delete the RDVs that ended more than `RDV_RETENTION_DAYS` ago, a batch per transaction."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RDV_RETENTION_DAYS)
    size = _batch_size(batch_size)
    report = RunReport("rdvs", {"rdvs_deleted": 0})
    while not report.out_of_time(report.batches):
        with transaction.atomic():
            # Rows another run holds are skipped (PostgreSQL): two runs never delete the same RDV twice.
            ids = list(
                Rdv.objects.filter(ends_at__lt=cutoff)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            rdvs = list(
                Rdv.objects.filter(pk__in=ids).select_related("organisation__territory", "motif").order_by("pk")
            )
            _erase_rdvs(SYSTEM_ACTOR, rdvs, why=RDV_EXPIRED)
            for rdv in rdvs:
                report.add(rdv.organisation.territory_id, "rdvs_deleted")
        report.batches += 1
    return _finish(report, "retention.rdvs_purged", retention_days=settings.RDV_RETENTION_DAYS)


def review_inactive_usagers(*, now: datetime | None = None, batch_size: int | None = None) -> RunReport:
    """The nightly review of usager files, in this order:

    1. flagged files active again since (a RDV, a change, an admin kept them): no longer flagged;
    2. files flagged at least `USAGER_DELETION_REVIEW_DAYS` ago and still inactive: deleted;
    3. files without activity for `USAGER_INACTIVITY_DAYS` (nor their relatives): flagged, listed
       to the admins of their organisations until deleted (step 2 of a later night)."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.USAGER_INACTIVITY_DAYS)
    due = now - timedelta(days=settings.USAGER_DELETION_REVIEW_DAYS)
    size = _batch_size(batch_size)
    report = RunReport("usagers", {"usagers_unflagged": 0, "usagers_deleted": 0, "usagers_flagged": 0})

    active_again = Usager.objects.filter(retention_flagged_at__isnull=False).filter(activity_since(since))
    while rows := list(active_again.order_by("pk").values_list("pk", "territory_id")[:size]):
        Usager.objects.filter(pk__in=[pk for pk, _ in rows]).update(retention_flagged_at=None)
        for _, territory_id in rows:
            report.add(territory_id, "usagers_unflagged")
        report.batches += 1

    failed: set[int] = set()
    deletions = 0
    while not report.out_of_time(deletions):
        with transaction.atomic():
            candidates = (
                inactive_usagers(since)
                .filter(retention_flagged_at__lte=due)
                .exclude(pk__in=failed)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("territory")
            )
            batch = list(candidates[:size])
            if not batch:
                break
            for usager in batch:
                try:
                    with transaction.atomic():
                        _erase_usager(SYSTEM_ACTOR, usager, why=USAGER_INACTIVE)
                except ProtectedError:  # booked meanwhile (the usager's own row was locked, not the RDVs')
                    logger.warning("Retention: usager %s became active during its deletion; kept.", usager.pk)
                    failed.add(usager.pk)
                    continue
                report.add(usager.territory_id, "usagers_deleted")
        report.batches += 1
        deletions += 1

    # Flagging is one UPDATE per batch: always complete (no time budget).
    to_flag = inactive_usagers(since).filter(retention_flagged_at__isnull=True)
    while rows := list(to_flag.order_by("pk").values_list("pk", "territory_id")[:size]):
        Usager.objects.filter(pk__in=[pk for pk, _ in rows]).update(retention_flagged_at=now)
        for _, territory_id in rows:
            report.add(territory_id, "usagers_flagged")
        report.batches += 1
    return _finish(report, "retention.usagers_reviewed", retention_days=settings.USAGER_INACTIVITY_DAYS)


def purge_old_audit_entries(*, now: datetime | None = None, batch_size: int | None = None) -> RunReport:
    """Delete the journal entries older than `AUDIT_RETENTION_DAYS`, a batch per statement."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    size = _batch_size(batch_size)
    report = RunReport("audit", {"audit_entries_deleted": 0})
    old = AuditLog.objects.filter(created_at__lt=cutoff)
    while not report.out_of_time(report.batches) and (
        rows := list(old.order_by("pk").values_list("pk", "territory_id")[:size])
    ):
        AuditLog.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        for _, territory_id in rows:
            report.add(territory_id, "audit_entries_deleted")
        report.batches += 1
    return _finish(report, "retention.audit_purged", retention_days=settings.AUDIT_RETENTION_DAYS)


def preview(*, now: datetime | None = None) -> dict[str, int]:
    """What the next run would do, without doing it (`manage.py run_retention --dry-run`)."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.USAGER_INACTIVITY_DAYS)
    due = now - timedelta(days=settings.USAGER_DELETION_REVIEW_DAYS)
    return {
        "rdvs_deleted": Rdv.objects.filter(ends_at__lt=now - timedelta(days=settings.RDV_RETENTION_DAYS)).count(),
        "usagers_unflagged": Usager.objects.filter(retention_flagged_at__isnull=False)
        .filter(activity_since(since))
        .count(),
        "usagers_deleted": inactive_usagers(since).filter(retention_flagged_at__lte=due).count(),
        "usagers_flagged": inactive_usagers(since).filter(retention_flagged_at__isnull=True).count(),
        "audit_entries_deleted": AuditLog.objects.filter(
            created_at__lt=now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        ).count(),
    }
