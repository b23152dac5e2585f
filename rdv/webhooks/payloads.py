"""The JSON bodies of webhook events, in the established platform's format (its blueprints), so
that information systems that receive its webhooks keep their code:

    {"data": {…the record…}, "meta": {"model": "Rdv", "event": "created", "webhook_reason": null,
                                     "timestamp": "2027-03-09T10:00:00+01:00"}}

Field names and values follow its blueprints where a field exists here (statuses, location types
and `bookable_by` are the same words); fields it has and we do not (uuid, verticale, motif
categories, invitations) are sent as null so a receiver's parser finds every key. The mapping is
documented in docs/webhooks.md. Times are ISO 8601 in the espace's time zone.

`usager_fields`: the endpoint's selection of usager data (data minimisation); empty means all.
"""

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from icalendar import Calendar, Event, vRecur

from rdv.accounts.models import Agent, AgentRole
from rdv.agendas.models import Absence, Lieu, PlageOuverture, RecurrenceKind
from rdv.bookings.models import CANCELLED_STATUSES, CreatedBy, Participation, Rdv, RdvAgent
from rdv.motifs.models import LocationType, Motif
from rdv.territories.models import Organisation
from rdv.usagers.models import Usager
from rdv.webhooks.models import USAGER_FIELDS

CREATED_BY = {CreatedBy.AGENT: "agent", CreatedBy.USAGER: "user", CreatedBy.PRESCRIPTEUR: "prescripteur"}
CREATED_BY_TYPE = {CreatedBy.AGENT: "Agent", CreatedBy.USAGER: "User", CreatedBy.PRESCRIPTEUR: "Prescripteur"}
ICAL_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _moment(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clock(value: time | None) -> str | None:
    return value.strftime("%H:%M:%S") if value is not None else None


# Records -----------------------------------------------------------------------------------------


def organisation_data(organisation: Organisation) -> dict:
    return {"id": organisation.pk, "name": organisation.name, "phone_number": None, "email": None, "verticale": None}


def agent_data(agent: Agent) -> dict:
    return {
        "id": agent.pk,
        "first_name": agent.first_name,
        "last_name": agent.last_name,
        "email": agent.email,
        "inclusion_connect_open_id_sub": None,
    }


def lieu_data(lieu: Lieu | None) -> dict | None:
    if lieu is None:
        return None
    return {
        "id": lieu.pk,
        "name": lieu.name,
        "address": lieu.address,
        "phone_number": lieu.phone or None,
        "organisation_id": lieu.organisation_id,
        "single_use": False,
    }


def motif_data(motif: Motif, zone: ZoneInfo) -> dict:
    return {
        "id": motif.pk,
        "name": motif.name,
        "location_type": motif.location_type,
        "deleted_at": _moment(motif.archived_at, zone),
        "bookable_publicly": motif.bookable_online,
        "service_id": motif.service_id,
        "organisation_id": motif.organisation_id,
        "collectif": motif.collective,
        "follow_up": motif.follow_up,
        "instruction_for_rdv": motif.instructions_after,
        "bookable_by": motif.bookable_by,
        "motif_category": None,
    }


def _usager_address(usager: Usager) -> str:
    town = " ".join(part for part in (usager.postal_code, usager.city) if part)
    return ", ".join(part for part in (usager.address, town) if part)


def usager_data(usager: Usager, zone: ZoneInfo, fields=(), *, nested: bool = True) -> dict:
    """The usager (the established platform's « user »), limited to `fields` when given."""
    wanted = set(fields) if fields else set(USAGER_FIELDS)
    values = {
        "first_name": {"first_name": usager.first_name},
        "last_name": {"last_name": usager.last_name},
        "birth_name": {"birth_name": usager.birth_name or None},
        "birth_date": {"birth_date": _day(usager.birth_date)},
        "email": {"email": usager.email or None},
        "phone_number": {"phone_number": usager.phone or None, "phone_number_formatted": usager.phone or None},
        "address": {"address": _usager_address(usager) or None, "address_details": None},
        "responsible_id": {"responsible_id": usager.responsible_id},
        "affiliation_number": {"affiliation_number": usager.caf_number or None, "caisse_affiliation": None},
        "family_situation": {"family_situation": usager.family_situation or None},
        "number_of_children": {"number_of_children": usager.number_of_children},
        "case_number": {"case_number": usager.case_number or None},
        "logement": {"logement": usager.logement or None},
        "notes": {"notes": usager.notes or None},
        "notify_by_email": {"notify_by_email": usager.notify_by_email},
        "notify_by_sms": {"notify_by_sms": usager.notify_by_sms},
        "created_at": {"created_at": _moment(usager.created_at, zone)},
    }
    data = {"id": usager.pk}
    for name in USAGER_FIELDS:
        if name in wanted:
            data.update(values[name])
    if "first_name" in wanted or "last_name" in wanted:
        data["invitation_created_at"] = None
        data["invitation_accepted_at"] = None
    if nested and "responsible_id" in wanted:
        responsible = usager.responsible
        data["responsible"] = usager_data(responsible, zone, fields, nested=False) if responsible else None
    return data


def _address(rdv: Rdv) -> str:
    if rdv.motif.location_type == LocationType.PUBLIC_OFFICE and rdv.lieu is not None:
        return rdv.lieu.address
    if rdv.motif.location_type == LocationType.HOME:
        return rdv.address
    return ""


def rdv_data(rdv: Rdv, zone: ZoneInfo, fields=()) -> dict:
    """A RDV with its organisation, motif, lieu, agents and participations (`load_rdv`)."""
    participations = getattr(rdv, PARTICIPATIONS, None)
    if participations is None:  # a RDV not loaded by with_rdv_relations
        participations = list(rdv.participations.all())
    links = getattr(rdv, AGENT_LINKS, None)
    if links is None:
        links = list(rdv.agent_links.all())
    agents = [link.agent for link in links]
    users = [usager_data(p.usager, zone, fields) for p in participations]  # each twice in the body (read-only)
    created_by = CREATED_BY.get(rdv.created_by, rdv.created_by)
    cancelled = rdv.status in CANCELLED_STATUSES
    return {
        "id": rdv.pk,
        "uuid": None,
        "status": rdv.status,
        "starts_at": _moment(rdv.starts_at, zone),
        "ends_at": _moment(rdv.ends_at, zone),
        "duration_in_min": rdv.duration_minutes,
        "address": _address(rdv),
        "context": rdv.context if rdv.organisation.territory.rdv_field_enabled("context") else None,
        "cancelled_at": _moment(rdv.status_changed_at, zone) if cancelled else None,
        "max_participants_count": rdv.max_participants,
        "users_count": len(participations),
        "name": None,
        "collectif": rdv.collective,
        "created_by_type": CREATED_BY_TYPE.get(rdv.created_by, rdv.created_by),
        "created_by_id": rdv.created_by_agent_id if rdv.created_by == CreatedBy.AGENT else None,
        "created_by": created_by,
        "organisation": organisation_data(rdv.organisation),
        "motif": motif_data(rdv.motif, zone),
        "users": users,
        "participations": [
            {
                "id": p.pk,
                "status": p.status,
                "send_lifecycle_notifications": True,
                "send_reminder_notification": True,
                "created_by_type": CREATED_BY_TYPE.get(rdv.created_by, rdv.created_by),
                "created_by_id": None,
                "created_by_agent_prescripteur": False,
                "created_by": created_by,
                "user": user,
            }
            for p, user in zip(participations, users, strict=True)
        ],
        "agents": [agent_data(agent) for agent in agents],
        "lieu": lieu_data(rdv.lieu),
    }


def rrule(record, zone: ZoneInfo) -> str | None:
    """The recurrence of a plage or an absence as an iCalendar RRULE (null when it does not repeat).
    UNTIL is the end of the last day in UTC, as RFC 5545 requires with a DTSTART in a time zone."""
    if record.recurrence == RecurrenceKind.NONE:
        return None
    parts = ["FREQ=WEEKLY" if record.recurrence == RecurrenceKind.WEEKLY else "FREQ=MONTHLY"]
    if (record.recurrence_interval or 1) > 1:
        parts.append(f"INTERVAL={record.recurrence_interval}")
    if record.recurrence == RecurrenceKind.WEEKLY:
        days = sorted(record.recurrence_weekdays or [record.first_date.weekday()])
        parts.append("BYDAY=" + ",".join(ICAL_WEEKDAYS[day] for day in days))
    else:  # the same weekday of the month: its rank (2nd Tuesday) or the last one
        rank = -1 if record.recurrence_last_of_month else (record.first_date.day - 1) // 7 + 1
        parts.append(f"BYDAY={rank}{ICAL_WEEKDAYS[record.first_date.weekday()]}")
    if record.until is not None:
        end = datetime.combine(record.until, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
        parts.append(f"UNTIL={end:%Y%m%dT%H%M%SZ}")
    return ";".join(parts)


def ical_uid(record) -> str:
    kind = "plage_ouverture" if isinstance(record, PlageOuverture) else "absence"
    return f"{kind}_{record.pk}@{settings.SITE_URL.split('://', 1)[-1].split('/', 1)[0].split(':', 1)[0]}"


def ical_text(record, zone: ZoneInfo, summary: str, last_day: date) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Rendez-vous Public//webhooks//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", ical_uid(record))
    event.add("summary", summary)
    event.add("dtstart", datetime.combine(record.first_date, record.start_time, tzinfo=zone))
    event.add("dtend", datetime.combine(last_day, record.end_time, tzinfo=zone))
    rule = rrule(record, zone)
    if rule:
        event.add("rrule", vRecur.from_ical(rule))
    calendar.add_component(event)
    return calendar.to_ical().decode()


def plage_data(plage: PlageOuverture, zone: ZoneInfo) -> dict:
    return {
        "id": plage.pk,
        "ical_uid": ical_uid(plage),
        "title": plage.title,
        "first_day": _day(plage.first_date),
        "start_time": _clock(plage.start_time),
        "end_time": _clock(plage.end_time),
        "agent": agent_data(plage.agent),
        "organisation": organisation_data(plage.organisation),
        "lieu": lieu_data(plage.lieu),
        "motifs": [motif_data(motif, zone) for motif in plage.motifs.all()],
        "rrule": rrule(plage, zone),
        "ical": ical_text(plage, zone, plage.title or f"Plage d'ouverture · {plage.lieu.name}", plage.first_date),
    }


def absence_data(absence: Absence, zone: ZoneInfo) -> dict:
    return {
        "id": absence.pk,
        "ical_uid": ical_uid(absence),
        "title": absence.title,
        "first_day": _day(absence.first_date),
        "end_day": _day(absence.end_date),
        "start_time": _clock(absence.start_time),
        "end_time": _clock(absence.end_time),
        "agent": agent_data(absence.agent),
        "organisation": organisation_data(absence.organisation),
        "rrule": rrule(absence, zone),
        "ical": ical_text(absence, zone, absence.title, absence.end_date),
    }


def agent_role_data(role: AgentRole) -> dict:
    return {
        "id": role.pk,
        "access_level": role.access_level,
        "organisation": organisation_data(role.organisation),
        "agent": agent_data(role.agent),
    }


# Loading -------------------------------------------------------------------------------------------


# Where with_rdv_relations puts a RDV's participations and agent links: lists (`to_attr`). Without it,
# Django builds a filtered queryset per RDV and relation to hold what it prefetched (a fifth of a page
# of 100 RDVs of the API).
PARTICIPATIONS, AGENT_LINKS = "payload_participations", "payload_agent_links"


def with_rdv_relations(queryset):
    """`queryset` of RDVs with what `rdv_data` reads, in bulk: three queries for any number of RDVs
    (the RDVs with their organisation, espace, motif and lieu; their participations with the usagers
    and their responsibles; their agents)."""
    return queryset.select_related("organisation__territory", "motif", "lieu").prefetch_related(
        Prefetch(
            "participations",
            queryset=Participation.objects.select_related("usager__responsible").order_by("pk"),
            to_attr=PARTICIPATIONS,
        ),
        Prefetch("agent_links", queryset=RdvAgent.objects.select_related("agent").order_by("pk"), to_attr=AGENT_LINKS),
    )


def load_rdv(pk: int) -> Rdv | None:
    return with_rdv_relations(Rdv.objects.filter(pk=pk)).first()


def record_data(model: str, record, zone: ZoneInfo, fields=()) -> dict:
    """The `data` of an event about `record` (already loaded with `load`)."""
    if model == "Rdv":
        return rdv_data(record, zone, fields)
    if model == "User":
        return usager_data(record, zone, fields)
    if model == "PlageOuverture":
        return plage_data(record, zone)
    if model == "Absence":
        return absence_data(record, zone)
    if model == "Organisation":
        return organisation_data(record)
    if model == "Motif":
        return motif_data(record, zone)
    if model == "Lieu":
        return lieu_data(record)
    if model == "Agent":
        return agent_data(record)
    if model == "AgentRole":
        return agent_role_data(record)
    raise ValueError(f"Unknown webhook model {model!r}")


LOADERS = {
    "Rdv": load_rdv,
    "User": lambda pk: Usager.objects.select_related("responsible").filter(pk=pk).first(),
    "PlageOuverture": lambda pk: (
        PlageOuverture.objects.select_related("agent", "organisation", "lieu")
        .prefetch_related("motifs")
        .filter(pk=pk)
        .first()
    ),
    "Absence": lambda pk: Absence.objects.select_related("agent", "organisation").filter(pk=pk).first(),
    "Organisation": lambda pk: Organisation.objects.filter(pk=pk).first(),
    "Motif": lambda pk: Motif.objects.filter(pk=pk).first(),
    "Lieu": lambda pk: Lieu.objects.filter(pk=pk).first(),
    "Agent": lambda pk: Agent.objects.filter(pk=pk).first(),
    "AgentRole": lambda pk: AgentRole.objects.select_related("agent", "organisation").filter(pk=pk).first(),
}


def load(model: str, pk: int):
    return LOADERS[model](pk)


def body(data: dict, *, model: str, event: str, reason: str | None, timestamp: datetime, zone: ZoneInfo) -> str:
    """The exact text sent (and signed): compact JSON, UTF-8 characters kept."""
    envelope = {
        "data": data,
        "meta": {"model": model, "event": event, "webhook_reason": reason, "timestamp": _moment(timestamp, zone)},
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
