/** The dashboard's stylesheet: light by default, dark when the system asks for it. */
export const DASHBOARD_CSS = `
:root {
  --bg: #f1f5f9; --panel: #ffffff; --text: #0f172a; --muted: #64748b; --line: #e2e8f0;
  --closed: #16a34a; --open: #dc2626; --half_open: #d97706; --forced_open: #9f1239;
  --disabled: #64748b; --metrics_only: #0284c7; --calls: #2563eb; --fails: #dc2626;
  --open-tint: #fef2f2; --half-tint: #fffbeb; --on-badge: #ffffff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120; --panel: #151e2f; --text: #e2e8f0; --muted: #94a3b8; --line: #243047;
    --closed: #22c55e; --open: #f87171; --half_open: #fbbf24; --forced_open: #fb7185;
    --disabled: #94a3b8; --metrics_only: #38bdf8; --calls: #60a5fa; --fails: #f87171;
    --open-tint: #2a1619; --half-tint: #2a2212; --on-badge: #0b1120;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; }
.top {
  position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; align-items: center; gap: 10px 14px;
  padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line);
}
.top h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: -0.01em; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--disabled); }
.live.on::before { background: var(--closed); box-shadow: 0 0 0 3px color-mix(in srgb, var(--closed) 25%, transparent); }
.live.off::before { background: var(--open); }
.summary { display: flex; flex-wrap: wrap; gap: 6px; }
.chip {
  display: inline-flex; align-items: center; gap: 5px; padding: 2px 9px; border: 1px solid var(--line);
  border-radius: 999px; background: transparent; color: var(--text); font: inherit; font-size: 12.5px; cursor: pointer;
}
.chip::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--c); }
.chip b { font-variant-numeric: tabular-nums; }
.chip[aria-pressed="true"] { border-color: var(--c); background: color-mix(in srgb, var(--c) 14%, transparent); }
.chip.zero { opacity: 0.45; }
.tools { display: flex; gap: 8px; margin-left: auto; align-items: center; }
.tools input, .tools select {
  font: inherit; font-size: 13px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--text);
}
.tools input { width: 150px; }
.updated { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.grid {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 12px; padding: 16px 20px 32px;
}
.card {
  --c: var(--closed); position: relative; display: flex; flex-direction: column; gap: 8px; min-width: 0;
  padding: 12px 14px 10px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  border-top: 4px solid var(--c); box-shadow: 0 1px 2px rgb(15 23 42 / 0.06);
  /* With hundreds of breakers, cards off screen skip rendering until scrolled to. */
  content-visibility: auto; contain-intrinsic-size: auto 150px;
}
.card[data-state="open"], .card[data-state="forced_open"] { background: var(--open-tint); }
.card[data-state="half_open"] { background: var(--half-tint); }
[data-state="closed"] { --c: var(--closed); }
[data-state="open"] { --c: var(--open); }
[data-state="half_open"] { --c: var(--half_open); }
[data-state="forced_open"] { --c: var(--forced_open); }
[data-state="disabled"] { --c: var(--disabled); }
[data-state="metrics_only"] { --c: var(--metrics_only); }
.head { display: flex; align-items: center; gap: 8px; min-width: 0; }
.name {
  flex: 1; min-width: 0; margin: 0; overflow: hidden; font-size: 15px; font-weight: 600; text-overflow: ellipsis;
  white-space: nowrap;
}
.badge {
  flex: none; padding: 2px 8px; border-radius: 999px; background: var(--c); color: var(--on-badge); font-size: 11px;
  font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase;
}
.stats { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 4px 12px; margin: 0; }
.stats div { min-width: 0; }
.stats dt { color: var(--muted); font-size: 11px; white-space: nowrap; }
.stats dd { margin: 0; font-size: 15px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.stats dd.hot { color: var(--open); }
.spark { display: block; width: 100%; height: 34px; overflow: visible; }
.spark .area { fill: color-mix(in srgb, var(--calls) 14%, transparent); stroke: none; }
.spark .calls, .spark .fails, .spark .base { fill: none; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
.spark .calls { stroke: var(--calls); stroke-width: 1.5; }
.spark .fails { stroke: var(--fails); stroke-width: 1.5; }
.spark .base { stroke: var(--line); stroke-width: 1; }
.when, .reason { margin: 0; overflow: hidden; color: var(--muted); font-size: 12px; text-overflow: ellipsis; white-space: nowrap; }
.when { font-variant-numeric: tabular-nums; }
.card[data-state="open"] .when { color: var(--open); font-weight: 600; }
.reason { margin-top: -6px; }
.reason:empty { display: none; }
.legend { display: flex; gap: 10px; color: var(--muted); font-size: 12px; }
.legend span::before {
  content: ""; display: inline-block; width: 12px; height: 3px; margin-right: 5px; vertical-align: middle;
  background: var(--k);
}
.legend .lc { --k: var(--calls); }
.legend .lf { --k: var(--fails); }
.compact .grid { grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px; padding: 12px 16px 24px; }
.compact .card { gap: 5px; padding: 8px 10px 7px; border-top-width: 3px; contain-intrinsic-size: auto 118px; }
.compact .name { font-size: 13px; }
.compact .badge { padding: 1px 6px; font-size: 10px; }
.compact .stats { gap: 2px 8px; }
.compact .stats dt { font-size: 10px; }
.compact .stats dd { font-size: 13px; }
.compact .spark { height: 24px; }
.compact .when, .compact .reason { font-size: 11px; }
.compact .reason { margin-top: -3px; }
.empty { padding: 40px 20px; color: var(--muted); text-align: center; }
`;
