"""The day's figures: totals, people by outcome, calls and people by hour (a chart), by type and status."""

from __future__ import annotations

import flet as ft

from fieldapp.ui import messages
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.widgets import Navigator, heading, tagged


def figures(state: AppState, ui: Navigator) -> ft.View:
    import flet_charts as fch

    t, model = state.t, state.figures
    day = model.day
    f = model.figures()
    hours = f["by_hour"]
    top = max([1, *hours["calls"], *hours["people"]])
    step = max(1, -(-top // 4))
    calls_color, people_color = ft.Colors.PRIMARY, ft.Colors.TERTIARY
    # The two series differ in more than colour (1.0:1 apart in luminance): calls are solid bars, people
    # striped ones (bands of the page's colour across them), and the legend shows the same.
    band = step * 4 / 40  # 6 px of the chart's 240

    def striped(value: int) -> list:
        edges = [i * band for i in range(int(value / band) + 1)] + [value]
        return [fch.BarChartRodStackItem(from_y=a, to_y=b, color=people_color if i % 2 == 0 else ft.Colors.SURFACE)
                for i, (a, b) in enumerate(zip(edges, edges[1:])) if b > a]

    chart = fch.BarChart(
        height=240, max_y=step * 4, interactive=False,
        groups=[
            fch.BarChartGroup(x=h, rods=[
                fch.BarChartRod(to_y=hours["calls"][h], width=6, color=calls_color, border_radius=0),
                fch.BarChartRod(to_y=hours["people"][h], width=6, color=people_color, border_radius=0,
                                stack_items=striped(hours["people"][h])),
            ])
            for h in range(24)
        ],
        bottom_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=h, label=ft.Text(messages.local_digits(f"{h:02d}", state.language), size=12))
                    for h in range(0, 24, 6)],
            label_size=24, title=ft.Text(t("figures.hour_axis"), size=13), title_size=22),
        # Each count kept 10 px from the bars: in Arabic the chart laid its counts against (and over) the first
        # hour's bars, at the end of their room that meets the chart.
        left_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=v, label=ft.Container(padding=ft.Padding.only(right=10), content=ft.Text(
                messages.local_digits(str(v), state.language), size=12))) for v in range(0, step * 5, step)],
            label_size=36),
        horizontal_grid_lines=fch.ChartGridLines(interval=step, color=ft.Colors.OUTLINE_VARIANT, width=1),
    )

    def key(swatch: ft.Control, text: str) -> ft.Control:
        return ft.Row(tight=True, spacing=6, controls=[swatch, ft.Text(text, size=15)])

    solid = ft.Container(width=16, height=16, bgcolor=calls_color)
    stripes = ft.Column(spacing=3, width=16, height=16, controls=[
        ft.Container(width=16, height=3, bgcolor=people_color) for _ in range(3)])
    legend = ft.Row(wrap=True, spacing=16, controls=[key(solid, t("figures.legend_calls")),
                                                     key(stripes, t("figures.legend_people"))])
    median = f["median_minutes_to_scene"]
    people = f["people"]
    return frame(state, ui, "/queue/figures", t("figures.title"), [
        ft.Text(messages.long_date(day, t), size=17, weight=ft.FontWeight.BOLD),
        ft.Text(f"{t('figures.calls')}: {t.isolate(f['totals']['calls'])}", size=18, weight=ft.FontWeight.BOLD),
        ft.Text(t.join(f"{t('outcome.' + k)} {t.isolate(v)}" for k, v in people.items()), size=17),
        ft.Text(t("figures.identified", a=f["deceased"]["identified"], b=f["deceased"]["unidentified"]), size=16),
        ft.Text(t("figures.to_scene", m=median if median is not None else t("figures.none")), size=16),
        heading(t("figures.by_hour")),
        legend,
        tagged("hour-chart", ft.Container(padding=ft.Padding.only(right=8, top=8), content=chart),
               label=t("figures.by_hour")),
        heading(t("figures.by_type")),
        *[ft.Text(f"{t('incident.' + k)}: {v}", size=15) for k, v in f["calls_by_incident_type"].items() if v],
        heading(t("figures.by_status")),
        *[ft.Text(f"{t('status.' + k)}: {v}", size=15) for k, v in f["calls_by_status"].items() if v],
    ], back=True)
