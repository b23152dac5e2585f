"""The agent-side search « Trouver un créneau »: the free times of a motif, one week at a time.

The slots come from the one slot function (`rdv.bookings.availability.find_slots`), which already
groups the free agents of each start time and lieu: a week is one call. The page lists, day by day,
each free time with its lieu and its free agents; « Réserver » books it with one of them (the agent
searching when free, otherwise the first by name). An empty week says when the next free slot is,
looking one week ahead, then four, then up to three months (at most three more calls of the same
function). Queries: those of `find_slots` per call, plus the agents and lieux found (two).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from rdv.accounts.models import Agent
from rdv.agendas.models import Lieu
from rdv.availability.slots import Slot
from rdv.bookings.availability import find_slots, motifs_zone

HORIZON_DAYS = 92  # how far after the week the next availability is looked for
NEXT_CHUNKS = (7, 28, HORIZON_DAYS)  # the next availability: one week ahead, then four, then the horizon
NAMES_SHOWN = 8  # free agents named per time; the others are counted


@dataclass
class FreeTime:
    """A start time at a lieu with the agents free then, by name."""

    start: datetime  # local (the espace's time)
    end: datetime
    lieu: Lieu | None
    agents: list[Agent]
    agent: Agent  # the one « Réserver » books

    @property
    def shown_agents(self) -> list[Agent]:
        return self.agents[:NAMES_SHOWN]

    @property
    def hidden_count(self) -> int:
        return max(0, len(self.agents) - NAMES_SHOWN)


@dataclass
class DayTimes:
    day: date
    times: list[FreeTime] = field(default_factory=list)


@dataclass
class NextSlot:
    start: datetime  # local
    lieu: Lieu | None
    agent_count: int

    @property
    def week(self) -> date:
        return self.start.date() - timedelta(days=self.start.weekday())


@dataclass
class WeekResult:
    monday: date
    sunday: date
    first_day: date  # the first day searched: today when the week has begun
    days: list[DayTimes]  # every day from first_day to sunday, free times or not
    previous_week: date | None = None  # the Monday before, unless this is the current week
    next_slot: NextSlot | None = None  # when the week has no free time: the first one after it
    horizon: date | None = None  # how far the next availability was looked for

    @property
    def count(self) -> int:
        """Free times (start × lieu) of the week."""
        return sum(len(day.times) for day in self.days)

    @property
    def agent_slot_count(self) -> int:
        """Free slots counted per agent."""
        return sum(len(time.agents) for day in self.days for time in day.times)

    @property
    def next_week(self) -> date:
        return self.monday + timedelta(days=7)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def search_week(
    motif,
    day: date,
    *,
    now: datetime | None = None,
    agent_ids=None,
    lieu_ids=None,
    holiday_zone: str = "",
    viewer_id: int | None = None,
    tz=None,
) -> WeekResult:
    """The free times of `motif` in the week (Monday to Sunday) of `day`, from today on, in the
    espace's time (`tz`, read from the motif when not given); a week before the current one is read
    as the current one."""
    now = now or timezone.now()
    tz = tz or motifs_zone([motif])
    today = timezone.localtime(now, tz).date()
    monday = monday_of(max(day, today))
    sunday = monday + timedelta(days=6)
    first_day = max(monday, today)
    options = {"now": now, "agent_ids": agent_ids, "lieu_ids": lieu_ids, "holiday_zone": holiday_zone, "tz": tz}
    slots = find_slots([motif], first_day, sunday, **options)[motif.pk]
    result = WeekResult(monday, sunday, first_day, _by_day(slots, first_day, sunday, viewer_id, tz))
    if monday > monday_of(today):
        result.previous_week = monday - timedelta(days=7)
    if not slots:
        result.horizon = sunday + timedelta(days=HORIZON_DAYS)
        first = first_slot_after(motif, sunday, **options)
        if first is not None:
            lieu = Lieu.objects.filter(pk=first.lieu_id).first() if first.lieu_id else None
            result.next_slot = NextSlot(first.start.astimezone(tz), lieu, len(first.agent_ids))
    return result


def first_slot_after(motif, day: date, **options) -> Slot | None:
    """The first free slot of `motif` for agents after the local date `day` (exclusive), looking
    one week ahead, then four, then `HORIZON_DAYS` (one `find_slots` call per step; `options`:
    now, agent_ids, lieu_ids, holiday_zone, tz), or None."""
    start = day + timedelta(days=1)
    for days in NEXT_CHUNKS:
        end = day + timedelta(days=days)
        found = find_slots([motif], start, end, **options)[motif.pk]
        if found:
            return found[0]
        start = end + timedelta(days=1)
    return None


def _by_day(slots, first_day: date, last_day: date, viewer_id: int | None, tz) -> list[DayTimes]:
    days = {}
    day = first_day
    while day <= last_day:
        days[day] = DayTimes(day)
        day += timedelta(days=1)
    if not slots:
        return list(days.values())
    agents = sorted(
        Agent.objects.filter(pk__in={agent_id for slot in slots for agent_id in slot.agent_ids}).only(
            "pk", "first_name", "last_name", "email"
        ),
        key=lambda agent: (agent.last_name, agent.first_name, agent.email, agent.pk),
    )
    rank = {agent.pk: index for index, agent in enumerate(agents)}
    by_id = {agent.pk: agent for agent in agents}
    lieux = Lieu.objects.in_bulk({slot.lieu_id for slot in slots if slot.lieu_id})
    for slot in slots:  # by start, then lieu
        start = slot.start.astimezone(tz)
        free = [by_id[agent_id] for agent_id in sorted(slot.agent_ids, key=rank.__getitem__)]
        chosen = by_id[viewer_id] if viewer_id in slot.agent_ids else free[0]
        if start.date() in days:
            days[start.date()].times.append(
                FreeTime(start, slot.end.astimezone(tz), lieux.get(slot.lieu_id), free, chosen)
            )
    for day_times in days.values():
        day_times.times.sort(key=lambda time: (time.start, time.lieu.name if time.lieu else ""))
    return list(days.values())
