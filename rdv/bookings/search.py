"""The agent-side search "trouver un créneau": the next free slots of a motif, grouped by day then agent.

It calls the one slot function (`rdv.bookings.availability.find_slots`) over two weeks from the chosen
date, then one more week at a time, up to three months, until a slot is found.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from rdv.accounts.models import Agent
from rdv.agendas.models import Lieu
from rdv.bookings.availability import find_slots, motifs_zone

FIRST_DAYS = 14
CHUNK_DAYS = 7
HORIZON_DAYS = 92


@dataclass
class FoundSlot:
    start: datetime  # local (the espace's time)
    end: datetime
    lieu: Lieu | None


@dataclass
class AgentSlots:
    """The free slots of one agent at one lieu on one day."""

    agent: Agent
    lieu: Lieu | None
    slots: list[FoundSlot] = field(default_factory=list)


@dataclass
class DaySlots:
    day: date
    agents: list[AgentSlots] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(group.slots) for group in self.agents)


@dataclass
class SearchResult:
    start_date: date
    end_date: date  # the last day searched
    days: list[DaySlots]

    @property
    def count(self) -> int:
        return sum(day.count for day in self.days)


def search_slots(
    motif,
    start_date: date,
    *,
    now: datetime | None = None,
    agent_ids=None,
    lieu_ids=None,
    holiday_zone: str = "",
    tz=None,
    first_days: int = FIRST_DAYS,
    chunk_days: int = CHUNK_DAYS,
    horizon_days: int = HORIZON_DAYS,
) -> SearchResult:
    now = now or timezone.now()
    tz = tz or motifs_zone([motif])
    start_date = max(start_date, timezone.localtime(now, tz).date())
    last_day = start_date + timedelta(days=horizon_days - 1)
    options = {"now": now, "agent_ids": agent_ids, "lieu_ids": lieu_ids, "holiday_zone": holiday_zone, "tz": tz}
    end = min(last_day, start_date + timedelta(days=first_days - 1))
    slots = find_slots([motif], start_date, end, **options)[motif.pk]
    while not slots and end < last_day:
        chunk_start = end + timedelta(days=1)
        end = min(last_day, end + timedelta(days=chunk_days))
        slots = find_slots([motif], chunk_start, end, **options)[motif.pk]
    return SearchResult(start_date, end, _group(slots, tz))


def _group(slots, tz) -> list[DaySlots]:
    if not slots:
        return []
    agents = Agent.objects.in_bulk({agent_id for slot in slots for agent_id in slot.agent_ids})
    lieux = Lieu.objects.in_bulk({slot.lieu_id for slot in slots if slot.lieu_id})
    by_day: dict[date, dict[tuple[int, int | None], AgentSlots]] = defaultdict(dict)
    for slot in slots:  # sorted by start
        start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
        lieu = lieux.get(slot.lieu_id)
        found = FoundSlot(start, end, lieu)
        for agent_id in slot.agent_ids:
            key = (agent_id, slot.lieu_id)
            group = by_day[start.date()].get(key)
            if group is None:
                group = by_day[start.date()][key] = AgentSlots(agents[agent_id], lieu)
            group.slots.append(found)

    def order(group: AgentSlots):
        return (group.agent.last_name, group.agent.first_name, group.agent.pk, group.lieu.name if group.lieu else "")

    return [DaySlots(day, sorted(groups.values(), key=order)) for day, groups in sorted(by_day.items())]
