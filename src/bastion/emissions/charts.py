"""Chart geometry for the console's server-rendered SVG (no script, so the strict CSP holds): bars
of emissions by scope over the years (stacked) and by category. Pure functions of the totals; the
templates draw them and put the same figures in a table beside each chart."""

from __future__ import annotations

from decimal import Decimal

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 560, 240, 70, 30, 10
SCOPE_CLASSES = {1: "scope-1", 2: "scope-2", 3: "scope-3"}


def _scale(maximum: Decimal, span: int) -> Decimal:
    return Decimal(span) / maximum if maximum > 0 else Decimal(0)


def _ticks(maximum: Decimal, scale: Decimal, base: int) -> list[dict]:
    if maximum <= 0:
        return []
    return [{"y": round(base - float(maximum * k / 4 * scale), 1), "label": f"{float(maximum * k / 4 / 1000):,.1f}"}
            for k in range(5)]


def by_scope_over_years(years: list[dict]) -> dict:
    """Stacked columns per year (scope 1 at the bottom), values in tCO2e on the axis labels."""
    plot_height = HEIGHT - BOTTOM - TOP
    maximum = max((row["total"] for row in years), default=Decimal(0))
    scale = _scale(maximum, plot_height)
    slot = (WIDTH - LEFT - 10) / max(len(years), 1)
    columns = []
    for index, row in enumerate(years):
        x = LEFT + index * slot + slot * 0.2
        base: float = HEIGHT - BOTTOM
        segments = []
        for scope in (1, 2, 3):
            value = row[f"scope_{scope}"]
            height = float(value * scale)
            base -= height
            if value > 0:
                segments.append({"x": round(x, 1), "y": round(base, 1), "width": round(slot * 0.6, 1),
                                 "height": round(height, 1), "css": SCOPE_CLASSES[scope],
                                 "title": f"{row['year']} scope {scope}: {value:,.1f} kgCO2e"})
        columns.append({"label": str(row["year"]), "label_x": round(x + slot * 0.3, 1), "segments": segments})
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "axis_y": HEIGHT - BOTTOM, "columns": columns,
            "ticks": _ticks(maximum, scale, HEIGHT - BOTTOM), "label_y": HEIGHT - 10}


def by_category(categories: list[dict]) -> dict:
    """Horizontal bars, largest first."""
    row_height, label_width = 26, 220
    maximum = max((item["kgco2e"] for item in categories), default=Decimal(0))
    scale = _scale(maximum, WIDTH - label_width - 90)
    bars = [{"y": 6 + index * row_height, "text_y": 6 + index * row_height + 14, "label": item["label"],
             "x": label_width, "width": round(max(float(item["kgco2e"] * scale), 1.0), 1),
             "value": f"{float(item['kgco2e']) / 1000:,.2f} t",
             "value_x": round(label_width + float(item["kgco2e"] * scale) + 6, 1)}
            for index, item in enumerate(categories)]
    return {"width": WIDTH, "height": 12 + len(bars) * row_height, "bars": bars, "label_x": label_width - 8}
