"""The report page: one self-contained HTML file (inline CSS, SVG and PNG data; no scripts)."""

from __future__ import annotations

import html

from trdsim.report.sections import Section

__all__ = ["render"]

CSS = """
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --head:#f6f8fa; --accent:#0b6e4f; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; }
header { background: #0b3d2e; color: #fff; padding: 24px 32px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; color: #d8efe6; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line);
      padding: 6px 32px; font-size: 13px; z-index: 1; display: flex; flex-wrap: wrap;
      gap: 2px 14px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
main { padding: 8px 32px 48px; max-width: 1400px; overflow-wrap: break-word; }
section { margin-top: 28px; scroll-margin-top: 64px; }  /* below the sticky nav */
#bottom-line { margin-top: 12px; background: #f1f8f5; border-left: 4px solid var(--accent);
               padding: 2px 16px 4px; }
#bottom-line h2 { border: 0; margin: 8px 0 0; }
#bottom-line table { font-size: 14px; }
.caveat { max-width: 1000px; margin: 6px 0; }
code { overflow-wrap: anywhere; }
h2 { border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { margin-top: 22px; }
.table-wrap { overflow-x: auto; margin: 10px 0; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { background: var(--head); text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#table-parameters td:last-child { min-width: 320px; }
.note { color: var(--muted); font-size: 13px; max-width: 1000px; }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
.arms { display: flex; flex-wrap: wrap; gap: 32px; }
.arm { flex: 1 1 600px; min-width: 0; }
svg.pathway { max-width: 100%; height: auto; font-size: 12px; }
svg .step { fill: #e8f4ef; stroke: #0b6e4f; }
svg .step.done { fill: #f0f0f0; stroke: #aaa; stroke-dasharray: 4 3; }
svg .maint { fill: #fff8e6; stroke: #c9a227; }
svg .label { fill: var(--ink); font-weight: 600; }
svg .sub { fill: var(--muted); }
svg .rule { fill: var(--ink); font-style: italic; }
svg .entry { fill: #b3261e; font-weight: 600; }
svg .arrow { stroke: #555; stroke-width: 1.4; }
#notices { background: #fff4e5; border-left: 4px solid #d97706; padding: 4px 16px; }
#notices h2 { border: 0; }
tr.fill-author td { background: #fbfbfb; color: var(--muted); }
tr.fill-partly td:nth-child(3) { color: #9a6700; }
tr.fill-report td:nth-child(3) { color: var(--accent); }
.guidance { color: var(--muted); font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding: 16px 32px; border-top: 1px solid var(--line); }
header, footer { overflow-wrap: anywhere; }  /* paths and hashes: no page-wide scrolling */
@media (max-width: 700px) {  /* phones: narrower margins; wide tables scroll in place */
  header, footer { padding: 16px; }
  header h1 { font-size: 21px; }
  nav { padding: 6px 16px; position: static; }
  main { padding: 4px 16px 32px; }
  #table-parameters td:last-child { min-width: 200px; }
}
@media print { nav { display: none; } .table-wrap { overflow: visible; } }
"""


def render(title: str, subtitle: list[str], sections: list[Section], footer: str) -> str:
    """The whole page as one string."""
    # one link per line of source: the whitespace between them lets the bar wrap
    nav = "\n".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections
    )
    lines = "".join(f"<p>{html.escape(s)}</p>" for s in subtitle)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon request: the page needs no network
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1>{lines}</header>"
        f"<nav>{nav}</nav><main>{body}</main><footer>{footer}</footer></body></html>\n"
    )
