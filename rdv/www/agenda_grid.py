"""Geometry of the agenda's time grid (templates bookings/_agenda_grid*.html): the hours the grid
shows, where each block sits (in minutes from the top of the grid), side-by-side lanes for RDVs
that overlap, and the 30-minute cells that open the booking form.

Pure presentation over `rdv.bookings.selectors.build_agenda_grid`: no query here. Times are
wall-clock times of the current time zone (`timezone.localtime`), like the rest of the agenda.
"""

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper: hot loops
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from rdv.agendas.calendar import french_date

SLOT_MINUTES = 30  # one cell of the grid: what a click books
SNAP_MINUTES = 15  # a drag or a keyboard move steps by this much
DEFAULT_FIRST_HOUR = 8
DEFAULT_LAST_HOUR = 18
DAY_MINUTES = 24 * 60


@dataclass
class Block:
    """Something drawn in a column, from `top` for `span` minutes (both from the grid's top)."""

    item: object
    top: int
    span: int
    label: str  # "09:00–12:00", the real times (not clipped to the grid)
    lane: int = 0
    lanes: int = 1
    id: str = ""


@dataclass(slots=True)
class GridCell:
    id: str
    start: datetime
    label: str  # "10:30"
    top: int
    url: str  # the booking form, prefilled
    lieu: str  # the lieu of the plage holding the cell, if any


@dataclass
class Column:
    id: str
    day: date
    agent: object
    day_label: str  # "Mardi 9 mars"
    label: str  # "mardi 9 mars 2027, Bruno Petit": the column for a screen reader
    short_label: str  # "mardi 9 mars, Bruno Petit": in each half-hour's name (the heading has the year)
    holiday: str
    is_today: bool
    whole_day_absence: str  # the title of an absence covering the whole day, if any
    day_link: str = ""
    plages: list = field(default_factory=list)
    absences: list = field(default_factory=list)
    rdvs: list = field(default_factory=list)
    cells_html: str = ""  # the cells' <li>, escaped (a SafeString made by Placer._cells())
    rdvs_html: str = ""  # the RDVs' <li>, escaped (a SafeString made by rdvs_html())
    now_top: int | None = None  # the « now » line, in today's columns
    past_span: int = 0  # minutes from the top that are over (shaded)
    # What `cells` is built from, when read: (the Placer, the GridColumn, the plages' spans).
    cell_source: tuple | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def cells(self) -> list:
        """The half-hour cells as GridCells (start, label, link, lieu). Built when read: the page
        writes `cells_html` alone, computed without them (Placer._cells)."""
        placer, column, spans = self.cell_source
        return placer.grid_cells(column, spans)


@dataclass
class Frame:
    """What the whole grid shares: its hours, and whether it shows one day or one agent."""

    first_minute: int
    last_minute: int
    hours: list  # (label, top)
    single_day: bool
    single_agent: bool

    @property
    def height(self) -> int:
        return self.last_minute - self.first_minute


@dataclass
class Layout(Frame):
    """The frame and its placed columns (rdv.www.agenda_grid.layout)."""

    columns: list = field(default_factory=list)


def minute_of_day(moment: datetime, day: date, tz=None) -> int:
    """Minutes from the local midnight of `day` to `moment`, clamped to that day (0–1440); `tz`:
    the current time zone, when the caller has it already."""
    local = moment.astimezone(tz or timezone.get_current_timezone())
    if local.date() < day:
        return 0
    if local.date() > day:
        return DAY_MINUTES
    return local.hour * 60 + local.minute


def hhmm(moment: datetime, tz=None) -> str:
    return f"{moment.astimezone(tz or timezone.get_current_timezone()):%H:%M}"


def hour_range(columns: list) -> tuple[int, int]:
    """The whole hours the grid shows: 08:00–18:00 at least, stretched to every plage, RDV and
    partial absence of the period (whole-day absences shade the column whatever the hours)."""
    first, last = DEFAULT_FIRST_HOUR * 60, DEFAULT_LAST_HOUR * 60
    tz = timezone.get_current_timezone()
    for column in columns:
        items = [*column.plages, *column.rdvs, *(a for a in column.absences if not a.whole_day)]
        for item in items:
            start, end = minute_of_day(item.start, column.day, tz), minute_of_day(item.end, column.day, tz)
            first = min(first, start // 60 * 60)
            last = max(last, -(-end // 60) * 60)
    return max(0, first), min(DAY_MINUTES, last)


def assign_lanes(blocks: list) -> None:
    """Side by side: each block takes the first lane free at its start; blocks that overlap, even
    through others, share the same number of lanes."""
    cluster: list = []
    lane_ends: list[int] = []
    cluster_end = None

    def close():
        for block in cluster:
            block.lanes = len(lane_ends)

    for block in sorted(blocks, key=lambda b: (b.top, -b.span)):
        end = block.top + max(block.span, 1)
        if cluster_end is not None and block.top >= cluster_end:
            close()
            cluster, lane_ends = [], []
            cluster_end = None
        free = next((index for index, lane_end in enumerate(lane_ends) if lane_end <= block.top), None)
        if free is None:
            lane_ends.append(end)
            free = len(lane_ends) - 1
        else:
            lane_ends[free] = end
        block.lane = free
        cluster.append(block)
        cluster_end = end if cluster_end is None else max(cluster_end, end)
    close()


def _block(item, day: date, first: int, last: int, block_id: str = "", tz=None) -> Block:
    top = min(max(minute_of_day(item.start, day, tz), first), last) - first
    bottom = min(max(minute_of_day(item.end, day, tz), first), last) - first
    return Block(item, top, bottom - top, f"{hhmm(item.start, tz)}–{hhmm(item.end, tz)}", id=block_id)


class RdvUrls:
    """The three links of a RDV block, each reversed once per grid (a week shows hundreds of RDVs)."""

    SENTINEL = 2_147_483_647  # a RDV pk that stands for the real one in the reversed paths

    def __init__(self, organisation_id: int):
        self.parts = {
            name: reverse(name, args=[organisation_id, self.SENTINEL]).split(str(self.SENTINEL))
            for name in ("rdv_detail", "rdv_move", "agenda_move")
        }

    def __call__(self, name: str, pk: int) -> str:
        return str(pk).join(self.parts[name])


STATUS_BADGES = {"seen": " fr-badge--success", "noshow": " fr-badge--warning"}


def arrival_mark(rdv) -> str:
    """The « Arrivé(e) à » badge: what bookings/_arrival_mark.html writes (the polled update)."""
    if not rdv.arrived_at or rdv.is_cancelled:
        return ""
    return (
        '<p class="fr-badge fr-badge--sm fr-badge--success fr-badge--icon-left fr-icon-user-line">'
        f"Arrivé(e) à {timezone.localtime(rdv.arrived_at):%H:%M}</p>"
    )


def _rdv_html(block: Block, agent_id: int, urls: RdvUrls) -> str:
    item = block.item
    position = f"--top: {block.top}; --span: {block.span}; --lane: {block.lane}; --lanes: {block.lanes}"
    label = escape(block.label)
    if not item.visible:
        return (
            f'<li id="{escape(block.id)}" class="agenda-grid__rdv agenda-grid__rdv--busy" style="{position}"><p>'
            f'<span class="agenda-grid__rdv-time">{label}</span> Occupé '
            "<span class=\"fr-sr-only\">(rendez-vous d'un autre service ou d'une autre organisation)</span></p></li>"
        )
    rdv = item.rdv
    arrived = bool(rdv.arrived_at) and not rdv.is_cancelled
    classes = "agenda-grid__rdv"
    if block.lanes > 2:
        classes += " agenda-grid__rdv--narrow"
    if rdv.is_cancelled:
        classes += " agenda-grid__rdv--cancelled"
    if arrived:
        classes += " agenda-grid__rdv--arrived"
    movable = item.movable
    data = ""
    if movable:
        data = (
            f' data-rdv="{rdv.pk}" data-agent="{agent_id}" data-duration="{rdv.duration_minutes}"'
            f' data-move-url="{escape(urls("agenda_move", rdv.pk))}" data-form-url="{escape(urls("rdv_move", rdv.pk))}"'
        )
    names = escape(item.names) if item.usagers else ""
    parts = [
        f'<li id="{escape(block.id)}" class="{classes}"',
        f' style="{position}; --motif: {escape(str(rdv.motif.color))}"{data}>',
        f'<a class="agenda-grid__rdv-link" href="{escape(urls("rdv_detail", rdv.pk))}" draggable="false">',
        f'<span class="agenda-grid__rdv-time">{label}',
        ' <span class="agenda-grid__rdv-arrived fr-icon-user-line fr-icon--sm" aria-hidden="true"></span>'
        if arrived
        else "",
        f'</span> <span class="agenda-grid__rdv-motif">{escape(rdv.motif.name)}</span>',
    ]
    if names:
        parts.append(f' <span class="agenda-grid__rdv-names">{names}</span>')
    elif rdv.collective:
        parts.append(' <span class="agenda-grid__rdv-names">Collectif, aucun participant</span>')
    status = ""
    if rdv.status != "unknown":
        status = escape(str(rdv.get_status_display()))
        parts.append(f' <span class="fr-sr-only">({status})</span>')
    parts.append("</a>")
    if status:
        badge = " fr-badge--error" if rdv.is_cancelled else STATUS_BADGES.get(rdv.status, "")
        parts.append(f'<p class="fr-badge fr-badge--sm{badge}" aria-hidden="true">{status}</p>')
    # The « arrivé(e) » mark shows in every waiting-room mode; only its live update follows the setting.
    parts.append(f'<div class="arrivee-{rdv.pk}">{arrival_mark(rdv)}</div>')
    if movable:
        parts.append(
            '<a class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline fr-icon-drag-move-2-line agenda-grid__move"'
            f' href="{escape(urls("rdv_move", rdv.pk))}" draggable="false" title="Déplacer le rendez-vous de {label}">'
            f"Déplacer le rendez-vous de {label}{f' ({names})' if names else ''}</a>"
        )
    parts.append("</li>")
    return "".join(parts)


def rdvs_html(blocks: list, agent_id: int, urls: RdvUrls) -> SafeString:
    """The <li> of a column's RDVs, escaped, placed by their blocks (top, span, lane). RDVs the
    viewer may not see are only « Occupé ». Built here rather than by a template included once
    per RDV: a week of 12 agents shows hundreds."""
    return mark_safe("".join(_rdv_html(block, agent_id, urls) for block in blocks))  # noqa: S308 - escaped above


def agent_checkboxes(agents: list, selected_ids: set) -> SafeString:
    """The agenda page's choice of agents: one checkbox per agent of the organisation, escaped.
    Built here rather than by the template's loop: an organisation may have hundreds of agents, and
    the loop cost a tenth of the page."""
    return mark_safe(  # noqa: S308 - the names are escaped, the rest are numbers
        "".join(
            '<div class="fr-fieldset__element fr-fieldset__element--inline">'
            '<div class="fr-checkbox-group fr-checkbox-group--sm">'
            f'<input type="checkbox" name="agents" value="{agent.pk}" id="agenda-agent-{agent.pk}"'
            f"{' checked' if agent.pk in selected_ids else ''}>"
            f' <label class="fr-label" for="agenda-agent-{agent.pk}">{escape(str(agent))}</label></div></div>'
            for agent in agents
        )
    )


def frame(grid) -> Frame:
    first, last = hour_range(grid.columns)
    hours = [(f"{minute // 60:02d}:00", minute - first) for minute in range(first, last, 60)]
    return Frame(
        first,
        last,
        hours,
        single_day=len({column.day for column in grid.columns}) == 1,
        single_agent=len({column.agent.pk for column in grid.columns}) == 1,
    )


def now_marks(day: date, first: int, last: int, now: datetime) -> tuple[int, int | None]:
    """(minutes shaded from the top as over, the « now » line's top or None) of a column."""
    today = timezone.localtime(now).date()
    if day < today:
        return last - first, None
    if day > today:
        return 0, None
    minute = min(max(minute_of_day(now, day), first), last)
    return minute - first, (minute - first if first <= minute < last else None)


def now_html(past_span: int, now_top: int | None) -> str:
    """Between a column's <!--now--> markers: the shade of what is over and the « now » line. Not
    part of a column's signature: it moves with the clock, not with the agenda."""
    html = f'<div class="agenda-grid__past" style="--span: {past_span}"></div>' if past_span else ""
    if now_top is not None:
        html += f'<div class="agenda-grid__now" style="--top: {now_top}"></div>'
    return html


class Placer:
    """Places the columns of one grid (the links' bases reversed once)."""

    def __init__(self, organisation_id: int, grid_frame: Frame, *, now: datetime, day_links: dict | None = None):
        self.organisation_id = organisation_id
        self.frame = grid_frame
        self.now = now
        self.day_links = day_links or {}
        self.base = reverse("rdv_create", args=[organisation_id])
        self.rdv_urls = RdvUrls(organisation_id)
        self.tz = timezone.get_current_timezone()
        # Each half-hour of the grid: (minute of the day, "10:30", "1030", "10%3A30"), made once.
        self.times = [
            (
                minute,
                f"{minute // 60:02d}:{minute % 60:02d}",
                f"{minute // 60:02d}{minute % 60:02d}",
                f"{minute // 60:02d}%3A{minute % 60:02d}",
            )
            for minute in range(grid_frame.first_minute, grid_frame.last_minute, SLOT_MINUTES)
        ]

    def column(self, column) -> Column:
        first, last = self.frame.first_minute, self.frame.last_minute
        day_label = french_date(column.day).rsplit(" ", 1)[0].capitalize()  # the year is in the heading
        key = f"{column.agent.pk}-{column.day:%Y%m%d}"
        placed = Column(
            id=f"agenda-col-{key}",
            day=column.day,
            agent=column.agent,
            day_label=day_label,
            label=f"{french_date(column.day)}, {column.agent}",
            short_label=f"{french_date(column.day).rsplit(' ', 1)[0]}, {column.agent}",
            holiday=column.holiday,
            is_today=column.is_today,
            whole_day_absence=next((a.title for a in column.absences if a.whole_day), ""),
            day_link=self.day_links.get(column.day, ""),
        )
        day, tz = column.day, self.tz
        placed.plages = [_block(item, day, first, last, tz=tz) for item in column.plages]
        placed.absences = [_block(item, day, first, last, tz=tz) for item in column.absences]
        placed.rdvs = [
            _block(item, day, first, last, f"agenda-rdv-{item.rdv.pk}-{column.agent.pk}", tz) for item in column.rdvs
        ]
        assign_lanes(placed.rdvs)
        placed.rdvs_html = rdvs_html(placed.rdvs, column.agent.pk, self.rdv_urls)
        self._cells(placed, column)
        placed.past_span, placed.now_top = now_marks(column.day, first, last, self.now)
        return placed

    def _spans(self, placed: Column) -> list:
        """The plages of a column as (start, end, the query's tail, the lieu, the tail escaped, the
        lieu in the cell's name escaped)."""
        spans = []
        for block in placed.plages:
            item = block.item
            tail = f"&lieu={item.plage.lieu_id}"
            if len(item.motifs) == 1:
                tail += f"&motif={item.motifs[0].pk}"
            lieu = item.plage.lieu.name
            spans.append((item.start, item.end, tail, lieu, escape(tail), f", plage à {escape(lieu)}"))
        return spans

    def _wall(self, day: date, minute: int) -> datetime:
        """The instant of a wall-clock minute of `day`: what timezone.make_aware(datetime.combine(day,
        time(hour, minute))) gives, built directly."""
        hour, rest = divmod(minute, 60)
        return datetime(day.year, day.month, day.day, hour, rest, tzinfo=self.tz)

    @staticmethod
    def _span_at(spans: list, start: datetime):
        """The plage holding the instant `start`, if any."""
        return next((span for span in spans if span[0] <= start < span[1]), None)

    def grid_cells(self, column, spans: list) -> list:
        """The half-hour cells of `column` (a GridColumn) as GridCells: each a link to the booking
        form prefilled with the agent, the start (its wall-clock time) and, inside a plage, its
        lieu (and its motif when it offers only one), as urlencode() would write the query."""
        first = self.frame.first_minute
        day, agent_id = column.day, column.agent.pk
        key = f"{agent_id}-{day:%Y%m%d}"
        url_head = f"{self.base}?debut={day:%Y-%m-%d}T"
        cells = []
        for minute, label, digits, encoded in self.times:
            start = self._wall(day, minute)
            span = self._span_at(spans, start)
            url = f"{url_head}{encoded}&agent={agent_id}{span[2] if span else ''}"
            cells.append(GridCell(f"c{key}{digits}", start, label, minute - first, url, span[3] if span else ""))
        return cells

    def _cells(self, placed: Column, column) -> None:
        """The half-hour cells' HTML: what `grid_cells` says, written directly and escaped. The
        grid's hot loop (a week of 12 agents has about 2,000 cells): the times' texts are made
        once per grid, the escaped parts once per column, and, on a day of one UTC offset, a cell is
        in a plage when its second of the day is (no datetime per cell). A day whose offset changes
        (daylight saving) compares the cells' instants, as `grid_cells` does."""
        spans = self._spans(placed)
        placed.cell_source = (self, column, spans)
        day, agent_id = column.day, column.agent.pk
        midnight = self._wall(day, 0)
        if midnight.utcoffset() == self._wall(day, DAY_MINUTES - 1).utcoffset():
            zero = midnight.timestamp()
            bounds = [(span[0].timestamp() - zero, span[1].timestamp() - zero, span) for span in spans]
            chosen = [
                next((span for low, high, span in bounds if low <= minute * 60 < high), None)
                for minute, *_ in self.times
            ]
        else:
            chosen = [self._span_at(spans, self._wall(day, minute)) for minute, *_ in self.times]
        key = f"{agent_id}-{day:%Y%m%d}"
        where = escape(placed.short_label)
        href = f"{escape(self.base)}?debut={day:%Y-%m-%d}T"
        agent = f"&amp;agent={agent_id}"
        placed.cells_html = mark_safe(  # noqa: S308 - every interpolated text is escaped
            "".join(
                f'<li><a id="c{key}{digits}" class="agenda-grid__cell" href="{href}{encoded}{agent}'
                f'{span[4] if span else ""}"><span class="fr-sr-only">Réserver à {label}, {where}'
                f'{span[5] if span else ""}</span><span aria-hidden="true">+ {label}</span></a></li>'
                for (_, label, digits, encoded), span in zip(self.times, chosen, strict=True)
            )
        )


def layout(grid, organisation_id: int, *, now: datetime | None = None, day_links: dict | None = None) -> Layout:
    """Place everything of `grid` (rdv.bookings.selectors.AgendaGrid)."""
    grid_frame = frame(grid)
    placer = Placer(organisation_id, grid_frame, now=now or timezone.now(), day_links=day_links)
    columns = [placer.column(column) for column in grid.columns]
    return Layout(**vars(grid_frame), columns=columns)


# A column's signature: everything its HTML is made of, apart from the « now » marks -----------------


def _motif_signature(motif) -> tuple:
    return (motif.pk, str(motif))


def _rdv_signature(item) -> tuple:
    rdv = item.rdv
    if not item.visible:  # « Occupé »: its times only
        return (rdv.pk, item.start, item.end, False)
    return (
        rdv.pk,
        item.start,
        item.end,
        True,
        item.movable,
        rdv.status,
        rdv.is_cancelled,
        rdv.arrived_at,
        rdv.collective,
        rdv.duration_minutes,
        rdv.motif.name,
        rdv.motif.color,
        bool(item.usagers),
        item.names,
    )


def column_signature(column, organisation_id: int, grid_frame: Frame, day_link: str) -> str:
    """A digest of everything the HTML of `column` (a GridColumn) is made of, but the « now » marks:
    two columns with the same signature have the same HTML. Times are written in the current time
    zone, which is part of it; so is the code that writes them (CODE_VERSION)."""
    parts = (
        code_version(),
        str(timezone.get_current_timezone()),
        organisation_id,
        grid_frame.first_minute,
        grid_frame.last_minute,
        grid_frame.single_day,
        grid_frame.single_agent,
        column.day,
        column.agent.pk,
        str(column.agent),
        column.holiday,
        column.is_today,
        day_link,
        [
            (p.start, p.end, p.plage.lieu_id, p.plage.lieu.name, [_motif_signature(m) for m in p.motifs])
            for p in column.plages
        ],
        [(a.title, a.start, a.end, a.whole_day) for a in column.absences],
        [_rdv_signature(item) for item in column.rdvs],
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


NOW_OPEN, NOW_CLOSE = "<!--now-->", "<!--/now-->"
NOW_MARKERS = NOW_OPEN + NOW_CLOSE


def _column_heading(column: Column, grid_frame: Frame) -> str:
    day_label = escape(column.day_label)
    agent = escape(str(column.agent))
    if grid_frame.single_day:
        day = f'<span class="fr-sr-only">{day_label},</span>'
    elif column.day_link:
        day = f'<a href="{escape(column.day_link)}">{day_label}</a>'
    else:
        day = day_label
    if grid_frame.single_agent and not grid_frame.single_day:
        who = f'<span class="fr-sr-only">, {agent}</span>'
    else:
        who = f'<span class="agenda-grid__agent">{agent}</span>'
    badges = ""
    if column.is_today and not grid_frame.single_day:
        badges += ' <p class="fr-badge fr-badge--sm fr-badge--info">Aujourd\'hui</p>'
    if column.holiday:
        badges += f' <p class="fr-badge fr-badge--sm">Jour férié : {escape(column.holiday)}</p>'
    if column.whole_day_absence:
        absence = escape(column.whole_day_absence)
        badges += f' <p class="fr-badge fr-badge--sm fr-badge--warning">Absence : {absence}</p>'
    return (
        f'<div class="agenda-grid__head"> <h2 class="agenda-grid__title" id="{escape(column.id)}-titre"> {day} {who}'
        f" </h2>{badges} </div>"
    )


def _plage_html(block: Block) -> str:
    item = block.item
    motifs = ", ".join(escape(str(motif)) for motif in item.motifs)
    return (
        f'<div class="agenda-grid__plage" style="--top: {block.top}; --span: {block.span}"> <p>'
        f" Plage {escape(block.label)} · {escape(item.plage.lieu.name)}"
        f' <span class="fr-sr-only">(motifs : {motifs})</span> </p> </div>'
    )


def _absence_html(block: Block) -> str:
    item = block.item
    when = "toute la journée" if item.whole_day else escape(block.label)
    return (
        f'<div class="agenda-grid__absence" style="--top: {block.top}; --span: {block.span}"> <p>'
        f" <strong>Absence</strong> : {escape(item.title)} · {when} </p> </div>"
    )


def column_html(column: Column, grid_frame: Frame) -> str:
    """The HTML of a placed column (one day of one agent), escaped, with the « now » marks' place
    between NOW_MARKERS. Built here rather than by a template: a week of 12 agents has 84 columns,
    and the template engine took a fifth of a cold week's time. Cached by the column's signature
    (column_signature): everything written here must come from what the signature covers."""
    classes = "agenda-grid__col"
    if column.is_today:
        classes += " agenda-grid__col--today"
    if column.holiday:
        classes += " agenda-grid__col--holiday"
    if column.whole_day_absence:
        classes += " agenda-grid__col--absent"
    parts = [
        f'<section class="{classes}" aria-labelledby="{escape(column.id)}-titre"> ',
        _column_heading(column, grid_frame),
        f' <div class="agenda-grid__body" data-day="{column.day:%Y-%m-%d}" data-agent="{column.agent.pk}"'
        f' data-label="{escape(column.label)}">',
    ]
    parts += [f" {_plage_html(block)}" for block in column.plages]
    parts += [f" {_absence_html(block)}" for block in column.absences]
    parts.append(f' <ul class="agenda-grid__cells">{column.cells_html}</ul>')
    if column.rdvs:
        parts.append(f' <ul class="agenda-grid__rdvs"> {column.rdvs_html} </ul>')
    parts.append(f" {NOW_MARKERS} </div> </section>")
    return "".join(parts)


def code_version() -> str:
    """Changes with this module: cached columns of an older release are never served by a newer one
    (a shared cache outlives a deployment). Read again at each call with DEBUG on, where the code
    is edited while the server runs."""
    return _code_version() if not settings.DEBUG else _code_version.__wrapped__()


@functools.cache
def _code_version() -> str:
    return hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()
