"""Geometry of the agenda's time grid (rdv.www.agenda_grid): the hours shown, where blocks sit,
lanes for overlapping RDVs, the half-hour cells and their booking links, the « now » line.

Pure functions over plain objects: no database."""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django.utils import timezone

from rdv.www.agenda_grid import Block, assign_lanes, hour_range, layout

PARIS = timezone.get_default_timezone()
DAY = date(2027, 3, 9)


class Agent(SimpleNamespace):
    def __str__(self):
        return self.name


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def rdv(pk, start, end):
    return SimpleNamespace(rdv=SimpleNamespace(pk=pk), start=start, end=end, visible=False)  # « Occupé »


def plage(start, end, motifs=(1,), lieu_id=3, lieu="MDS Centre"):
    return SimpleNamespace(
        start=start,
        end=end,
        plage=SimpleNamespace(lieu_id=lieu_id, lieu=SimpleNamespace(name=lieu)),
        motifs=[SimpleNamespace(pk=pk) for pk in motifs],
    )


def absence(start, end, whole_day=False, title="Formation"):
    return SimpleNamespace(start=start, end=end, whole_day=whole_day, title=title)


def column(day=DAY, plages=(), absences=(), rdvs=(), is_today=False, agent=None):
    return SimpleNamespace(
        day=day,
        agent=agent or Agent(pk=7, name="Bruno Petit"),
        holiday="",
        is_today=is_today,
        plages=list(plages),
        absences=list(absences),
        rdvs=list(rdvs),
    )


def grid(*columns):
    return SimpleNamespace(columns=list(columns))


def test_the_grid_shows_8_to_18_at_least_and_stretches_to_whole_hours():
    assert hour_range([column()]) == (8 * 60, 18 * 60)
    early_late = column(rdvs=[rdv(1, at(7, 30), at(8)), rdv(2, at(18, 10), at(18, 40))])
    assert hour_range([early_late]) == (7 * 60, 19 * 60)
    # A whole-day absence shades the column but does not stretch the hours; a partial one does.
    assert hour_range([column(absences=[absence(at(0), at(23, 59), whole_day=True)])]) == (480, 1080)
    assert hour_range([column(absences=[absence(at(6), at(9))])]) == (360, 1080)
    # A RDV crossing midnight stretches its day to 24:00, never beyond.
    assert hour_range([column(rdvs=[rdv(1, at(23), at(1, day=DAY + timedelta(days=1)))])]) == (480, 1440)


def test_overlapping_blocks_share_lanes_and_separate_groups_do_not():
    blocks = [Block(None, top, span, "") for top, span in ((0, 30), (15, 30), (30, 30), (120, 30), (120, 60))]
    assign_lanes(blocks)
    # 0–30 and 15–45 overlap; 30–60 overlaps the second only and takes the first lane again.
    assert [(b.lane, b.lanes) for b in blocks[:3]] == [(0, 2), (1, 2), (0, 2)]
    # 120–150 and 120–180: a group of their own (the longest first).
    assert [(b.lane, b.lanes) for b in blocks[3:]] == [(1, 2), (0, 2)]
    single = [Block(None, 0, 30, ""), Block(None, 30, 30, "")]  # touching is not overlapping
    assign_lanes(single)
    assert [(b.lane, b.lanes) for b in single] == [(0, 1), (0, 1)]


def test_blocks_are_placed_in_minutes_from_the_top_and_clipped_to_the_day():
    yesterday = DAY - timedelta(days=1)
    placed = layout(
        grid(
            column(
                plages=[plage(at(9), at(12))],
                rdvs=[rdv(1, at(10), at(10, 45)), rdv(2, at(23, day=yesterday), at(9, 30))],
                absences=[absence(at(14), at(17))],
            )
        ),
        organisation_id=1,
        now=at(7),
    )
    (col,) = placed.columns
    # The RDV that began the day before covers the day from midnight: the grid starts at 00:00.
    assert (placed.first_minute, placed.last_minute) == (0, 18 * 60)
    assert [(b.top, b.span, b.label) for b in col.plages] == [(540, 180, "09:00–12:00")]
    assert [(b.top, b.span, b.label) for b in col.absences] == [(840, 180, "14:00–17:00")]
    # Clipped to the day, its label keeps its real times.
    assert [(b.top, b.span, b.label, b.id) for b in col.rdvs] == [
        (600, 45, "10:00–10:45", "agenda-rdv-1-7"),
        (0, 570, "23:00–09:30", "agenda-rdv-2-7"),
    ]
    assert [(b.lane, b.lanes) for b in col.rdvs] == [(0, 1), (0, 1)]  # 00:00–09:30 and 10:00–10:45
    # Without it, the grid starts at 08:00 and the plage one hour below the top.
    plain = layout(grid(column(plages=[plage(at(9), at(12))])), organisation_id=1, now=at(7)).columns[0]
    assert [(b.top, b.span) for b in plain.plages] == [(60, 180)]


def test_every_half_hour_is_a_booking_link_prefilled_with_the_agent_the_time_and_the_plage():
    placed = layout(
        grid(column(plages=[plage(at(9), at(12), motifs=(4,))], is_today=True)), organisation_id=1, now=at(9, 40)
    )
    (col,) = placed.columns
    assert len(col.cells) == 20
    by_label = {cell.label: cell for cell in col.cells}
    create = reverse("rdv_create", args=[1])

    def query(cell):
        parts = urlsplit(cell.url)
        assert parts.path == create
        return {key: values[0] for key, values in parse_qs(parts.query).items()}

    assert query(by_label["08:30"]) == {"debut": "2027-03-09T08:30", "agent": "7"}
    assert query(by_label["09:00"]) == {"debut": "2027-03-09T09:00", "agent": "7", "lieu": "3", "motif": "4"}
    assert by_label["11:30"].lieu == "MDS Centre" and by_label["12:00"].lieu == ""
    assert (by_label["10:00"].top, by_label["10:00"].id) == (120, "c7-202703091000")
    assert (col.now_top, col.past_span) == (100, 100)  # 09:40: the line, and the shade of what is over
    # A plage with several motifs prefills its lieu only.
    several = layout(grid(column(plages=[plage(at(9), at(12), motifs=(4, 5))])), organisation_id=1, now=at(7))
    assert "motif" not in query(several.columns[0].cells[2])


def test_the_now_line_is_in_todays_columns_only_and_within_the_hours():
    yesterday, today, tomorrow = (column(day=DAY + timedelta(days=n), is_today=n == 0) for n in (-1, 0, 1))
    placed = layout(grid(yesterday, today, tomorrow), organisation_id=1, now=at(12))
    assert [c.now_top for c in placed.columns] == [None, 240, None]
    assert [c.past_span for c in placed.columns] == [600, 240, 0]  # a past day is shaded whole
    evening = layout(grid(column(is_today=True)), organisation_id=1, now=at(21)).columns[0]
    assert (evening.now_top, evening.past_span) == (None, 600)


def test_columns_say_which_day_and_agent_they_are():
    alice, bruno = Agent(pk=1, name="Alice Martin"), Agent(pk=2, name="Bruno Petit")
    one_day = layout(grid(column(agent=alice), column(agent=bruno)), organisation_id=1, now=at(7))
    assert (one_day.single_day, one_day.single_agent) == (True, False)
    assert [c.label for c in one_day.columns] == ["mardi 9 mars 2027, Alice Martin", "mardi 9 mars 2027, Bruno Petit"]
    assert one_day.columns[0].short_label == "mardi 9 mars, Alice Martin"
    assert one_day.columns[0].day_label == "Mardi 9 mars"
    links = {DAY: "/agenda/?vue=jour"}
    week = layout(
        grid(column(agent=bruno), column(day=DAY + timedelta(days=1), agent=bruno)),
        organisation_id=1,
        now=at(7),
        day_links=links,
    )
    assert (week.single_day, week.single_agent) == (False, True)
    assert [c.day_link for c in week.columns] == ["/agenda/?vue=jour", ""]
    assert [c.id for c in week.columns] == ["agenda-col-2-20270309", "agenda-col-2-20270310"]
    assert week.hours[0] == ("08:00", 0) and week.hours[-1] == ("17:00", 540) and week.height == 600


# The grid's hot loop: cells and links built in Python must equal what the template loop and
# urlencode() wrote before (a week of 12 agents has about 2,000 cells).
REFERENCE_CELLS = (
    "{% spaceless %}{% for cell in cells %}<li>"
    '<a id="{{ cell.id }}" class="agenda-grid__cell" href="{{ cell.url }}"><span class="fr-sr-only">'
    "Réserver à {{ cell.label }}, {{ short_label }}{% if cell.lieu %}, plage à {{ cell.lieu }}{% endif %}</span>"
    '<span aria-hidden="true">+ {{ cell.label }}</span></a></li>{% endfor %}{% endspaceless %}'
)


def test_cells_html_equals_the_template_loop_it_replaces_with_everything_escaped():
    from django.template import Context, Template

    tricky = plage(at(9), at(12), motifs=(4,), lieu='MDS <Nord> & « Sud » "A"')
    col = column(plages=[tricky], agent=Agent(pk=8, name="Zoé <O'Brien> & Cie"))
    placed = layout(grid(col), organisation_id=5).columns[0]
    expected = Template(REFERENCE_CELLS).render(Context({"cells": placed.cells, "short_label": placed.short_label}))
    assert "&lt;Nord&gt; &amp; « Sud » &quot;A&quot;" in expected  # the reference escapes what it must
    assert "&lt;O&#x27;Brien&gt;" in expected
    assert str(placed.cells_html) == expected
    assert len(placed.cells) == 20


def test_booking_links_equal_urlencode_on_dst_days_inside_and_outside_plages():
    from urllib.parse import urlencode

    create = reverse("rdv_create", args=[5])
    for day in (date(2027, 3, 28), date(2027, 10, 31), DAY):  # spring forward, fall back, ordinary
        col = column(
            day=day,
            plages=[
                plage(at(9, day=day), at(12, day=day), motifs=(4,)),
                plage(at(14, day=day), at(16, day=day), motifs=(4, 6), lieu_id=8),  # several motifs: the lieu only
            ],
            rdvs=[rdv(1, at(0, day=day), at(23, 59, day=day))],  # the grid shows the whole day
        )
        placed = layout(grid(col), organisation_id=5, now=at(7)).columns[0]
        assert len(placed.cells) == 48
        for cell in placed.cells:
            wall = time.fromisoformat(cell.label)
            start = timezone.make_aware(datetime.combine(day, wall))
            tail = []
            if time(9) <= wall < time(12):
                tail = [("lieu", 3), ("motif", 4)]
            elif time(14) <= wall < time(16):
                tail = [("lieu", 8)]
            params = [("debut", f"{timezone.localtime(start):%Y-%m-%dT%H:%M}"), ("agent", 7), *tail]
            assert cell.url == f"{create}?{urlencode(params)}", cell.label


# RDV blocks built in Python (rdvs_html) must equal, up to whitespace between tags, the template
# they replace (bookings/_agenda_grid_rdv.html, kept here as the reference).
REFERENCE_RDV = (Path(__file__).parent / "reference_agenda_grid_rdv.html").read_text()


def _normalised(html: str) -> str:
    import re

    return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


def _rdv_item(pk, *, visible=True, status="unknown", arrived=None, usagers=(), collective=False, color="#0063cb"):
    from rdv.bookings.models import CANCELLED_STATUSES, RdvStatus

    labels = dict(RdvStatus.choices)
    rdv_ = SimpleNamespace(
        pk=pk,
        status=status,
        is_cancelled=status in CANCELLED_STATUSES,
        arrived_at=arrived,
        duration_minutes=45,
        collective=collective,
        motif=SimpleNamespace(name="Suivi <RSA> & « aide »", color=color),
        get_status_display=lambda: labels[status],
    )
    item = SimpleNamespace(rdv=rdv_, visible=visible, usagers=list(usagers))
    item.names = ", ".join(usagers)
    item.movable = visible and not rdv_.is_cancelled
    return item


def test_rdv_blocks_equal_the_template_they_replace_in_every_state():
    from django.template import Context, Template

    from rdv.bookings.models import RdvStatus
    from rdv.www.agenda_grid import RdvUrls, rdvs_html

    items = [
        _rdv_item(11, usagers=["Jeanne <DUPONT>", "Zoé O'Brien"]),
        _rdv_item(12, visible=False),
        _rdv_item(13, status=RdvStatus.SEEN, arrived=at(9, 5), usagers=["Ali BEN"]),
        _rdv_item(14, status=RdvStatus.EXCUSED, arrived=at(9, 5), usagers=["Ali BEN"]),
        _rdv_item(15, status=RdvStatus.NOSHOW, collective=True),
        _rdv_item(16, status=RdvStatus.REVOKED, collective=True, usagers=["Léa & Max"]),
        _rdv_item(17, arrived=at(23, 59), color='"><script>'),
    ]
    assert {item.rdv.status for item in items} == set(RdvStatus.values)
    blocks = [
        Block(item, 60 * n, 45, f"{8 + n:02d}:00–{8 + n:02d}:45", id=f"agenda-rdv-{item.rdv.pk}-7")
        for n, item in enumerate(items)
    ]
    blocks[0].lanes, blocks[1].lanes, blocks[1].lane = 3, 3, 2  # narrow blocks, side by side
    with timezone.override(PARIS):
        built = str(rdvs_html(blocks, 7, RdvUrls(5)))
        expected = "".join(
            Template(REFERENCE_RDV).render(
                Context(
                    {
                        "block": block,
                        "column": SimpleNamespace(agent=SimpleNamespace(pk=7)),
                        "organisation": SimpleNamespace(pk=5),
                    }
                )
            )
            for block in blocks
        )
    assert "&lt;RSA&gt; &amp; « aide »" in expected and "Arrivé(e) à 09:05" in expected  # the reference escapes
    assert "&quot;&gt;&lt;script&gt;" in expected and "<script>" not in built
    assert _normalised(built) == _normalised(expected)
    assert built.count("<li ") == len(items)


# The cached columns: a column's signature covers everything its HTML shows ------------------------


class Named(SimpleNamespace):
    """A motif or an agent: shown by its name, as the models' __str__ do."""

    def __str__(self):
        return self.name


def _rich_column():
    from rdv.bookings.models import RdvStatus

    labels = dict(RdvStatus.choices)

    def rdv_item(pk, start, end, *, visible=True, status="unknown", arrived=None, usagers=(), collective=False):
        rdv_ = SimpleNamespace(
            pk=pk,
            status=status,
            is_cancelled=status in ("excused", "revoked"),
            arrived_at=arrived,
            duration_minutes=int((end - start).total_seconds() // 60),
            collective=collective,
            motif=SimpleNamespace(name="Suivi RSA", color="#0063cb"),
        )
        rdv_.get_status_display = lambda: labels[rdv_.status]
        return SimpleNamespace(
            rdv=rdv_,
            visible=visible,
            movable=visible and status not in ("excused", "revoked"),
            start=start,
            end=end,
            usagers=list(usagers),
            names=", ".join(usagers),
        )

    return SimpleNamespace(
        day=DAY,
        agent=Named(pk=7, name="Bruno Petit"),
        holiday="",
        is_today=True,
        plages=[
            SimpleNamespace(
                start=at(9),
                end=at(12),
                plage=SimpleNamespace(lieu_id=3, lieu=SimpleNamespace(name="MDS Centre")),
                motifs=[Named(pk=4, name="Suivi RSA (sur place)")],
            ),
            SimpleNamespace(
                start=at(14),
                end=at(16),
                plage=SimpleNamespace(lieu_id=5, lieu=SimpleNamespace(name="MDS Nord")),
                motifs=[Named(pk=4, name="Suivi RSA (sur place)"), Named(pk=6, name="Bilan (sur place)")],
            ),
        ],
        absences=[SimpleNamespace(title="Formation", start=at(17), end=at(18), whole_day=False)],
        rdvs=[
            rdv_item(11, at(9), at(9, 30), usagers=["Jeanne DUPONT"]),
            rdv_item(12, at(9, 15), at(10), status="seen", arrived=at(9, 5), usagers=["Ali BEN"]),
            rdv_item(13, at(10), at(10, 30), visible=False),
            rdv_item(14, at(11), at(11, 30), status="noshow", collective=True),
        ],
    )


def _leaves(node, path=()):
    """Every (path, value) of the plain data under a test column (namespaces and lists)."""
    if isinstance(node, SimpleNamespace):
        for name, value in vars(node).items():
            if not callable(value):
                yield from _leaves(value, (*path, name))
    elif isinstance(node, list):
        yield path, node  # the list itself: dropping its last item
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _mutated(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(minutes=15)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, list):
        return value[:-1]
    if value is None:
        return at(9, 20)
    raise AssertionError(f"no mutation for {value!r}")


def _set(root, path, value):
    import copy

    root = copy.deepcopy(root)
    node = root
    for step in path[:-1]:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    if isinstance(path[-1], int):
        node[path[-1]] = value
    else:
        setattr(node, path[-1], value)
    return root


def test_two_columns_with_one_signature_have_one_html_whatever_changes_in_them():
    """The oracle of the agenda's column cache: every piece of data of a column is changed in turn
    (and the grid's frame, the organisation, the day link, the time zone); whenever its HTML
    changes, its signature does."""
    from rdv.www.agenda_grid import Frame, Placer, column_html, column_signature

    def html_and_signature(column, frame=None, organisation_id=1, day_link="/agenda/?vue=jour"):
        frame = frame or Frame(480, 1080, [], single_day=False, single_agent=False)
        placer = Placer(organisation_id, frame, now=at(7), day_links={column.day: day_link})
        html = column_html(placer.column(column), frame)
        return html, column_signature(column, organisation_id, frame, day_link)

    base = _rich_column()
    base_html, base_signature = html_and_signature(base)
    seen = changed = 0
    for path, value in list(_leaves(base)):
        html, signature = html_and_signature(_set(base, path, _mutated(value)))
        seen += 1
        if html != base_html:
            changed += 1
            assert signature != base_signature, f"{'.'.join(map(str, path))} changes the HTML, not the signature"
    assert seen > 60 and changed > 40  # the oracle did look
    frames = [
        Frame(420, 1080, [], single_day=False, single_agent=False),
        Frame(480, 1140, [], single_day=False, single_agent=False),
        Frame(480, 1080, [], single_day=True, single_agent=False),
        Frame(480, 1080, [], single_day=False, single_agent=True),
    ]
    for other in frames:
        html, signature = html_and_signature(base, frame=other)
        assert html != base_html and signature != base_signature
    for kwargs in ({"organisation_id": 2}, {"day_link": "/agenda/?vue=jour&agents=8"}):
        html, signature = html_and_signature(base, **kwargs)
        assert html != base_html and signature != base_signature
    with timezone.override("America/Cayenne"):  # the same instants, other wall-clock times
        html, signature = html_and_signature(base)
    assert html != base_html and signature != base_signature


# The column built in Python (column_html) must equal, up to the length of each run of whitespace,
# the template it replaces (bookings/_agenda_grid_column.html, kept here as the reference).
REFERENCE_COLUMN = (Path(__file__).parent / "reference_agenda_grid_column.html").read_text()


def test_the_column_equals_the_template_it_replaces_in_every_state():
    import re

    from django.template import Context, Template

    from rdv.www.agenda_grid import NOW_MARKERS, Frame, Placer, column_html

    def spaces(html: str) -> str:
        return re.sub(r"\s+", " ", html).strip()

    hostile = _rich_column()
    hostile.agent = Named(pk=12345, name="Zoé <O'Brien> & « Cie »")
    hostile.holiday = 'Noël "<b>"'
    hostile.is_today = False
    hostile.plages[0].plage.lieu.name = "MDS <Nord> & « Sud »"
    hostile.plages[1].motifs = [Named(pk=4, name='Suivi <RSA> "&"'), Named(pk=6, name="Bilan d'étape")]
    whole_day = _rich_column()
    whole_day.absences = [SimpleNamespace(title="Congé <annuel>", start=at(0), end=at(23, 59), whole_day=True)]
    empty = _rich_column()
    empty.plages, empty.absences, empty.rdvs = [], [], []
    frames = [
        Frame(480, 1080, [], single_day=False, single_agent=False),
        Frame(420, 1140, [], single_day=True, single_agent=False),
        Frame(480, 1080, [], single_day=False, single_agent=True),
        Frame(480, 1080, [], single_day=True, single_agent=True),
    ]
    reference = Template(REFERENCE_COLUMN)
    compared, outputs = 0, []
    for column in (_rich_column(), hostile, whole_day, empty):
        for grid_frame in frames:
            for day_link in ("/agenda/?vue=jour&agents=7&date=2027-03-09", ""):
                with timezone.override(PARIS):
                    placed = Placer(1, grid_frame, now=at(7), day_links={column.day: day_link}).column(column)
                    expected = reference.render(Context({"column": placed, "layout": grid_frame}))
                    built = column_html(placed, grid_frame)
                assert spaces(built) == spaces(expected)
                assert built.count(NOW_MARKERS) == 1
                compared += 1
                outputs.append(built)
    assert compared == 32 and len(set(outputs)) == 24  # every state differs, but a day link in a single-day grid
    hostile_html = outputs[8]
    assert "&lt;O&#x27;Brien&gt; &amp; « Cie »" in hostile_html and 'data-agent="12345"' in hostile_html
    assert "Suivi &lt;RSA&gt; &quot;&amp;&quot;, Bilan d&#x27;étape" in hostile_html
    assert "Noël &quot;&lt;b&gt;&quot;" in hostile_html and "MDS &lt;Nord&gt; &amp; « Sud »" in hostile_html
    assert "toute la journée" in outputs[16] and "Congé &lt;annuel&gt;" in outputs[16]


REFERENCE_CHECKBOXES = (Path(__file__).parent / "reference_agenda_agent_checkboxes.html").read_text()


def test_the_agents_checkboxes_equal_the_template_loop_they_replace():
    from django.template import Context, Template

    from rdv.www.agenda_grid import agent_checkboxes

    agents = [Agent(pk=7, name="Bruno Petit"), Agent(pk=12345, name="Zoé <O'Brien> & « Cie »"), Agent(pk=9, name='"a"')]
    for selected in (set(), {7}, {7, 12345, 9}, {8}):
        expected = Template(REFERENCE_CHECKBOXES).render(Context({"all_agents": agents, "selected_ids": selected}))
        built = str(agent_checkboxes(agents, selected))
        assert _normalised(built) == _normalised(expected)
        assert built.count(" checked") == len(selected & {7, 12345, 9})
    assert "Zoé &lt;O&#x27;Brien&gt; &amp; « Cie »" in built and 'value="12345"' in built


def test_cells_html_equals_the_cells_on_daylight_saving_days_and_at_plage_bounds_off_the_half_hour():
    """The page's cells (written without a datetime per cell) say what the GridCells say: on the
    days the clocks change (they take the GridCells' path), for plages that begin or end between
    two half-hours, to the second, or on another day, and across a frame that starts at midnight."""
    from django.template import Context, Template

    for day in (date(2027, 3, 28), date(2027, 10, 31), DAY):
        bounds_off = [
            plage(at(9, day=day) + timedelta(seconds=1), at(10, 30, day=day) - timedelta(seconds=1), motifs=(4,)),
            plage(at(10, 30, day=day), at(11, 15, day=day), motifs=(4, 6), lieu_id=8, lieu="Annexe & « Sud »"),
            plage(at(23, day=day) - timedelta(days=1), at(1, day=day), lieu_id=9, lieu="Nuit"),  # from the day before
        ]
        for plages in (bounds_off, []):
            col = column(day=day, plages=plages, rdvs=[rdv(1, at(0, day=day), at(23, 59, day=day))])
            placed = layout(grid(col), organisation_id=5, now=at(7)).columns[0]
            expected = Template(REFERENCE_CELLS).render(
                Context({"cells": placed.cells, "short_label": placed.short_label})
            )
            assert str(placed.cells_html) == expected, day
            assert len(placed.cells) == 48
            if plages:
                by_label = {cell.label: cell for cell in placed.cells}
                assert (by_label["09:00"].lieu, by_label["09:30"].lieu, by_label["10:30"].lieu) == (
                    "",
                    "MDS Centre",
                    "Annexe & « Sud »",
                )
                assert (by_label["00:30"].lieu, by_label["01:00"].lieu, by_label["11:30"].lieu) == ("Nuit", "", "")
