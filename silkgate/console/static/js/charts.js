// Small SVG charts drawn from data (no library, nothing inline that the CSP forbids):
// each is a <figure> with an SVG (role="img" and a text summary) and the same numbers in a
// table for screen readers and keyboard users. Colours come from CSS classes.

import { fmtNum, h, table } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v);
}

function frame(title, summary, svg, dataTable, legend) {
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", {}, title),
    legend || null,
    svg,
    h("details", {}, h("summary", {}, `${title}: the numbers`), dataTable),
    h("p", { class: "visually-hidden" }, summary),
  );
}

function axisY(max, x0, y0, height, width) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  return ticks.map((t) => {
    const y = y0 - (t / max) * height;
    return s(
      "g",
      { class: "tick" },
      s("line", { x1: x0, x2: x0 + width, y1: y, y2: y }),
      s("text", { x: x0 - 6, y: y + 4, "text-anchor": "end" }, fmtNum(Math.round(t))),
    );
  });
}

function legendOf(series) {
  return h(
    "ul",
    { class: "legend" },
    series.map((sr) => h("li", {}, h("span", { class: `swatch ${sr.cls}`, "aria-hidden": "true" }), sr.name)),
  );
}

/** A line of (label, value) points, e.g. the ledger size over time. */
export function lineChart({ title, points, yLabel = "value" }) {
  const W = 640, H = 240, L = 64, B = 36, T = 12, R = 12;
  const width = W - L - R, height = H - T - B;
  const max = niceMax(Math.max(0, ...points.map((p) => p.y)));
  const x = (i) => L + (points.length <= 1 ? width / 2 : (i / (points.length - 1)) * width);
  const y = (v) => T + height - (v / max) * height;
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
  const every = Math.max(1, Math.ceil(points.length / 6));
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${points.length} points, last ${points.length ? fmtNum(points[points.length - 1].y) : "none"}`, class: "chart-svg" },
    axisY(max, L, T + height, height, width),
    s("path", { d: path, class: "line" }),
    points.map((p, i) => s("circle", { cx: x(i), cy: y(p.y), r: 3, class: "dot" }, s("title", {}, `${p.x}: ${fmtNum(p.y)}`))),
    points.map((p, i) => (i % every === 0 ? s("text", { x: x(i), y: H - 12, "text-anchor": "middle", class: "xlabel" }, p.x) : null)),
  );
  const data = table(title, [{ label: "when", value: (p) => p.x }, { label: yLabel, value: (p) => fmtNum(p.y), num: true }], points);
  return frame(title, `${title}. Data table follows.`, svg, data);
}

/** Stacked bars: categories along x, one stack per category. series: [{name, cls, values}]. */
export function stackedBars({ title, categories, series }) {
  const W = 640, H = 260, L = 64, B = 48, T = 12, R = 12;
  const width = W - L - R, height = H - T - B;
  const totals = categories.map((_, i) => series.reduce((n, sr) => n + (sr.values[i] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const band = width / Math.max(1, categories.length);
  const bw = Math.max(4, Math.min(48, band * 0.6));
  const bars = categories.map((cat, i) => {
    let acc = 0;
    const cx = L + band * i + band / 2;
    return s(
      "g",
      {},
      series.map((sr) => {
        const v = sr.values[i] || 0;
        if (!v) return null;
        const y0 = T + height - ((acc + v) / max) * height;
        const hgt = (v / max) * height;
        acc += v;
        return s("rect", { x: cx - bw / 2, y: y0, width: bw, height: Math.max(1, hgt), class: `bar ${sr.cls}` }, s("title", {}, `${cat}, ${sr.name}: ${fmtNum(v)}`));
      }),
      s("text", { x: cx, y: H - 26, "text-anchor": "middle", class: "xlabel" }, cat),
    );
  });
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${categories.length} groups`, class: "chart-svg" },
    axisY(max, L, T + height, height, width),
    bars,
  );
  const rows = categories.map((cat, i) => ({ cat, i }));
  const data = table(
    title,
    [{ label: "group", value: (r) => r.cat }, ...series.map((sr) => ({ label: sr.name, value: (r) => fmtNum(sr.values[r.i] || 0), num: true })), { label: "total", value: (r) => fmtNum(totals[r.i]), num: true }],
    rows,
  );
  return frame(title, `${title}. Data table follows.`, svg, data, legendOf(series));
}

/** Horizontal bars, e.g. the rules fired most often. items: [{label, value}]. */
export function hbars({ title, items, valueLabel = "count" }) {
  const W = 640, row = 26, L = 230, R = 70;
  const H = Math.max(row, items.length * row) + 8;
  const max = niceMax(Math.max(0, ...items.map((it) => it.value)));
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${items.length} items`, class: "chart-svg" },
    items.map((it, i) => {
      const w = ((W - L - R) * it.value) / max;
      const y = 4 + i * row;
      return s(
        "g",
        {},
        s("text", { x: L - 8, y: y + 16, "text-anchor": "end", class: "ylabel" }, it.label.length > 30 ? `${it.label.slice(0, 29)}…` : it.label),
        s("rect", { x: L, y: y + 3, width: Math.max(1, w), height: row - 8, class: "bar s-rule" }, s("title", {}, `${it.label}: ${fmtNum(it.value)}`)),
        s("text", { x: L + w + 6, y: y + 16, class: "value" }, fmtNum(it.value)),
      );
    }),
  );
  const data = table(title, [{ label: "item", value: (it) => it.label }, { label: valueLabel, value: (it) => fmtNum(it.value), num: true }], items);
  return frame(title, `${title}. Data table follows.`, svg, data);
}
