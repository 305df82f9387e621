"""The overview's lines: each centre's latest complete period, open cycles, signal badge.

The figures come from one grouped query (reports.series.overview). The badge says whether
the centre's overall run chart over the year (52 weeks or 24 months) ending with that
period signals; computing it reads every centre's points (`centers_series`, ~1.4 s for
1,500 centres), so it is cached in Redis per complete period, one hash field per centre:

    kuma:dashboard:signals:{interval}:{period}:{min_respondents}  code -> "{cycles}|{0|1}"

`{cycles}` stamps the centre's PDSA cycles (how many, last change): a cycle added or
edited recomputes that centre's badge alone. Answers filed late into a complete period
(an import of paper answers) show in the badge within SIGNAL_TTL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway.errors import ArgumentError
from gateway.models import Center, PdsaCycle
from gateway.pdsa import list_cycles
from gateway.settings import Settings
from gateway.statuses import PdsaStatus
from gateway.web import charting
from reports import periods, series

SIGNALS_KEY = "kuma:dashboard:signals:{interval}:{period}:{min_respondents}"
SIGNAL_TTL = 6 * 3600
PAGE_SIZE = 100


@dataclasses.dataclass(frozen=True)
class Line:
    """One centre on the overview."""

    figures: series.CenterOverview
    district: str
    open_cycles: int
    signal: bool


SORTS: dict[str, Callable[[Line], object]] = {
    "name": lambda line: line.figures.name.casefold(),
    "code": lambda line: line.figures.center,
    "district": lambda line: line.district.casefold(),
    "respondents": lambda line: line.figures.respondents,
    "score": lambda line: line.figures.mean,
    "change": lambda line: line.figures.change,
    "cycles": lambda line: line.open_cycles,
    "signal": lambda line: line.signal,
}


@dataclasses.dataclass(frozen=True)
class Listing:
    """How the overview is asked for: interval, sort column and order, district, page."""

    interval: str = periods.WEEK
    sort: str = "name"
    descending: bool = False
    district: str = ""
    page: int = 1


def read_listing(args) -> Listing:
    """Return the overview's query; ArgumentError names a bad field."""
    interval = periods.check_interval(args.get("interval", "").strip() or periods.WEEK)
    sort = args.get("sort", "").strip() or "name"
    if sort not in SORTS:
        raise ArgumentError(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
    order = args.get("order", "").strip() or "asc"
    if order not in ("asc", "desc"):
        raise ArgumentError(f"order: {order!r} is not asc or desc")
    page = args.get("page", "").strip() or "1"
    if not page.isascii() or not page.isdigit() or not 1 <= int(page) <= 10_000:
        raise ArgumentError(f"page: {page[:20]!r} is not a page number")
    district = args.get("district", "").strip()
    if len(district) > 100:
        raise ArgumentError("district: at most 100 characters")
    return Listing(interval, sort, order == "desc", district, int(page))


def overview_lines(db: so.Session, codes: list[str] | None, listing: Listing, today: dt.date,
                   settings: Settings, redis) -> tuple[str, list[Line]]:
    """Return the last complete period and a line per centre (`codes`; None: all), sorted."""
    period = periods.last_complete(listing.interval, today)
    wanted = codes
    if listing.district:
        wanted = [c for c in db.scalars(sa.select(Center.code).where(
            Center.district == listing.district)) if codes is None or c in codes]
    found = series.overview(db, wanted, interval=listing.interval, period=period,
                            min_respondents=settings.min_respondents, tz=settings.tz)
    districts = {code: name for code, name in db.execute(sa.select(Center.code, Center.district))}
    stamps, open_counts = _cycle_stamps(db)
    signals = _signals(db, [line.center for line in found], listing.interval, period,
                       settings, redis, stamps)
    lines = [Line(f, districts.get(f.center) or "", open_counts.get(f.center, 0),
                  signals.get(f.center, False)) for f in found]
    return period, sort_lines(lines, listing.sort, listing.descending)


def sort_lines(lines: Sequence[Line], sort: str, descending: bool) -> list[Line]:
    """Sort by a column, centres without a figure last either way, then by name."""
    key = SORTS[sort]
    by_name = sorted(lines, key=SORTS["name"])
    present = [line for line in by_name if key(line) is not None]
    missing = [line for line in by_name if key(line) is None]
    return sorted(present, key=key, reverse=descending) + missing


def districts(db: so.Session) -> list[str]:
    """Return every district some centre is in."""
    return [d for d in db.scalars(sa.select(Center.district).distinct().order_by(
        Center.district)) if d]


def _cycle_stamps(db: so.Session) -> tuple[dict[str, str], dict[str, int]]:
    """Return each centre's cycles stamp (count, last change) and its open cycles."""
    is_open = sa.case((PdsaCycle.status != PdsaStatus.CLOSED, 1), else_=0)
    rows = db.execute(
        sa.select(Center.code, sa.func.count(PdsaCycle.id), sa.func.max(PdsaCycle.updated_at),
                  sa.func.sum(is_open))
        .join(PdsaCycle, PdsaCycle.center_id == Center.id).group_by(Center.code))
    stamps, open_counts = {}, {}
    for code, count, changed, opened in rows:
        stamps[code] = f"{count}@{changed.isoformat() if changed else ''}"
        open_counts[code] = int(opened or 0)
    return stamps, open_counts


def _signals(db: so.Session, codes: list[str], interval: str, period: str,
             settings: Settings, redis, stamps: dict[str, str]) -> dict[str, bool]:
    """Return whether each centre's overall chart signals, from the cache or computed."""
    if not codes:
        return {}
    key = SIGNALS_KEY.format(interval=interval, period=period,
                             min_respondents=settings.min_respondents)
    cached = redis.hmget(key, codes)
    signals, stale = {}, []
    for code, value in zip(codes, cached):
        text = value.decode() if isinstance(value, bytes) else value or ""
        stamp, _, flag = text.rpartition("|")
        if value is not None and stamp == stamps.get(code, "0@"):
            signals[code] = flag == "1"
        else:
            stale.append(code)
    if stale:
        fresh = _compute_signals(db, stale, interval, period, settings)
        redis.hset(key, mapping={code: f"{stamps.get(code, '0@')}|{int(flag)}"
                                 for code, flag in fresh.items()})
        redis.expire(key, SIGNAL_TTL)
        signals.update(fresh)
    return signals


def _compute_signals(db: so.Session, codes: list[str], interval: str, period: str,
                     settings: Settings) -> dict[str, bool]:
    start = periods.periods_back(period, interval, periods.DEFAULT_COUNT[interval] - 1)
    every = len(codes) > 50  # one grouped query for all beats a long IN list
    points = series.centers_series(db, None if every else codes, interval=interval,
                                   start=start, end=period,
                                   min_respondents=settings.min_respondents, tz=settings.tz)
    cycles: dict[str, list[PdsaCycle]] = {}
    for cycle in list_cycles(db, codes):
        cycles.setdefault(cycle.center.code, []).append(cycle)
    query = charting.ChartQuery(interval=interval, start=start, end=period)
    return {code: charting.analyse(points[code], cycles.get(code, []), query).signal
            for code in codes if code in points}
