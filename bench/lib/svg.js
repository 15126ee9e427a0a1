// A small SVG writer for the bench charts: horizontal bars with spread whiskers, and line charts
// on linear or log axes. Every chart is a panel ({ width, height, body }); figure() stacks panels
// into one standalone SVG document.

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

/** Escapes text for SVG. */
export function esc(value) {
  return String(value).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function attrs(map) {
  return Object.entries(map)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
}

function text(x, y, content, extra = {}) {
  return `<text${attrs({ x: round(x), y: round(y), 'font-size': 12, fill: '#222', ...extra })}>${esc(content)}</text>`;
}

function line(x1, y1, x2, y2, extra = {}) {
  return `<line${attrs({ x1: round(x1), y1: round(y1), x2: round(x2), y2: round(y2), stroke: '#222', ...extra })}/>`;
}

function round(v) {
  return Math.round(v * 10) / 10;
}

/** Short number formatting: 1234 -> "1,234", 0.0123 -> "0.0123". */
export function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

/** "Nice" linear ticks from 0 to at least max. */
function linearTicks(max, count = 5) {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** 1-2-5 ticks spanning [min, max] on a log axis. */
function logTicks(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks;
}

/**
 * Horizontal bars, one row per entry: { label, value, lo, hi, color }. lo/hi draw a whisker (the
 * spread); the value is printed at the end of the bar.
 */
export function hbarChart({ title, subtitle, axisLabel, rows, width = 760, right = 110, format = fmt }) {
  const left = 150;
  const top = subtitle ? 48 : 32;
  const rowH = 26;
  const plotW = width - left - right;
  const max = Math.max(...rows.map((r) => Math.max(r.value, r.hi ?? 0)));
  const ticks = linearTicks(max);
  const xMax = ticks[ticks.length - 1];
  const x = (v) => left + (v / xMax) * plotW;
  const plotH = rows.length * rowH;
  const parts = [text(10, 20, title, { 'font-size': 15, 'font-weight': 'bold' })];
  if (subtitle) parts.push(text(10, 38, subtitle, { fill: '#555' }));
  for (const t of ticks) {
    parts.push(line(x(t), top, x(t), top + plotH, { stroke: '#ddd' }));
    parts.push(text(x(t), top + plotH + 16, format(t), { 'text-anchor': 'middle', fill: '#555', 'font-size': 11 }));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(text(left - 8, y + rowH / 2 + 4, r.label, { 'text-anchor': 'end', 'font-weight': r.bold ? 'bold' : undefined }));
    parts.push(`<rect${attrs({ x: left, y: y + 4, width: round(Math.max(x(r.value) - left, 1)), height: rowH - 8, fill: r.color ?? '#888' })}/>`);
    if (r.lo !== undefined && r.hi !== undefined) {
      const ym = y + rowH / 2;
      parts.push(line(x(r.lo), ym, x(r.hi), ym, { 'stroke-width': 1.5 }));
      parts.push(line(x(r.lo), ym - 5, x(r.lo), ym + 5, { 'stroke-width': 1.5 }));
      parts.push(line(x(r.hi), ym - 5, x(r.hi), ym + 5, { 'stroke-width': 1.5 }));
    }
    const labelX = Math.max(x(r.value), r.hi !== undefined ? x(r.hi) : 0) + 6;
    parts.push(text(labelX, y + rowH / 2 + 4, r.note ?? format(r.value), { 'font-size': 11 }));
  });
  parts.push(line(left, top, left, top + plotH));
  parts.push(text(left + plotW / 2, top + plotH + 34, axisLabel, { 'text-anchor': 'middle' }));
  return { width, height: top + plotH + 46, body: parts.join('\n') };
}

/**
 * Lines over x: series [{ name, color, dash, points: [{ x, y, lo, hi }] }]. xTicks [{ value,
 * label }]; logY for a log y axis. The legend, at the right, gives each series' value at its last
 * point, under legendTitle.
 */
export function lineChart({
  title,
  subtitle,
  xLabel,
  yLabel,
  xTicks,
  series,
  logY = false,
  width = 760,
  height = 380,
  format = fmt,
  legendTitle,
}) {
  const left = 70;
  const right = 190;
  const top = subtitle ? 52 : 36;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y])).filter((v) => v > 0);
  const xs = xTicks.map((t) => t.value);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const x = (v) => left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  let y;
  let yTicks;
  if (logY) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
    yTicks = logTicks(lo, hi);
    y = (v) => top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  } else {
    yTicks = linearTicks(Math.max(...ys));
    const hi = yTicks[yTicks.length - 1];
    y = (v) => top + plotH - (v / hi) * plotH;
  }
  const parts = [text(10, 20, title, { 'font-size': 15, 'font-weight': 'bold' })];
  if (subtitle) parts.push(text(10, 38, subtitle, { fill: '#555' }));
  for (const t of yTicks) {
    parts.push(line(left, y(t), left + plotW, y(t), { stroke: '#e3e3e3' }));
    parts.push(text(left - 6, y(t) + 4, format(t), { 'text-anchor': 'end', fill: '#555', 'font-size': 11 }));
  }
  for (const t of xTicks) {
    parts.push(line(x(t.value), top + plotH, x(t.value), top + plotH + 5));
    parts.push(text(x(t.value), top + plotH + 18, t.label, { 'text-anchor': 'middle', fill: '#555', 'font-size': 11 }));
  }
  parts.push(line(left, top, left, top + plotH));
  parts.push(line(left, top + plotH, left + plotW, top + plotH));
  parts.push(text(left + plotW / 2, height - 10, xLabel, { 'text-anchor': 'middle' }));
  parts.push(text(16, top + plotH / 2, yLabel, { 'text-anchor': 'middle', transform: `rotate(-90 16 ${round(top + plotH / 2)})` }));

  const labels = [];
  for (const s of series) {
    const pts = s.points.filter((p) => p.y > 0 || !logY);
    for (const p of pts) {
      if (p.lo !== undefined && p.hi !== undefined) {
        parts.push(line(x(p.x), y(p.hi), x(p.x), y(p.lo), { stroke: s.color, 'stroke-opacity': 0.6 }));
      }
    }
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${round(x(p.x))},${round(y(p.y))}`).join(' ');
    parts.push(`<path${attrs({ d, fill: 'none', stroke: s.color, 'stroke-width': s.bold ? 3 : 2, 'stroke-dasharray': s.dash })}/>`);
    for (const p of pts) parts.push(`<circle${attrs({ cx: round(x(p.x)), cy: round(y(p.y)), r: 3.5, fill: s.color })}/>`);
    const lastPoint = pts[pts.length - 1];
    if (lastPoint) labels.push({ y: y(lastPoint.y), s, value: lastPoint.y });
  }
  // Legend at the right, each entry near its line's last point, pushed apart so none overlap.
  labels.sort((a, b) => a.y - b.y);
  if (labels.length > 0 && legendTitle) labels[0].y = Math.max(labels[0].y, top + 18);
  for (let i = 1; i < labels.length; i++) labels[i].y = Math.max(labels[i].y, labels[i - 1].y + 15);
  if (legendTitle) parts.push(text(left + plotW + 10, top + 4, legendTitle, { 'font-size': 11, fill: '#555' }));
  for (const l of labels) {
    const lx = left + plotW + 10;
    parts.push(line(lx, l.y, lx + 16, l.y, { stroke: l.s.color, 'stroke-width': l.s.bold ? 3 : 2, 'stroke-dasharray': l.s.dash }));
    parts.push(text(lx + 21, l.y + 4, `${l.s.name} (${format(l.value)})`, { 'font-size': 11, 'font-weight': l.s.bold ? 'bold' : undefined }));
  }
  return { width, height, body: parts.join('\n') };
}

/** One SVG document holding the panels one under another, with an optional footnote. */
export function figure(panels, footnote) {
  const width = Math.max(...panels.map((p) => p.width));
  let y = 0;
  const groups = panels.map((p) => {
    const g = `<g transform="translate(0 ${y})">\n${p.body}\n</g>`;
    y += p.height + 14;
    return g;
  });
  if (footnote) {
    groups.push(text(10, y + 4, footnote, { 'font-size': 10.5, fill: '#666' }));
    y += 16;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${groups.join('\n')}\n</svg>\n`
  );
}
