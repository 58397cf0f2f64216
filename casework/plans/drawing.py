"""Positions to a plan. A compound spans a few hundred metres, so a flat projection (east and
north in metres from the compound's centre) is exact enough, and needs nothing from outside."""
from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000


@dataclass(frozen=True)
class Dot:
    case_id: int
    ref: str
    state: str
    x: float
    y: float
    radius: float
    accuracy_radius: float


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    dots: list[Dot]
    metres_per_px: float
    scale_bar_px: float
    scale_bar_m: int


def _nice_length(metres: float) -> int:
    """The scale bar's length: 1, 2 or 5 times a power of ten, at most ``metres``."""
    if metres <= 1:
        return 1
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return int(step * power)
    return int(power)


def draw(points: list[tuple[int, str, str, float, float, float | None]], width: int = 640,
         height: int = 420, margin: int = 30) -> Plan:
    """``points``: (case id, ref, state, lat, lon, accuracy in metres or None)."""
    if not points:
        return Plan(width, height, [], 1.0, 0, 0)
    lat0 = sum(p[3] for p in points) / len(points)
    lon0 = sum(p[4] for p in points) / len(points)
    metres = [((p[4] - lon0) * math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat0)),
               (p[3] - lat0) * math.radians(1) * EARTH_RADIUS_M) for p in points]
    span_x = max(abs(x) for x, _ in metres) or 1.0
    span_y = max(abs(y) for _, y in metres) or 1.0
    # The same scale both ways, the larger spread filling the plan; at least 50 m across.
    metres_per_px = max(span_x / ((width - 2 * margin) / 2), span_y / ((height - 2 * margin) / 2),
                        50 / (width - 2 * margin))
    dots = []
    for (case_id, ref, state, _lat, _lon, accuracy), (x, y) in zip(points, metres):
        dots.append(Dot(case_id, ref, state,
                        round(width / 2 + x / metres_per_px, 1),
                        round(height / 2 - y / metres_per_px, 1), 7,
                        round(min((accuracy or 0) / metres_per_px, width), 1)))
    bar_m = _nice_length(metres_per_px * width / 4)
    return Plan(width, height, dots, metres_per_px, round(bar_m / metres_per_px, 1), bar_m)
