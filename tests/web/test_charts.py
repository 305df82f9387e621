"""Server-rendered SVG run charts: structure, signals, gaps, cycles, limits, language, size."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gateway.web import charts
from reports.runchart import Baseline, Cycle, Point, p_chart, run_chart

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"


def weeks(*values, n=12, year=2026):
    return [Point(f"{year}-W{i + 1:02d}", n, v) for i, v in enumerate(values)]


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def median_lines(root):
    return [line for line in root.findall(".//svg:g[@class='centre']/svg:line", NS)
            if line.get("class").startswith("median")]


def subpaths(d: str) -> list[str]:
    return [part for part in re.split(r"(?=M)", d) if part]


RANDOM = [70, 74, 68, 77, 66, 75, 69, 78, 67, 73, 71, 76]
SHIFTED = [60, 62, 61, 59, 63, 60, 58, 61, 80, 82, 81, 83, 84, 85, 86, 87]  # median 71.5


def test_svg_has_a_title_a_description_and_a_viewbox():
    chart = run_chart(weeks(*RANDOM))
    root = parse(charts.svg(chart, "fr", title="Score global", chart_id="overall"))
    assert root.tag == SVG + "svg"
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert root.get("width") == "100%" and root.get("height") is None
    assert root.get("aria-labelledby") == "overall-title overall-desc"
    assert root.find("svg:title", NS).text == "Score global"
    assert root.find("svg:title", NS).get("id") == "overall-title"
    assert root.find("svg:desc", NS).text == "Aucun signal : la variation semble due au hasard."


def test_no_signal_draws_a_solid_dark_median():
    root = parse(charts.svg(run_chart(weeks(*RANDOM)), "fr", title="t"))
    (line,) = median_lines(root)
    assert "signal" not in line.get("class")
    assert line.get("stroke-dasharray") is None
    assert line.get("stroke") == charts.INK


def test_signal_draws_the_median_red_and_dashed_and_says_why():
    chart = run_chart(weeks(*SHIFTED))
    assert chart.signal
    root = parse(charts.svg(chart, "fr", title="t"))
    (line,) = median_lines(root)
    assert line.get("class") == "median signal"
    assert line.get("stroke") == charts.SIGNAL
    assert line.get("stroke-dasharray")  # dashed, so grey print still shows it
    desc = root.find("svg:desc", NS).text
    assert desc.startswith("Série anormalement longue : 8 points d’affilée")


def test_a_suppressed_period_breaks_the_line():
    values = [70, 72, None, 71, 73, None, None, 75, 74]
    root = parse(charts.svg(run_chart(weeks(*values)), "fr", title="t"))
    path = root.find(".//svg:path[@class='data']", NS)
    parts = subpaths(path.get("d"))
    assert [part.count("L") for part in parts] == [1, 1, 1]  # 2 points, 2 points, 2 points
    assert len(root.findall(".//svg:circle[@class='suppressed']", NS)) == 3
    shown = [c for c in root.findall(".//svg:g[@class='points']/svg:circle", NS)
             if c.get("class") is None]
    assert len(shown) == 6


def test_a_lone_point_between_gaps_is_drawn_but_joined_to_nothing():
    root = parse(charts.svg(run_chart(weeks(70, None, 71, None, 72)), "fr", title="t"))
    d = root.find(".//svg:path[@class='data']", NS).get("d")
    assert "L" not in d and len(subpaths(d)) == 3


def test_each_cycle_is_a_marker_with_its_title():
    cycles = [Cycle(3, None, "Accueil à l’entrée"),
              Cycle(8, Baseline.FREEZE, "Affiches dans la salle d’attente et à la maternité")]
    root = parse(charts.svg(run_chart(weeks(*RANDOM), cycles), "fr", title="t"))
    marks = root.findall(".//svg:g[@class='cycle']", NS)
    assert [m.find("svg:title", NS).text for m in marks] == [c.title for c in cycles]
    for mark, cycle in zip(marks, cycles):
        line = mark.find("svg:line", NS)
        assert line.get("x1") == line.get("x2")
        assert float(line.get("x1")) == pytest.approx(
            charts.LEFT + cycle.start * charts.PLOT_W / len(RANDOM), abs=0.06)
        assert line.get("stroke-dasharray")
    # A long title is shortened on the chart, whole in its <title>.
    assert marks[1].find("svg:text", NS).text.endswith("…")
    assert len(marks[1].find("svg:text", NS).text) == charts.TITLE_CHARS


def test_a_title_near_the_right_edge_reads_leftwards_to_stay_inside():
    chart = run_chart(weeks(*RANDOM), [Cycle(1, None, "Accueil"), Cycle(11, None, "Affiches")])
    root = parse(charts.svg(chart, "fr", title="t"))
    first, last = root.findall(".//svg:g[@class='cycle']/svg:text", NS)
    assert first.get("text-anchor") is None
    assert last.get("text-anchor") == "end"


def test_a_cycle_outside_the_points_gets_no_marker():
    chart = run_chart(weeks(*RANDOM), [Cycle(-1, None, "before"), Cycle(12, None, "after")])
    root = parse(charts.svg(chart, "fr", title="t"))
    assert root.findall(".//svg:g[@class='cycle']", NS) == []


def test_cycle_titles_and_chart_title_are_escaped():
    evil = '<script>alert("x")</script> & <b>'
    chart = run_chart(weeks(*RANDOM), [Cycle(2, None, evil)])
    text = charts.svg(chart, "fr", title=evil, chart_id='a"><script>')
    assert "<script>" not in text and "<b>" not in text
    root = parse(text)  # still well-formed
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert root.find("svg:title", NS).text == evil
    assert root.find(".//svg:g[@class='cycle']/svg:title", NS).text == evil
    assert re.fullmatch(r"[A-Za-z0-9_-]+-title", root.find("svg:title", NS).get("id"))


def test_freeze_draws_the_baseline_median_extended_forward():
    before = [50, 52, 48, 51, 49, 50.5, 49.5, 51.5, 48.5, 50]
    after = [55, 56, 54, 57, 58, 55, 56, 59]
    chart = run_chart(weeks(*before, *after), [Cycle(10, Baseline.FREEZE, "posters")])
    root = parse(charts.svg(chart, "fr", title="t"))
    baseline, frozen = median_lines(root)
    assert baseline.get("y1") == frozen.get("y1")  # the same level, carried on
    assert baseline.get("x2") == frozen.get("x1")  # from the cycle's start onwards
    assert frozen.get("class") == "median frozen signal"
    assert baseline.get("class") == "median"
    marker = root.find(".//svg:g[@class='cycle']/svg:line", NS)
    assert marker.get("x1") == frozen.get("x1")


def test_split_draws_a_median_per_phase():
    values = [10, 12, 11, 13, 9, 30, 32, 31, 29, 33, 28]
    chart = run_chart(weeks(*values), [Cycle(5, Baseline.SPLIT, "new rota")])
    root = parse(charts.svg(chart, "fr", title="t"))
    first, second = median_lines(root)
    assert float(first.get("y1")) > float(second.get("y1"))  # 11 lower than 30.5
    assert "frozen" not in second.get("class")
    assert first.get("x2") == second.get("x1")


def test_p_chart_draws_stepped_limits_broken_at_suppressed_points():
    points = [Point(f"2026-{m:02d}", n, v) for m, (n, v) in enumerate(
        [(20, 60), (40, 65), (10, None), (30, 70), (25, 62), (50, 98)], start=1)]
    chart = p_chart(points)
    root = parse(charts.svg(chart, "fr", title="t"))
    high = root.find(".//svg:path[@class='limit high']", NS)
    low = root.find(".//svg:path[@class='limit low']", NS)
    for path in (high, low):
        parts = subpaths(path.get("d"))
        assert len(parts) == 2  # before and after the suppressed month
        assert parts[0].count("H") == 2 and parts[0].count("V") == 1  # two steps
        assert parts[1].count("H") == 3
        assert path.get("stroke-dasharray")
    # The 98 % month lies above its limit: a square, not only a colour.
    (outside,) = root.findall(".//svg:rect[@class='outside']", NS)
    assert outside.get("fill") == charts.SIGNAL
    # A point beyond its limits is Shewhart's signal, not Anhøj's: the centre stays solid.
    assert not chart.signal
    assert median_lines(root)[0].get("stroke-dasharray") is None
    assert root.find(".//svg:g[@class='y-labels']/svg:text", NS).text.endswith("%")
    desc = root.find("svg:desc", NS).text
    assert "1 point hors des limites" in desc


def test_numbers_and_dates_are_in_the_readers_language():
    chart = run_chart(weeks(70.5, 71.5, 72, 73, 71, year=2026))  # median 71.5
    fr = parse(charts.svg(chart, "fr", title="t"))
    en = parse(charts.svg(chart, "en", title="t"))
    bm = parse(charts.svg(chart, "bm", title="t"))

    def legend(root):
        return root.find(".//svg:text[@class='centre-label']", NS).text

    assert legend(fr) == "Médiane 71,5"
    assert legend(en) == "Median 71.5"
    assert legend(bm) == "Cɛmancɛ 71,5"  # Bambara writes numbers as French does

    def first_x_label(root):
        return root.find(".//svg:g[@class='x-labels']/svg:text", NS).text

    # 2026-W01 begins on Monday 29 December 2025.
    assert first_x_label(fr) == "29 déc. 2025"
    assert first_x_label(en) == "29 Dec 2025"
    assert first_x_label(bm) == "29 des 2025"


def test_axis_labels_are_few_and_name_the_year_once():
    chart = run_chart(weeks(*([70, 75] * 26)))
    root = parse(charts.svg(chart, "fr", title="t"))
    labels = [t.text for t in root.findall(".//svg:g[@class='x-labels']/svg:text", NS)]
    assert 3 <= len(labels) <= charts.MAX_X_LABELS
    assert sum(1 for label in labels if "2025" in label or "2026" in label) == 2


@pytest.mark.parametrize("make", [run_chart, p_chart], ids=["run", "p"])
def test_a_year_of_weeks_with_cycles_stays_small(make):
    values = [None if i % 9 == 4 else 60 + (i * 37) % 30 for i in range(52)]
    points = [Point(f"2026-W{i + 1:02d}", 5 + i % 30, v) for i, v in enumerate(values)]
    cycles = [Cycle(10, None, "Accueil " * 8), Cycle(26, Baseline.FREEZE, "Affiches"),
              Cycle(40, Baseline.SPLIT, "Nouveau circuit des consultations")]
    text = charts.svg(make(points, cycles), "fr", title="Score global, par semaine")
    assert 2_000 < len(text.encode()) < 15_000
    parse(text)


def test_explain_names_each_signal_in_plain_words():
    chart = run_chart(weeks(*SHIFTED))
    assert charts.explain(chart, "en") == [
        "Unusually long run: 8 points in a row on one side of the median, where chance "
        "rarely gives more than 7.",
        "Too few crossings: the line crosses the median 1 time, where chance rarely gives "
        "fewer than 4."]
    assert charts.explain(chart, "fr")[1] == (
        "Trop peu de croisements : la courbe croise la médiane 1 fois, alors que le hasard "
        "en donne rarement moins de 4.")
    assert all("needs review" not in s for s in charts.explain(chart, "bm"))


def test_explain_warns_when_there_are_too_few_points_to_judge():
    chart = run_chart(weeks(70, 75, 68, 77, 66))  # median 70: four points off it
    assert charts.explain(chart, "en") == [
        "Too early to judge: 4 points off the centre line, 10 or more are needed."]
    nothing = run_chart(weeks(None, None))
    assert charts.explain(nothing, "fr") == [
        "Trop tôt pour juger : 0 point hors de la ligne centrale, il en faut 10 ou plus."]


def test_table_gives_the_values_beside_the_chart():
    values = [70.25, None, 72, 71, 73]
    chart = run_chart(weeks(*values), [Cycle(2, Baseline.SPLIT, "Affiches")])
    table = charts.table(chart, "fr")
    assert table.headers == ("Période", "Répondantes", "Score", "Médiane", "Cycles PDSA")
    assert table.rows[0] == ("semaine 1 (29 déc.\u2009–\u20094 janv.)", "12", "70,3", "70,3", "")
    assert table.rows[1][2] == "Trop peu de réponses"
    assert table.rows[2][3:] == ("72,0", "Affiches")
    assert len(table.rows) == len(values)


def test_p_chart_table_has_limits_and_percentages():
    points = [Point("2026-10", 20, 60.0), Point("2026-11", 3, None), Point("2026-12", 40, 75.0)]
    table = charts.table(p_chart(points), "en")
    assert table.headers == ("Period", "Respondents", "Top box", "Centre line",
                             "Lower limit", "Upper limit", "PDSA cycles")
    assert table.rows[0][0] == "October 2026"
    assert table.rows[0][2] == "60.0%" and table.rows[0][3] == "70.0%"
    assert table.rows[1][2:] == ("Too few responses", "70.0%", "", "", "")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        charts.svg(run_chart(weeks(*RANDOM)), "de", title="t")


def test_charts_module_touches_no_flask_sql_or_redis():
    tree = ast.parse(Path(charts.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported & {"flask", "sqlalchemy", "redis", "rq", "werkzeug"} == set()
