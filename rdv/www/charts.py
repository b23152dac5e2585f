"""Server-rendered SVG charts: the geometry of bar charts, drawn by the templates of
rdv/www/templates/stats/ (no JavaScript, no library). Each chart is an image (`role="img"`) with
a title and a description; the numbers are in a table next to it (the accessible alternative)."""

from dataclasses import dataclass, field

WIDTH = 720  # the viewBox: the SVG scales to its container
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 44
BAR_LABEL_WIDTH = 230  # horizontal bars: room for the labels on the left
BAR_HEIGHT, BAR_GAP = 24, 10
MAX_X_LABELS = 18  # beyond this, one category label in two (or three…) is written


@dataclass
class Series:
    label: str
    color: str
    values: list[int]


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    tooltip: str


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Label:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    row_labels: list[Label] = field(default_factory=list)  # horizontal bars: the label of each row
    values: list[Label] = field(default_factory=list)  # horizontal bars: the value after each bar
    legend: list[Series] = field(default_factory=list)
    plot_left: float = LEFT
    plot_bottom: float = HEIGHT - BOTTOM
    plot_right: float = WIDTH - RIGHT


def nice_maximum(value: int) -> tuple[int, int]:
    """The axis maximum (≥ value, ≥ 1) and its step (1, 2 or 5 × a power of ten): 5 steps at most."""
    value = max(value, 1)
    power = 1
    while True:
        for multiple in (1, 2, 5):
            step = power * multiple
            steps = -(-value // step)
            if steps <= 5:
                return steps * step, step
        power *= 10


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # French thousands separator (narrow no-break space)


def stacked_bars(chart_id: str, title: str, description: str, categories: list[str], series: list[Series]) -> Chart:
    """Vertical bars, one per category (a week, a month), each stacking the series' values."""
    chart = Chart(id=chart_id, title=title, description=description, width=WIDTH, height=HEIGHT, legend=series)
    count = max(len(categories), 1)
    totals = [sum(one.values[index] for one in series) for index in range(len(categories))]
    top, step = nice_maximum(max(totals, default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    band = (WIDTH - LEFT - RIGHT) / count
    bar = band * 0.7
    scale = plot_height / top
    chart.y_ticks = [
        Tick(position=round(HEIGHT - BOTTOM - value * scale, 1), label=_number(value))
        for value in range(0, top + 1, step)
    ]
    every = -(-count // MAX_X_LABELS)
    for index, category in enumerate(categories):
        x = LEFT + index * band + (band - bar) / 2
        if index % every == 0:
            chart.x_labels.append(Tick(position=round(x + bar / 2, 1), label=category))
        bottom = HEIGHT - BOTTOM
        for one in series:
            value = one.values[index]
            if not value:
                continue
            height = value * scale
            bottom -= height
            chart.rects.append(
                Rect(
                    x=round(x, 1),
                    y=round(bottom, 1),
                    width=round(bar, 1),
                    height=round(height, 1),
                    color=one.color,
                    tooltip=f"{category} — {one.label} : {_number(value)}",
                )
            )
    return chart


def horizontal_bars(chart_id: str, title: str, description: str, items: list[tuple[str, int]], color: str) -> Chart:
    """One horizontal bar per item (label, value), with its value written after it."""
    height = TOP + max(len(items), 1) * (BAR_HEIGHT + BAR_GAP) + TOP
    chart = Chart(id=chart_id, title=title, description=description, width=WIDTH, height=height)
    chart.plot_left = BAR_LABEL_WIDTH
    top, _ = nice_maximum(max((value for _, value in items), default=0))
    room = WIDTH - BAR_LABEL_WIDTH - RIGHT - 70  # room for the value after the longest bar
    for index, (label, value) in enumerate(items):
        y = TOP + index * (BAR_HEIGHT + BAR_GAP)
        width = room * value / top
        middle = round(y + BAR_HEIGHT / 2, 1)
        chart.row_labels.append(Label(x=BAR_LABEL_WIDTH - 8, y=middle, text=label))
        chart.values.append(Label(x=round(BAR_LABEL_WIDTH + width + 6, 1), y=middle, text=_number(value)))
        if value:
            chart.rects.append(
                Rect(
                    x=BAR_LABEL_WIDTH,
                    y=y,
                    width=round(width, 1),
                    height=BAR_HEIGHT,
                    color=color,
                    tooltip=f"{label} : {_number(value)}",
                )
            )
    return chart
