"""The timeline picture of a vehicle or a device: one lane per device (or vehicle), a bar for each
association from its start to its end (or now), drawn as SVG on the server. The geometry is made
here; ``templates/timeline.svg`` draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WIDTH = 960
LABEL_WIDTH = 220
LANE_HEIGHT = 34
AXIS_HEIGHT = 34
PLOT_WIDTH = WIDTH - LABEL_WIDTH - 20


@dataclass(frozen=True)
class Period:
    lane: str
    """What the lane is (a device id, or a vehicle id): periods of one lane share it."""
    lane_label: str
    lane_href: str
    start: datetime
    end: datetime | None
    main: bool


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    main: bool
    active: bool
    title: str


@dataclass
class Lane:
    label: str
    href: str
    y: float
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_width: int
    lanes: list[Lane]
    ticks: list[Tick]
    start: datetime
    end: datetime


def _ticks(start: datetime, end: datetime, x_of: object) -> list[Tick]:
    span = (end - start).total_seconds()
    steps = [60, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400]
    step = next((s for s in steps if span / s <= 6), steps[-1] * max(1, int(span // (steps[-1] * 6)) + 1))
    fmt = "%H:%M" if step < 86400 else "%Y-%m-%d"
    ticks = []
    moment = start
    while moment <= end:
        ticks.append(Tick(x_of(moment), moment.strftime(fmt)))  # type: ignore[operator]
        moment += timedelta(seconds=step)
    return ticks


def build(periods: Sequence[Period], now: datetime) -> Timeline | None:
    """The picture of ``periods`` up to ``now``; None when there is nothing to draw."""
    if not periods:
        return None
    start = min(period.start for period in periods)
    end = max(now, *(period.end or now for period in periods))
    span = max((end - start).total_seconds(), 1.0)
    # A margin so that the newest bar does not touch the border.
    end_shown = start + timedelta(seconds=span * 1.03)
    total = (end_shown - start).total_seconds()

    def x_of(moment: datetime) -> float:
        return round(LABEL_WIDTH + PLOT_WIDTH * (moment - start).total_seconds() / total, 1)

    lanes: dict[str, Lane] = {}
    for period in periods:
        lane = lanes.get(period.lane)
        if lane is None:
            lane = lanes[period.lane] = Lane(
                period.lane_label, period.lane_href, AXIS_HEIGHT + LANE_HEIGHT * len(lanes)
            )
        x = x_of(period.start)
        finish = period.end or now
        until = finish.strftime("%Y-%m-%d %H:%M UTC") if period.end else "now"
        role = "main" if period.main else "secondary"
        lane.bars.append(
            Bar(
                x=x,
                width=max(3.0, round(x_of(finish) - x, 1)),
                main=period.main,
                active=period.end is None,
                title=f"{period.lane_label}: {period.start:%Y-%m-%d %H:%M UTC} to {until} ({role})",
            )
        )
    height = AXIS_HEIGHT + LANE_HEIGHT * len(lanes) + 10
    return Timeline(WIDTH, height, LABEL_WIDTH, list(lanes.values()), _ticks(start, end_shown, x_of), start, end)
