"""A lifecycle drawn on the server as SVG, from its declaration: no script and no outside
service, so the diagram shows on the district's offline machines and under the pages' CSP.

States stand in columns by their distance from the initial state; each pair of states joined
by triggers gets one arrow labelled with the triggers' names, bent so that arrows going back
do not hide those going forward."""
from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import Callable

from markupsafe import Markup, escape

from casework.common.lifecycle import Lifecycle

BOX_W, BOX_H = 150, 40
COL_GAP, ROW_GAP = 110, 70
MARGIN = 30


def _columns(declared: Lifecycle) -> dict:
    """Each state's column: its distance (in triggers) from the initial state."""
    nexts = defaultdict(set)
    for trigger in declared.triggers:
        for source in trigger.sources:
            nexts[source].add(trigger.dest)
    column = {declared.initial: 0}
    queue = deque([declared.initial])
    while queue:
        state = queue.popleft()
        for following in sorted(nexts[state], key=lambda s: list(declared.states).index(s)):
            if following not in column:
                column[following] = column[state] + 1
                queue.append(following)
    last = max(column.values(), default=0) + 1
    return {state: column.get(state, last) for state in declared.states}


def _edge_point(center: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre towards a point leaves the box."""
    (x, y), (tx, ty) = center, towards
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return center
    scale = min((BOX_W / 2) / abs(dx) if dx else math.inf, (BOX_H / 2) / abs(dy) if dy else math.inf)
    return x + dx * scale, y + dy * scale


def lifecycle_svg(declared: Lifecycle, state_label: Callable, trigger_label: Callable,
                  title: str) -> Markup:
    columns = _columns(declared)
    rows: dict[int, int] = defaultdict(int)
    centres = {}
    for state in declared.states:
        col = columns[state]
        centres[state] = (MARGIN + col * (BOX_W + COL_GAP) + BOX_W / 2,
                          MARGIN + 20 + rows[col] * (BOX_H + ROW_GAP) + BOX_H / 2)
        rows[col] += 1
    width = MARGIN * 2 + (max(columns.values()) + 1) * (BOX_W + COL_GAP) - COL_GAP
    height = MARGIN * 2 + 40 + max(rows.values()) * (BOX_H + ROW_GAP) - ROW_GAP

    labels: dict[tuple, list[str]] = defaultdict(list)
    for trigger in declared.triggers:
        for source in trigger.sources:
            labels[(source, trigger.dest)].append(str(trigger_label(trigger.name)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'class="lifecycle-diagram" role="img"><title>{escape(title)}</title>',
             '<defs><marker id="arrow-{0}" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#41464b"/></marker></defs>'
             .format(escape(declared.noun.replace(" ", "-")))]
    marker = f'url(#arrow-{escape(declared.noun.replace(" ", "-"))})'
    for (source, dest), names in labels.items():
        text = escape(" / ".join(names))
        sx, sy = centres[source]
        if source == dest:
            top = sy - BOX_H / 2
            parts.append(f'<path d="M{sx - 30:.0f},{top:.0f} C{sx - 40:.0f},{top - 45:.0f} '
                         f'{sx + 40:.0f},{top - 45:.0f} {sx + 30:.0f},{top:.0f}" fill="none" '
                         f'stroke="#41464b" stroke-width="1.5" marker-end="{marker}"/>')
            parts.append(f'<text x="{sx:.0f}" y="{top - 38:.0f}" text-anchor="middle" '
                         f'font-size="12" fill="#212529">{text}</text>')
            continue
        dx_, dy_ = centres[dest]
        backward = columns[dest] < columns[source] or (
            columns[dest] == columns[source] and dy_ < sy)
        # Bend every arrow a little to its left: a pair joined both ways shows two arrows.
        mx, my = (sx + dx_) / 2, (sy + dy_) / 2
        length = math.hypot(dx_ - sx, dy_ - sy) or 1
        bend = 30 + length * 0.16 if backward else 14
        cx, cy = mx + (dy_ - sy) / length * bend, my - (dx_ - sx) / length * bend
        start, end = _edge_point((sx, sy), (cx, cy)), _edge_point((dx_, dy_), (cx, cy))
        dashes = ' stroke-dasharray="5 3"' if backward else ""
        parts.append(f'<path d="M{start[0]:.0f},{start[1]:.0f} Q{cx:.0f},{cy:.0f} '
                     f'{end[0]:.0f},{end[1]:.0f}" fill="none" stroke="#41464b" '
                     f'stroke-width="1.5"{dashes} marker-end="{marker}"/>')
        lx, ly = (start[0] + 2 * cx + end[0]) / 4, (start[1] + 2 * cy + end[1]) / 4
        parts.append(f'<text x="{lx:.0f}" y="{ly - 4:.0f}" text-anchor="middle" font-size="12" '
                     f'fill="#212529" stroke="#fff" stroke-width="3" paint-order="stroke">{text}</text>')
    for state, (x, y) in centres.items():
        final = state in declared.final
        initial = state == declared.initial
        parts.append(f'<rect x="{x - BOX_W / 2:.0f}" y="{y - BOX_H / 2:.0f}" width="{BOX_W}" '
                     f'height="{BOX_H}" rx="8" fill="{"#212529" if final else "#fff"}" '
                     f'stroke="#212529" stroke-width="{3 if initial else 1.5}"/>')
        parts.append(f'<text x="{x:.0f}" y="{y + 5:.0f}" text-anchor="middle" font-size="14" '
                     f'fill="{"#fff" if final else "#212529"}">{escape(state_label(state))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
