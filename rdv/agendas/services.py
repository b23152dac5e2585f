"""Agenda operations: the only code that creates or changes lieux, plages d'ouverture (and their
occurrence exceptions) and absences.

Every function takes the actor's context first and refuses ("forbidden") what
rdv.agendas.policies does not allow; it runs in one transaction, checks every rule itself (so no
path can bypass one), raises `DomainError` with a French message, and records the change with
`log_action`.
`data` arguments are mappings of model field names (as the forms' cleaned data).

Plages of one agent never overlap, whatever their organisation: every write that adds or moves
occurrences expands the series concerned (wall-clock Europe/Paris, compared as UTC instants) and
refuses with a message naming the first clash. Writes on one agent's plages are serialised by a
row lock on the agent, so two concurrent requests cannot both pass the check.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from rdv.accounts.models import AgentService
from rdv.agendas import policies
from rdv.agendas.calendar import (
    WHOLE_DAY_END,
    WHOLE_DAY_START,
    french_date,
    plage_name,
    time_range,
)
from rdv.agendas.locks import lock_agendas
from rdv.agendas.models import (
    ABSENCE_LOOKBACK_DAYS,
    EVENT_FIELDS,
    MAX_RECURRENCE_INTERVAL,
    Absence,
    Lieu,
    PlageException,
    PlageOuverture,
    RecurrenceKind,
)
from rdv.availability.recurrence import Recurrence, RecurringEvent, expand, occurrence_dates
from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.dates import DATE_MAX, DATE_MIN, DATE_OUT_OF_RANGE
from rdv.core.errors import DomainError
from rdv.core.phones import InvalidPhone, format_phone, normalise_phone
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation

# Length limits: the models' (what the database stores), checked here with a French message.
NAME_MAX_LENGTH = Lieu._meta.get_field("name").max_length
ADDRESS_MAX_LENGTH = Lieu._meta.get_field("address").max_length
TITLE_MAX_LENGTH = PlageOuverture._meta.get_field("title").max_length
assert Absence._meta.get_field("title").max_length == TITLE_MAX_LENGTH
MAX_MONTHLY_INTERVAL = 12
OVERLAP_HORIZON = timedelta(days=731)  # open-ended series are compared over two years
MAX_RECURRING_ABSENCE_DAYS = ABSENCE_LOOKBACK_DAYS

PLAGE_FIELDS = (
    "title",
    "lieu",
    "motifs",
    "first_date",
    "start_time",
    "end_time",
    "recurrence",
    "recurrence_interval",
    "recurrence_weekdays",
    "recurrence_last_of_month",
    "until",
)
ABSENCE_FIELDS = (
    "title",
    "first_date",
    "start_time",
    "end_date",
    "end_time",
    "recurrence",
    "recurrence_interval",
    "recurrence_weekdays",
    "recurrence_last_of_month",
    "until",
)
LIEU_FIELDS = ("name", "address", "phone", "is_open")


# Small parsers ---------------------------------------------------------------------------------


def _text(data: Mapping, name: str, max_length: int, required_message: str | None, too_long: str) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if not value and required_message:
        raise DomainError(f"{name}_required", required_message, field=name)
    if len(value) > max_length:
        raise DomainError(f"{name}_too_long", too_long, field=name)
    return value


def _date(value: Any, name: str, required_message: str) -> date | None:
    if value in (None, ""):
        if required_message:
            raise DomainError(f"{name}_required", required_message, field=name)
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise DomainError(
                f"{name}_invalid", "Saisissez une date valide, par exemple 31/12/2026.", field=name
            ) from None
    if not DATE_MIN <= value <= DATE_MAX:  # the bounds of every face (rdv.core.dates), the API's too
        raise DomainError(f"{name}_out_of_range", DATE_OUT_OF_RANGE, field=name)
    return value


def _time(value: Any, name: str, required_message: str) -> time:
    if value in (None, ""):
        raise DomainError(f"{name}_required", required_message, field=name)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return time.fromisoformat(str(value)).replace(second=0, microsecond=0)
    except ValueError:
        raise DomainError(f"{name}_invalid", "Saisissez une heure valide, par exemple 09:30.", field=name) from None


def _int(value: Any, name: str, message: str) -> int:
    if isinstance(value, bool):
        raise DomainError(f"{name}_invalid", message, field=name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{name}_invalid", message, field=name) from None


def _recurrence(data: Mapping, first_date: date) -> dict:
    """Normalised recurrence fields: kind, interval, weekdays, until."""
    kind = data.get("recurrence") or RecurrenceKind.NONE
    if kind not in RecurrenceKind.values:
        raise DomainError("recurrence_invalid", "Choisissez une répétition dans la liste.", field="recurrence")
    if kind == RecurrenceKind.NONE:
        return {
            "recurrence": kind,
            "recurrence_interval": 1,
            "recurrence_weekdays": [],
            "until": None,
            "recurrence_last_of_month": False,
        }
    interval_value = data.get("recurrence_interval")
    interval = (
        1
        if interval_value in (None, "")
        else _int(interval_value, "recurrence_interval", "L'intervalle de répétition doit être un nombre entier.")
    )
    if kind == RecurrenceKind.WEEKLY:
        if not 1 <= interval <= MAX_RECURRENCE_INTERVAL:
            raise DomainError(
                "recurrence_interval_range",
                f"La répétition doit avoir lieu toutes les 1 à {MAX_RECURRENCE_INTERVAL} semaines.",
                field="recurrence_interval",
            )
        weekdays = set()
        for value in data.get("recurrence_weekdays") or []:
            weekday = _int(value, "recurrence_weekdays", "Choisissez les jours de la semaine dans la liste.")
            if not 0 <= weekday <= 6:
                raise DomainError(
                    "recurrence_weekdays_invalid",
                    "Choisissez les jours de la semaine dans la liste.",
                    field="recurrence_weekdays",
                )
            weekdays.add(weekday)
        weekdays = sorted(weekdays) or [first_date.weekday()]
    else:
        if not 1 <= interval <= MAX_MONTHLY_INTERVAL:
            raise DomainError(
                "recurrence_interval_range",
                f"La répétition doit avoir lieu tous les 1 à {MAX_MONTHLY_INTERVAL} mois.",
                field="recurrence_interval",
            )
        weekdays = []
    until = _date(data.get("until"), "until", "")
    if until is not None and until < first_date:
        raise DomainError(
            "until_before_first_date",
            f"La date de fin de la répétition ({until:%d/%m/%Y}) doit être le {first_date:%d/%m/%Y} ou après.",
            field="until",
        )
    return {
        "recurrence": kind,
        "recurrence_interval": interval,
        "recurrence_weekdays": weekdays,
        "until": until,
        "recurrence_last_of_month": kind == RecurrenceKind.MONTHLY and bool(data.get("recurrence_last_of_month")),
    }


def _lock_agent(agent) -> None:
    """Serialise the agenda writes of one agent (PostgreSQL; SQLite serialises every write)."""
    lock_agendas([agent])


def _diff(obj, values: Mapping) -> dict:
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [old, new]
    return changes


# Lieux -----------------------------------------------------------------------------------------


def _lieu_values(data: Mapping) -> dict:
    name = _text(
        data,
        "name",
        NAME_MAX_LENGTH,
        "Le nom du lieu est obligatoire.",
        f"Le nom ne doit pas dépasser {NAME_MAX_LENGTH} caractères.",
    )
    address = _text(
        data,
        "address",
        ADDRESS_MAX_LENGTH,
        "L'adresse du lieu est obligatoire.",
        f"L'adresse ne doit pas dépasser {ADDRESS_MAX_LENGTH} caractères.",
    )
    try:
        phone = normalise_phone(data.get("phone"))
    except InvalidPhone as error:
        raise DomainError("phone_invalid", error.message, field="phone") from None
    return {"name": name, "address": address, "phone": phone, "is_open": bool(data.get("is_open", True))}


def _check_lieu_name(organisation: Organisation, name: str, exclude_pk: int | None = None) -> None:
    """Active lieux of an organisation have distinct names, ignoring case (compared with casefold():
    SQLite's LOWER only folds ASCII; the partial unique constraint stops races on PostgreSQL)."""
    names = Lieu.objects.for_organisation(organisation).active().exclude(pk=exclude_pk).values_list("name", flat=True)
    if any(existing.casefold() == name.casefold() for existing in names):
        raise DomainError("lieu_name_taken", f"Un lieu s'appelle déjà « {name} » dans l'organisation.", field="name")


def lieu_phone_display(lieu: Lieu) -> str:
    return format_phone(lieu.phone)


@transaction.atomic
def create_lieu(ctx: Context, data: Mapping) -> Lieu:
    require(policies.can_manage_lieux(ctx))
    organisation = ctx.organisation
    values = _lieu_values(data)
    _check_lieu_name(organisation, values["name"])
    try:
        with transaction.atomic():
            lieu = Lieu.objects.create(organisation=organisation, **values)
    except IntegrityError:  # a concurrent creation with the same name
        raise DomainError(
            "lieu_name_taken", f"Un lieu s'appelle déjà « {values['name']} » dans l'organisation.", field="name"
        ) from None
    log_action(ctx.actor, "lieu.created", lieu, values)
    return lieu


@transaction.atomic
def update_lieu(ctx: Context, lieu: Lieu, data: Mapping) -> dict:
    require(policies.can_manage_lieu(ctx, lieu))
    values = _lieu_values(data)
    if lieu.archived_at is None:
        _check_lieu_name(lieu.organisation, values["name"], exclude_pk=lieu.pk)
    changes = _diff(lieu, values)
    if changes:
        for name, value in values.items():
            setattr(lieu, name, value)
        lieu.save(update_fields=list(values))
        log_action(ctx.actor, "lieu.updated", lieu, changes)
    return changes


def _running_plages(lieu: Lieu, today: date):
    """Plages of a lieu that still have occurrences from today on."""
    return PlageOuverture.objects.filter(lieu=lieu).overlapping_dates(today, date.max)


@transaction.atomic
def archive_lieu(ctx: Context, lieu: Lieu, *, now: datetime | None = None) -> None:
    require(policies.can_manage_lieu(ctx, lieu))
    if lieu.archived_at is not None:
        raise DomainError("lieu_archived", "Ce lieu est déjà archivé.")
    now = now or timezone.now()
    running = _running_plages(lieu, timezone.localtime(now, lieu.organisation.territory.zone).date()).count()
    if running:
        raise DomainError(
            "lieu_in_use",
            f"Ce lieu est utilisé par {running} plage{'s' if running > 1 else ''} d'ouverture en cours : terminez-les "
            "ou changez leur lieu avant de l'archiver. Pour ne plus le proposer sans toucher aux plages, "
            "décochez plutôt « ouvert au public ».",
        )
    lieu.archived_at = now
    lieu.save(update_fields=["archived_at"])
    log_action(ctx.actor, "lieu.archived", lieu, {"archived_at": [None, now]})


@transaction.atomic
def restore_lieu(ctx: Context, lieu: Lieu) -> None:
    require(policies.can_manage_lieu(ctx, lieu))
    if lieu.archived_at is None:
        raise DomainError("lieu_not_archived", "Ce lieu n'est pas archivé.")
    _check_lieu_name(lieu.organisation, lieu.name, exclude_pk=lieu.pk)
    old = lieu.archived_at
    lieu.archived_at = None
    lieu.save(update_fields=["archived_at"])
    log_action(ctx.actor, "lieu.restored", lieu, {"archived_at": [old, None]})


# Plages: values and validation -------------------------------------------------------------------


def usable_motifs(organisation: Organisation, agent):
    """Motifs an agent may put in a plage of the organisation: active motifs of the agent's services
    in the organisation's espace, and motifs open to the secretariat when the agent belongs to a
    secretariat service there. One query."""
    links = AgentService.objects.filter(agent=agent, territory_id=organisation.territory_id)
    condition = Q(service_id__in=links.values("service_id")) | (
        Q(for_secretariat=True) & Exists(links.filter(service__is_secretariat=True))
    )
    return Motif.objects.for_organisation(organisation).active().filter(condition)


def _plage_values(
    organisation: Organisation, agent, data: Mapping, current: PlageOuverture | None
) -> tuple[dict, list]:
    title = _text(
        data, "title", TITLE_MAX_LENGTH, None, f"Le titre ne doit pas dépasser {TITLE_MAX_LENGTH} caractères."
    )
    first_date = _date(data.get("first_date"), "first_date", "Indiquez la date de la première occurrence.")
    start_time = _time(data.get("start_time"), "start_time", "Indiquez l'heure de début.")
    end_time = _time(data.get("end_time"), "end_time", "Indiquez l'heure de fin.")
    if end_time <= start_time:
        raise DomainError(
            "end_before_start",
            f"L'heure de fin ({end_time:%H:%M}) doit être après l'heure de début ({start_time:%H:%M}).",
            field="end_time",
        )
    recurrence = _recurrence(data, first_date)

    lieu = data.get("lieu")
    if lieu is None:
        raise DomainError("lieu_required", "Choisissez le lieu de la plage.", field="lieu")
    if not isinstance(lieu, Lieu) or lieu.organisation_id != organisation.pk:
        raise DomainError("lieu_invalid", "Ce lieu ne fait pas partie de l'organisation.", field="lieu")
    if lieu.archived_at is not None:
        raise DomainError(
            "lieu_archived", f"Le lieu « {lieu.name} » est archivé : choisissez-en un autre.", field="lieu"
        )
    if not lieu.is_open and (current is None or current.lieu_id != lieu.pk):
        raise DomainError(
            "lieu_closed", f"Le lieu « {lieu.name} » est fermé au public : choisissez-en un autre.", field="lieu"
        )

    motifs = list(data.get("motifs") or [])
    if not motifs:
        raise DomainError("motifs_required", "Choisissez au moins un motif.", field="motifs")
    for motif in motifs:
        if not isinstance(motif, Motif) or motif.organisation_id != organisation.pk:
            raise DomainError("motif_invalid", "Ce motif ne fait pas partie de l'organisation.", field="motifs")
        if motif.archived_at is not None:
            raise DomainError(
                "motif_archived",
                f"Le motif « {motif.name} » est archivé : retirez-le de la plage.",
                field="motifs",
            )
    allowed = set(usable_motifs(organisation, agent).filter(pk__in=[m.pk for m in motifs]).values_list("pk", flat=True))
    for motif in motifs:
        if motif.pk not in allowed:
            raise DomainError(
                "motif_service",
                f"Le motif « {motif.name} » relève d'un service auquel {agent} n'appartient pas.",
                field="motifs",
            )
    values = {
        "title": title,
        "lieu": lieu,
        "first_date": first_date,
        "start_time": start_time,
        "end_time": end_time,
        **recurrence,
    }
    return values, sorted(set(motifs), key=lambda m: m.pk)


def _event(organisation: Organisation, values: Mapping, exceptions: Mapping | None = None) -> RecurringEvent:
    """The recurring event of plage values not saved yet, in the organisation's espace time (same
    rule as PlageOuverture.event)."""
    plage = PlageOuverture(**{name: values.get(name) for name in EVENT_FIELDS})
    return plage.event(exceptions, tz=organisation.territory.zone)


def _exception_rules(plage: PlageOuverture) -> dict:
    return {exception.date: exception.as_rule() for exception in plage.exceptions.all()}


@dataclass(frozen=True)
class Clash:
    plage: PlageOuverture
    start: datetime  # UTC instants of the clashing occurrence of `plage`
    end: datetime

    def message(self, organisation: Organisation | None) -> str:
        # In the time of the plage's espace (the one the agent typed it in).
        tz = self.plage.organisation.territory.zone
        local_start, local_end = self.start.astimezone(tz), self.end.astimezone(tz)
        where = f" à {self.plage.lieu.name}"
        if organisation is not None and self.plage.organisation_id != organisation.pk:
            where += f" ({self.plage.organisation.name})"
        return (
            f"Cette plage chevauche la plage « {plage_name(self.plage)} » du {french_date(local_start.date())} "
            f"{time_range(local_start.time(), local_end.time())}{where}. Les plages d'un agent ne peuvent pas se "
            "chevaucher : changez les horaires, les jours ou les dates."
        )


def _first_overlap(mine: list, theirs: list) -> tuple[datetime, datetime] | None:
    """The first interval of `theirs` overlapping one of `mine` (both sorted UTC intervals)."""
    i = j = 0
    while i < len(mine) and j < len(theirs):
        a_start, a_end = mine[i]
        b_start, b_end = theirs[j]
        if a_start < b_end and b_start < a_end:
            return b_start, b_end
        if a_end <= b_end:
            i += 1
        else:
            j += 1
    return None


def find_clash(agent, event: RecurringEvent, *, exclude_ids: Iterable[int] = ()) -> Clash | None:
    """The earliest occurrence of another plage of the agent (any organisation) that overlaps `event`.

    Both series are expanded over the intersection of their date ranges, at most two years from its start."""
    start = event.first_date
    last = event.recurrence.until
    others = (
        PlageOuverture.objects.filter(agent=agent)
        .exclude(pk__in=list(exclude_ids))
        .overlapping_dates(start, last or date.max)
        .select_related("lieu", "organisation__territory")
        .prefetch_related("motifs", "exceptions")
    )
    best: Clash | None = None
    for other in others:
        other_event = other.event(_exception_rules(other))
        low = max(start, other.first_date)
        ends = [d for d in (last, other_event.recurrence.until) if d is not None]
        high = min([*ends, low + OVERLAP_HORIZON])
        if high < low:
            continue
        found = _first_overlap(expand(event, low, high), expand(other_event, low, high))
        if found and (best is None or found[0] < best.start):
            best = Clash(other, *found)
    return best


def _check_overlaps(organisation, agent, event: RecurringEvent, exclude_ids: Iterable[int] = ()) -> None:
    clash = find_clash(agent, event, exclude_ids=exclude_ids)
    if clash is not None:
        raise DomainError("plage_overlap", clash.message(organisation))


def is_occurrence(plage: PlageOuverture, day: date) -> bool:
    """Is `day` a date of the series (cancelled or moved occurrences included)?"""
    return _occurs(plage.event(), day)


def _require_occurrence(plage: PlageOuverture, day: date) -> None:
    if not is_occurrence(plage, day):
        raise DomainError("not_an_occurrence", f"La plage n'a pas d'occurrence le {french_date(day)}.", field="date")


def _plage_log(values: Mapping, motifs: list) -> dict:
    return {**values, "motifs": [m.name for m in motifs]}


# Plages: operations ----------------------------------------------------------------------------


def _create_plage(ctx: Context, organisation, agent, values: dict, motifs: list) -> PlageOuverture:
    _check_overlaps(organisation, agent, _event(organisation, values))
    plage = PlageOuverture.objects.create(organisation=organisation, agent=agent, **values)
    plage.motifs.set(motifs)
    log_action(ctx.actor, "plage.created", plage, {"agent": agent, **_plage_log(values, motifs)})
    return plage


@transaction.atomic
def create_plage(ctx: Context, agent, data: Mapping) -> PlageOuverture:
    """A plage of `agent` in the context's organisation."""
    organisation = ctx.organisation
    require(policies.can_manage_agenda(ctx, agent))  # `agent` belongs to the organisation
    _lock_agent(agent)
    values, motifs = _plage_values(organisation, agent, data, None)
    return _create_plage(ctx, organisation, agent, values, motifs)


@transaction.atomic
def update_plage(ctx: Context, plage: PlageOuverture, data: Mapping) -> dict:
    """Change the whole series. Exceptions of dates that are still occurrences are kept; the others go."""
    require(policies.can_manage_plage(ctx, plage))
    _lock_agent(plage.agent)
    values, motifs = _plage_values(plage.organisation, plage.agent, data, plage)
    new_event = _event(plage.organisation, values)
    exceptions = list(plage.exceptions.all())
    kept = {e.date: e.as_rule() for e in exceptions if _occurs(new_event, e.date)}
    _check_overlaps(plage.organisation, plage.agent, _event(plage.organisation, values, kept), exclude_ids=[plage.pk])
    changes = _diff(plage, values)
    old_motifs = sorted(m.name for m in plage.motifs.all())
    new_motifs = sorted(m.name for m in motifs)
    if old_motifs != new_motifs:
        changes["motifs"] = [old_motifs, new_motifs]
    dropped = [e.date for e in exceptions if e.date not in kept]
    if dropped:
        PlageException.objects.filter(plage=plage, date__in=dropped).delete()
        changes["exceptions retirées"] = [d.isoformat() for d in dropped]
    if changes:
        for name, value in values.items():
            setattr(plage, name, value)
        plage.save()
        plage.motifs.set(motifs)
        log_action(ctx.actor, "plage.updated", plage, changes)
    return changes


def _occurs(event: RecurringEvent, day: date) -> bool:
    return day in occurrence_dates(event, day, day)


@transaction.atomic
def update_plage_from(ctx: Context, plage: PlageOuverture, from_date: date, data: Mapping) -> PlageOuverture:
    """ "Cette occurrence et les suivantes": the series ends the day before `from_date` and a new plage
    with the new values starts on `from_date`. Exceptions from that date on are dropped with the old
    series. From the first occurrence, this is a change of the whole series."""
    require(policies.can_manage_plage(ctx, plage))
    if plage.recurrence == RecurrenceKind.NONE:
        raise DomainError("not_recurring", "Cette plage ne se répète pas : modifiez-la directement.")
    _require_occurrence(plage, from_date)
    if from_date <= plage.first_date:
        update_plage(ctx, plage, {**data, "first_date": plage.first_date})
        return plage
    _lock_agent(plage.agent)
    values, motifs = _plage_values(plage.organisation, plage.agent, {**data, "first_date": from_date}, plage)
    old_until = plage.until
    plage.until = from_date - timedelta(days=1)
    plage.save(update_fields=["until"])
    dropped = list(plage.exceptions.filter(date__gte=from_date).values_list("date", flat=True))
    plage.exceptions.filter(date__gte=from_date).delete()
    new_plage = _create_plage(ctx, plage.organisation, plage.agent, values, motifs)
    changes = {"until": [old_until, plage.until], "suite": f"plage n° {new_plage.pk} à partir du {from_date:%d/%m/%Y}"}
    if dropped:
        changes["exceptions retirées"] = [d.isoformat() for d in dropped]
    log_action(ctx.actor, "plage.split", plage, changes)
    return new_plage


@transaction.atomic
def cancel_plage_occurrence(ctx: Context, plage: PlageOuverture, day: date) -> PlageException:
    """Cancel one occurrence; the rest of the series is untouched."""
    require(policies.can_manage_plage(ctx, plage))
    _require_occurrence(plage, day)
    exception, _ = PlageException.objects.update_or_create(
        plage=plage, date=day, defaults={"cancelled": True, "start_time": None, "end_time": None}
    )
    log_action(ctx.actor, "plage.occurrence_cancelled", plage, {"date": day.isoformat()})
    return exception


@transaction.atomic
def move_plage_occurrence(
    ctx: Context, plage: PlageOuverture, day: date, start_time: Any, end_time: Any
) -> PlageException | None:
    """Change the hours of one occurrence (same day); the rest of the series is untouched. Back to the
    series' hours, the exception is removed."""
    require(policies.can_manage_plage(ctx, plage))
    _require_occurrence(plage, day)
    start = _time(start_time, "start_time", "Indiquez l'heure de début.")
    end = _time(end_time, "end_time", "Indiquez l'heure de fin.")
    if end <= start:
        raise DomainError(
            "end_before_start",
            f"L'heure de fin ({end:%H:%M}) doit être après l'heure de début ({start:%H:%M}).",
            field="end_time",
        )
    _lock_agent(plage.agent)
    single = RecurringEvent(
        first_date=day,
        start_time=start,
        end_time=end,
        recurrence=Recurrence(until=day),
        tz=plage.organisation.territory.zone,
    )
    _check_overlaps(plage.organisation, plage.agent, single, exclude_ids=[plage.pk])
    previous = plage.exceptions.filter(date=day).first()
    old = (
        None
        if previous is None
        else ("annulée" if previous.cancelled else time_range(previous.start_time, previous.end_time))
    )
    if (start, end) == (plage.start_time, plage.end_time):
        PlageException.objects.filter(plage=plage, date=day).delete()
        exception = None
    else:
        exception, _ = PlageException.objects.update_or_create(
            plage=plage, date=day, defaults={"cancelled": False, "start_time": start, "end_time": end}
        )
    log_action(
        ctx.actor,
        "plage.occurrence_moved",
        plage,
        {
            "date": day.isoformat(),
            "horaires": [old or time_range(plage.start_time, plage.end_time), time_range(start, end)],
        },
    )
    return exception


@transaction.atomic
def restore_plage_occurrence(ctx: Context, plage: PlageOuverture, day: date) -> None:
    """Back to the series' hours for one occurrence (undo a cancellation or a move)."""
    require(policies.can_manage_plage(ctx, plage))
    exception = plage.exceptions.filter(date=day).first()
    if exception is None:
        raise DomainError("no_exception", "Cette occurrence suit déjà les horaires de la série.")
    _lock_agent(plage.agent)
    single = RecurringEvent(
        first_date=day,
        start_time=plage.start_time,
        end_time=plage.end_time,
        recurrence=Recurrence(until=day),
        tz=plage.organisation.territory.zone,
    )
    _check_overlaps(plage.organisation, plage.agent, single, exclude_ids=[plage.pk])
    exception.delete()
    log_action(ctx.actor, "plage.occurrence_restored", plage, {"date": day.isoformat()})


@transaction.atomic
def end_plage(ctx: Context, plage: PlageOuverture, last_date: Any) -> None:
    """End a recurring series after `last_date` (inclusive); later exceptions go with it."""
    require(policies.can_manage_plage(ctx, plage))
    if plage.recurrence == RecurrenceKind.NONE:
        raise DomainError("not_recurring", "Cette plage ne se répète pas : supprimez-la plutôt.")
    last = _date(last_date, "until", "Indiquez la date de la dernière occurrence.")
    if last < plage.first_date:
        raise DomainError(
            "until_before_first_date",
            f"La dernière occurrence ne peut pas précéder la première ({plage.first_date:%d/%m/%Y}) : "
            "supprimez plutôt la plage.",
            field="until",
        )
    if plage.until is not None and last >= plage.until:
        raise DomainError(
            "until_not_earlier",
            f"La série s'arrête déjà le {plage.until:%d/%m/%Y} : choisissez une date antérieure.",
            field="until",
        )
    old = plage.until
    plage.until = last
    plage.save(update_fields=["until"])
    plage.exceptions.filter(date__gt=last).delete()
    log_action(ctx.actor, "plage.ended", plage, {"until": [old, last]})


@transaction.atomic
def delete_plage(ctx: Context, plage: PlageOuverture) -> None:
    require(policies.can_manage_plage(ctx, plage))
    log_action(
        ctx.actor, "plage.deleted", plage, {"agent": plage.agent, "lieu": plage.lieu, "first_date": plage.first_date}
    )
    plage.delete()


# Absences --------------------------------------------------------------------------------------


def _absence_values(data: Mapping) -> dict:
    title = _text(
        data,
        "title",
        TITLE_MAX_LENGTH,
        "Donnez un titre à l'absence (par exemple « Congés » ou « Formation »).",
        f"Le titre ne doit pas dépasser {TITLE_MAX_LENGTH} caractères.",
    )
    first_date = _date(data.get("first_date"), "first_date", "Indiquez la date de début de l'absence.")
    end_date = _date(data.get("end_date"), "end_date", "") or first_date
    if data.get("whole_day"):
        start_time, end_time = WHOLE_DAY_START, WHOLE_DAY_END
    else:
        start_time = _time(
            data.get("start_time"), "start_time", "Indiquez l'heure de début (ou cochez « journée entière »)."
        )
        end_time = _time(data.get("end_time"), "end_time", "Indiquez l'heure de fin (ou cochez « journée entière »).")
    if (end_date, end_time) <= (first_date, start_time):
        raise DomainError(
            "end_before_start",
            f"La fin de l'absence ({end_date:%d/%m/%Y} {end_time:%H:%M}) doit être après son début "
            f"({first_date:%d/%m/%Y} {start_time:%H:%M}).",
            field="end_date" if end_date < first_date else "end_time",
        )
    recurrence = _recurrence(data, first_date)
    span = (end_date - first_date).days
    if recurrence["recurrence"] != RecurrenceKind.NONE and span >= MAX_RECURRING_ABSENCE_DAYS:
        raise DomainError(
            "recurring_absence_too_long",
            f"Une absence répétée dure au plus {MAX_RECURRING_ABSENCE_DAYS} jours : pour une absence plus longue, "
            "créez une absence sans répétition.",
            field="end_date",
        )
    return {
        "title": title,
        "first_date": first_date,
        "start_time": start_time,
        "end_date": end_date,
        "end_time": end_time,
        **recurrence,
    }


@transaction.atomic
def create_absence(ctx: Context, agent, data: Mapping) -> Absence:
    """An absence of `agent` in the context's organisation."""
    organisation = ctx.organisation
    require(policies.can_manage_agenda(ctx, agent))  # `agent` belongs to the organisation
    values = _absence_values(data)
    absence = Absence.objects.create(organisation=organisation, agent=agent, **values)
    log_action(ctx.actor, "absence.created", absence, {"agent": agent, **values})
    return absence


@transaction.atomic
def update_absence(ctx: Context, absence: Absence, data: Mapping) -> dict:
    require(policies.can_manage_absence(ctx, absence))
    values = _absence_values(data)
    changes = _diff(absence, values)
    if changes:
        for name, value in values.items():
            setattr(absence, name, value)
        absence.save()
        log_action(ctx.actor, "absence.updated", absence, changes)
    return changes


@transaction.atomic
def delete_absence(ctx: Context, absence: Absence) -> None:
    require(policies.can_manage_absence(ctx, absence))
    log_action(
        ctx.actor,
        "absence.deleted",
        absence,
        {
            "agent": absence.agent,
            "title": absence.title,
            "first_date": absence.first_date,
            "end_date": absence.end_date,
        },
    )
    absence.delete()
