"""A pathway drawn as a step diagram (inline SVG: no image files, scales, text searchable)."""

from __future__ import annotations

import html
import textwrap

from trdsim.pathways import maintenance_for, step_key

__all__ = ["pathway_svg"]

RELAPSE_RULE = {
    "advance": "relapse after a response: on to the next step",
    "retreat": "relapse after a response: re-treat with the step that worked",
}
EXHAUSTED_RULE = {
    "usual_care": "after the last step: usual care (natural history, its costs)",
    "none": "after the last step: no care (natural history only)",
    "repeat_last": "after the last step: the last step is tried again",
    "restart": "after the last step: back to the entry step",
}

BOX_W, MAINT_W, GAP_X = 330, 250, 34
LINE_H, PAD, GAP_Y = 15, 8, 26
CHARS = 44  # characters per line that fit a box at 12 px


def _lines(s: str, width: int = CHARS) -> list[str]:
    return textwrap.wrap(s, width) or [""]


def _text(x: float, y: float, lines: list[str], cls: str) -> str:
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if i == 0 else LINE_H}">{html.escape(t)}</tspan>'
        for i, t in enumerate(lines)
    )
    return f'<text x="{x}" y="{y}" class="{cls}">{spans}</text>'


def pathway_svg(
    name: str,
    pathway: dict,
    labels: dict[str, str],
    maintenance_labels: dict[str, str],
    trial_weeks: dict[str, float],
    entry_step: int,
) -> str:
    """The steps top to bottom, maintenance after a response to the right, the rules below.

    entry_step: 0-based index of the step the cohort starts at; earlier steps are drawn
    as already failed before entry.
    """
    steps = pathway["steps"]
    mid = f"arrowhead-{name}"  # marker ids are page-wide: one per diagram
    parts: list[str] = []
    y: float = 10
    for i, step in enumerate(steps):
        comps = [step] if isinstance(step, str) else list(step)
        before = i < entry_step
        head = f"{i + 1}. " + " + ".join(labels.get(c, c) for c in comps)
        known = [trial_weeks[c] for c in comps if c in trial_weeks]
        weeks = max(known) if known else None
        sub = (
            "failed before entry"
            if before
            else (f"course {weeks:g} weeks" if weeks is not None else "")
        )
        lines = _lines(head)
        h = PAD * 2 + LINE_H * (len(lines) + (1 if sub else 0))
        cls = "step done" if before else "step"
        if i == entry_step:
            parts.append(
                f'<text x="{BOX_W + 6}" y="{y - 6}" class="entry">cohort enters here</text>'
            )
        parts.append(f'<rect x="0" y="{y}" width="{BOX_W}" height="{h}" rx="6" class="{cls}"/>')
        parts.append(_text(PAD + 2, y + PAD + 11, lines, "label"))
        if sub:
            parts.append(_text(PAD + 2, y + PAD + 11 + LINE_H * len(lines), [sub], "sub"))
        if not before:
            chosen = maintenance_for(pathway, step_key(comps))
            m_lines = ["response → maintenance:"]
            for m in chosen:
                m_lines += _lines("• " + maintenance_labels.get(m, m), 36)
            mh = PAD * 2 + LINE_H * len(m_lines)
            mx, my = BOX_W + GAP_X, y + max(0, (h - mh) / 2)
            parts.append(
                f'<line x1="{BOX_W}" y1="{y + h / 2}" x2="{mx}" y2="{y + h / 2}" class="arrow" marker-end="url(#{mid})"/>'
            )
            parts.append(
                f'<rect x="{mx}" y="{my}" width="{MAINT_W}" height="{mh}" rx="6" class="maint"/>'
            )
            parts.append(_text(mx + PAD, my + PAD + 11, m_lines, "sub"))
            row = max(h, mh + (my - y))
        else:
            row = h
        if i < len(steps) - 1:
            # from the step's own bottom, past a taller maintenance box, to the next step
            top, bottom = y + h, y + row + GAP_Y
            parts.append(
                f'<line x1="{BOX_W / 2}" y1="{top}" x2="{BOX_W / 2}" y2="{bottom}" '
                f'class="arrow" marker-end="url(#{mid})"/>'
            )
            if not before:
                parts.append(
                    f'<text x="{BOX_W / 2 + 8}" y="{(top + bottom) / 2 + 4}" class="sub">'
                    "no response or drop-out</text>"
                )
            y += GAP_Y
        y += row
    y += 10
    rules = [
        RELAPSE_RULE.get(pathway["on_relapse"], pathway["on_relapse"]),
        EXHAUSTED_RULE.get(pathway["on_exhausted"], pathway["on_exhausted"]),
    ]
    parts.append(_text(0, y + 12, rules, "rule"))
    y += LINE_H * len(rules) + 10
    width = BOX_W + GAP_X + MAINT_W + 2
    title = html.escape(f"{name}: {pathway.get('label', '')}")
    return (
        f'<svg class="pathway" role="img" aria-label="{title}" viewBox="-1 0 {width} {y}" '
        f'width="{width}" height="{y}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{title}</title>"
        f'<defs><marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>' + "".join(parts) + "</svg>"
    )
