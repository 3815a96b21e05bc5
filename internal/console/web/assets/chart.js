// Small hand-written SVG charts: stacked bars of succeeded/failed per time bucket, and
// a line of a sampled value. Sizes go in SVG attributes, colours in CSS classes.

import {h, s} from './dom.js';

const W = 1000, H = 180, PAD = {l: 36, r: 8, t: 8, b: 22};

function axisLabel(d, spanMs) {
  return spanMs > 36 * 3600e3
    ? d.toLocaleDateString(undefined, {month: 'short', day: 'numeric'})
    : d.toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit'});
}

function niceMax(v) {
  if (v <= 4) return 4;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return v;
}

function yAxis(svg, max, plotH) {
  for (const f of [0, 0.5, 1]) {
    const y = PAD.t + plotH - f * plotH;
    svg.append(s('line', {class: 'grid', x1: PAD.l, x2: W - PAD.r, y1: y, y2: y}));
    svg.append(s('text', {class: 'tick', x: PAD.l - 4, y: y + 4, 'text-anchor': 'end'}, String(Math.round(max * f))));
  }
}

/**
 * barChart draws buckets [{start, succeeded, failed}] as stacked bars, with a legend;
 * label describes the chart for screen readers.
 */
export function barChart(buckets, label) {
  const plotW = W - PAD.l - PAD.r, plotH = H - PAD.t - PAD.b;
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label});
  const total = buckets.reduce((a, b) => a + (b.succeeded || 0) + (b.failed || 0), 0);
  const max = niceMax(Math.max(0, ...buckets.map((b) => (b.succeeded || 0) + (b.failed || 0))));
  yAxis(svg, max, plotH);
  const n = Math.max(buckets.length, 1);
  const bw = plotW / n;
  const span = buckets.length > 1 ? new Date(buckets.at(-1).start) - new Date(buckets[0].start) : 0;
  buckets.forEach((b, i) => {
    const x = PAD.l + i * bw + Math.min(2, bw * 0.15);
    const w = Math.max(1, bw - 2 * Math.min(2, bw * 0.15));
    const ok = b.succeeded || 0, bad = b.failed || 0;
    const hOk = (ok / max) * plotH, hBad = (bad / max) * plotH;
    const g = s('g', null, s('title', null, `${new Date(b.start).toLocaleString()}: ${ok} succeeded, ${bad} failed`));
    if (ok) g.append(s('rect', {class: 'ok', x, y: PAD.t + plotH - hOk, width: w, height: hOk}));
    if (bad) g.append(s('rect', {class: 'bad', x, y: PAD.t + plotH - hOk - hBad, width: w, height: hBad}));
    svg.append(g);
    const every = Math.ceil(n / 6);
    if (i % every === 0) {
      svg.append(s('text', {class: 'tick', x: x + w / 2, y: H - 6, 'text-anchor': 'middle'}, axisLabel(new Date(b.start), span)));
    }
  });
  if (!total) svg.append(s('text', {class: 'tick', x: PAD.l + plotW / 2, y: PAD.t + plotH / 2, 'text-anchor': 'middle'}, 'No attempts in this period'));
  return h('figure', {class: 'chart-box'}, svg, h('figcaption', {class: 'legend'},
    h('span', {class: 'key ok'}), 'succeeded ', h('span', {class: 'key bad'}), 'failed'));
}

/** lineChart draws points [{t: Date, v: number}] as a line; label describes it. */
export function lineChart(points, label, unit = '') {
  const plotW = W - PAD.l - PAD.r, plotH = H - PAD.t - PAD.b;
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label});
  const max = niceMax(Math.max(0, ...points.map((p) => p.v)));
  yAxis(svg, max, plotH);
  if (points.length) {
    const t0 = points[0].t.getTime(), t1 = Math.max(points.at(-1).t.getTime(), t0 + 1);
    const xy = points.map((p) => [PAD.l + ((p.t.getTime() - t0) / (t1 - t0)) * plotW, PAD.t + plotH - (p.v / max) * plotH]);
    if (xy.length === 1) xy.push([W - PAD.r, xy[0][1]]);
    svg.append(s('polyline', {class: 'line', points: xy.map((p) => p.map((n) => n.toFixed(1)).join(',')).join(' ')}));
    svg.append(s('text', {class: 'tick', x: PAD.l, y: H - 6}, axisLabel(points[0].t, 0)));
    svg.append(s('text', {class: 'tick', x: W - PAD.r, y: H - 6, 'text-anchor': 'end'}, axisLabel(points.at(-1).t, 0)));
    svg.append(s('title', null, `${label}: now ${points.at(-1).v}${unit}`));
  }
  return h('figure', {class: 'chart-box'}, svg);
}
