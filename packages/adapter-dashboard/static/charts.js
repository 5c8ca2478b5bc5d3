// SwapLess dashboard charts: small hand-written SVG charts (no dependencies, no build step).
// TimeChart draws lines or step lines over wall-clock time; CacheChart draws the device cache bars.
// Every chart root carries data attributes (data-points, data-series, data-markers, data-scale, data-y-min,
// data-y-max) and every drawn line its label and last value (data-label, data-last), so tests and tools can tell
// what it drew.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes, appended to `parent` when given. */
function svg(name, attrs, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  if (parent) parent.appendChild(node);
  return node;
}

/** Creates a text element. */
function text(parent, x, y, content, attrs) {
  const node = svg('text', { x, y, ...attrs }, parent);
  node.textContent = content;
  return node;
}

/** "Nice" axis ticks covering [min, max]: steps of 1, 2, 2.5 or 5 × 10^n. */
export function niceTicks(min, max, count, integer) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag;
  for (const m of [1, 2, 2.5, 5, 10]) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (integer) step = Math.max(1, Math.ceil(step));
  const first = Math.floor(min / step) * step;
  const ticks = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Clock ticks (epoch ms) for a time domain, about `count` of them, on round seconds/minutes. */
export function timeTicks(t0, t1, count) {
  const span = Math.max(1, (t1 - t0) / 1000);
  const stepS = TIME_STEPS_S.find((s) => span / s <= count) ?? 3600;
  const step = stepS * 1000;
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return ticks;
}

/** HH:MM:SS in local time. */
export function clock(t) {
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A number with a precision that suits its size (3 significant digits, no exponent for ms-scale values). */
export function formatNumber(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(2)));
}

/** An axis tick label: the tick's own digits (ticks are round numbers), no padding zeros. */
export function formatTick(v) {
  return String(Number(v.toPrecision(6)));
}

/** Bytes in MiB (the unit the Edge TPU compiler reports on-chip memory in), KiB or B when smaller. */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '–';
  if (bytes >= 1024 * 1024) {
    const mib = bytes / (1024 * 1024);
    return `${mib >= 10 ? mib.toFixed(1) : mib.toFixed(2)} MiB`;
  }
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Point-marker shapes: with the colour they tell the tenants apart (colour alone fails for colour-blind readers). */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'plus'];

/** SVG path data of a point marker of `shape` centred on (x, y), about 2r wide. */
export function markerPath(shape, x, y, r) {
  const f = (v) => Number(v.toFixed(1));
  switch (shape) {
    case 'square':
      return `M${f(x - r * 0.85)},${f(y - r * 0.85)}h${f(r * 1.7)}v${f(r * 1.7)}h${f(-r * 1.7)}z`;
    case 'triangle':
      return `M${f(x)},${f(y - r)}L${f(x + r)},${f(y + r * 0.8)}H${f(x - r)}z`;
    case 'triangle-down':
      return `M${f(x)},${f(y + r)}L${f(x + r)},${f(y - r * 0.8)}H${f(x - r)}z`;
    case 'diamond':
      return `M${f(x)},${f(y - r * 1.15)}L${f(x + r)},${f(y)}L${f(x)},${f(y + r * 1.15)}L${f(x - r)},${f(y)}z`;
    case 'cross':
      return `M${f(x - r)},${f(y - r)}L${f(x + r)},${f(y + r)}M${f(x + r)},${f(y - r)}L${f(x - r)},${f(y + r)}`;
    case 'plus':
      return `M${f(x - r)},${f(y)}H${f(x + r)}M${f(x)},${f(y - r)}V${f(y + r)}`;
    default:
      return `M${f(x - r)},${f(y)}a${r},${r} 0 1,0 ${f(2 * r)},0a${r},${r} 0 1,0 ${f(-2 * r)},0`;
  }
}

/** Line shapes are drawn with a stroke only; the others are filled. */
const OPEN_MARKERS = new Set(['cross', 'plus']);

/** Line style class of a series or legend entry: `dash` is true/'dashed', 'dotted', or absent (solid). */
function dashClass(dash) {
  return dash === 'dotted' ? 'dotted' : dash ? 'dashed' : '';
}

/**
 * A legend or tooltip swatch: a short line in the entry's colour and line style with its point marker on it
 * (`style` 'block' or 'hatched' for area entries). Carries data-marker and data-dash for tests.
 */
export function swatch(item) {
  if (item.style === 'block' || item.style === 'hatched') {
    const el = document.createElement('span');
    el.className = `swatch ${item.style}`;
    el.style.color = item.color;
    return el;
  }
  const dash = dashClass(item.dash ?? item.style);
  const root = svg('svg', {
    class: 'swatch-line',
    width: 22,
    height: 12,
    viewBox: '0 0 22 12',
    'aria-hidden': 'true',
  });
  root.style.color = item.color;
  svg('line', { x1: 1, x2: 21, y1: 6, y2: 6, class: `swatch-stroke${dash ? ` ${dash}` : ''}` }, root);
  if (item.marker) {
    svg(
      'path',
      {
        d: markerPath(item.marker, 11, 6, 3.5),
        class: `mark${OPEN_MARKERS.has(item.marker) ? ' open' : ''}`,
      },
      root,
    );
  }
  root.dataset.marker = item.marker ?? '';
  root.dataset.dash = dash || 'solid';
  return root;
}

/**
 * The y scale of a chart: linear from 0 (the top a nice tick above the data, at least `minMax`); linear 0..`max`
 * when the quantity has a fixed range (values above it drawn at the top); or logarithmic over whole decades that
 * cover the positive values (zero and negative values leave a gap).
 */
function yScale(options, minPos, maxV, top, ih) {
  if (options.log && Number.isFinite(minPos)) {
    const lo = 10 ** Math.floor(Math.log10(minPos));
    let hi = 10 ** Math.ceil(Math.log10(Math.max(maxV, minPos)));
    if (hi <= lo) hi = lo * 10;
    const decades = Math.round(Math.log10(hi / lo));
    const ticks = [];
    for (let d = 0; d <= decades; d++) {
      const p = Number((lo * 10 ** d).toPrecision(12));
      ticks.push(p);
      // Few decades: 2 and 5 between the powers of ten, so the axis still has a handful of labels.
      if (decades <= 2 && d < decades)
        ticks.push(Number((p * 2).toPrecision(12)), Number((p * 5).toPrecision(12)));
    }
    const span = Math.log10(hi) - Math.log10(lo);
    const y = (v) => (v > 0 ? top + ih - ((Math.log10(v) - Math.log10(lo)) / span) * ih : null);
    return { kind: 'log', min: lo, max: hi, ticks, y };
  }
  let yMax;
  let ticks;
  if (Number.isFinite(options.max)) {
    yMax = options.max;
    ticks = niceTicks(0, yMax, Math.max(2, Math.floor(ih / 38)), options.integer).filter((t) => t <= yMax);
  } else {
    const high = Math.max(maxV * 1.08, options.minMax ?? 0, options.integer ? 1 : 1e-9);
    ticks = niceTicks(0, high, Math.max(2, Math.floor(ih / 38)), options.integer);
    yMax = ticks[ticks.length - 1];
  }
  const y = (v) => top + ih - (Math.min(Math.max(v, 0), yMax) / yMax) * ih;
  return { kind: 'linear', min: 0, max: yMax, ticks, y };
}

/** Indices of the points of a line that get a marker: about `count`, evenly spread, always the newest one. */
function markerIndices(drawn, count) {
  if (drawn.length <= count) return drawn;
  const step = drawn.length / count;
  const picked = [];
  for (let i = drawn.length - 1; i >= 0; i -= step) picked.push(drawn[Math.round(i)]);
  return picked;
}

/** Index of the point nearest to time `t` in points sorted by time. */
function nearest(points, t) {
  let lo = 0;
  let hi = points.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1].t - t) <= Math.abs(points[lo].t - t)) return lo - 1;
  return lo;
}

/** Positions the shared tooltip next to the pointer, inside the viewport. */
function showTooltip(tooltip, clientX, clientY, title, rows) {
  tooltip.replaceChildren();
  const head = document.createElement('div');
  head.className = 'tt-time';
  head.textContent = title;
  tooltip.appendChild(head);
  for (const r of rows) {
    const row = document.createElement('div');
    row.className = 'tt-row';
    const left = document.createElement('span');
    left.append(swatch(r), document.createTextNode(r.label));
    const right = document.createElement('b');
    right.textContent = r.value;
    row.append(left, right);
    tooltip.appendChild(row);
  }
  tooltip.hidden = false;
  const w = tooltip.offsetWidth;
  const h = tooltip.offsetHeight;
  const x = clientX + 16 + w > window.innerWidth ? clientX - 16 - w : clientX + 16;
  const y = Math.min(Math.max(8, clientY - h / 2), window.innerHeight - h - 8);
  tooltip.style.left = `${Math.max(8, x)}px`;
  tooltip.style.top = `${y}px`;
}

/** Re-renders `chart` whenever its container changes width. */
function observeWidth(container, chart) {
  if (typeof ResizeObserver === 'undefined') return;
  let last = container.clientWidth;
  new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w !== last) {
      last = w;
      chart.render();
    }
  }).observe(container);
}

/**
 * A time-series chart: lines (or step lines) per series over wall-clock time, a y axis with a unit, optional
 * vertical markers (events) and horizontal reference lines, and a hover crosshair with a tooltip.
 */
export class TimeChart {
  /**
   * @param {HTMLElement} container element with a `data-chart` attribute
   * @param {{ unit: string, step?: boolean, integer?: boolean, minMax?: number, max?: number, log?: boolean,
   *           height?: number, empty?: string, format?: (v: number) => string, tooltip: HTMLElement }} options
   *   `max`: the quantity's fixed upper bound (the axis ends there); `log`: logarithmic y axis (can be toggled
   *   by setting `options.log` and calling render); `empty`: the message when there is nothing to draw.
   */
  constructor(container, options) {
    this.container = container;
    this.options = options;
    this.data = { series: [], markers: [], hlines: [], domain: null };
    observeWidth(container, this);
  }

  /**
   * @param {{ series: { label: string, color: string, dash?: boolean|'dashed'|'dotted', marker?: string,
   *                     points: { t: number, v: number|null }[] }[],
   *           markers?: { t: number, label: string }[], hlines?: { v: number, label: string }[],
   *           domain: [number, number] | null }} data
   */
  update(data) {
    this.data = { markers: [], hlines: [], ...data };
    this.render();
  }

  render() {
    const { container, options } = this;
    const { series, markers, hlines, domain } = this.data;
    const width = Math.max(280, container.clientWidth || 600);
    const height = options.height ?? 220;
    const m = { left: 52, right: 14, top: 22, bottom: 30 };
    const iw = width - m.left - m.right;
    const ih = height - m.top - m.bottom;
    const root = svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': container.getAttribute('aria-label') ?? 'chart',
    });

    let points = 0;
    let maxV = Number.NEGATIVE_INFINITY;
    let minPos = Number.POSITIVE_INFINITY;
    for (const s of series) {
      for (const p of s.points) {
        if (p.v === null || !Number.isFinite(p.v)) continue;
        points++;
        if (p.v > maxV) maxV = p.v;
        if (p.v > 0 && p.v < minPos) minPos = p.v;
      }
    }
    for (const h of hlines) if (Number.isFinite(h.v) && h.v > maxV) maxV = h.v;
    container.dataset.points = String(points);
    container.dataset.series = String(series.length);
    container.dataset.markers = String(markers.length);

    const format = options.format ?? formatNumber;
    // The unit, above the y axis.
    text(root, 4, 12, options.unit, { class: 'axis-title' });

    if (points === 0 || domain === null) {
      svg('line', { x1: m.left, x2: m.left + iw, y1: m.top + ih, y2: m.top + ih, class: 'axisline' }, root);
      delete container.dataset.scale;
      delete container.dataset.yMin;
      delete container.dataset.yMax;
      text(
        root,
        m.left + iw / 2,
        m.top + ih / 2,
        domain === null ? 'Waiting for data…' : (options.empty ?? 'Waiting for data…'),
        {
          class: 'empty',
          'text-anchor': 'middle',
        },
      );
      container.replaceChildren(root);
      return;
    }

    const [t0, t1raw] = domain;
    const t1 = t1raw > t0 ? t1raw : t0 + 1000;
    const scale = yScale(options, minPos, maxV, m.top, ih);
    const yTicks = scale.ticks;
    const y = scale.y;
    container.dataset.scale = scale.kind;
    container.dataset.yMin = String(scale.min);
    container.dataset.yMax = String(scale.max);
    const x = (t) => m.left + ((t - t0) / (t1 - t0)) * iw;

    // Grid and axes.
    for (const v of yTicks) {
      svg('line', { x1: m.left, x2: m.left + iw, y1: y(v), y2: y(v), class: 'gridline' }, root);
      text(root, m.left - 8, y(v) + 3.5, formatTick(v), { 'text-anchor': 'end' });
    }
    svg('line', { x1: m.left, x2: m.left + iw, y1: m.top + ih, y2: m.top + ih, class: 'axisline' }, root);
    for (const t of timeTicks(t0, t1, Math.max(2, Math.floor(iw / 90)))) {
      svg('line', { x1: x(t), x2: x(t), y1: m.top + ih, y2: m.top + ih + 4, class: 'axisline' }, root);
      text(root, x(t), m.top + ih + 17, clock(t), { 'text-anchor': 'middle' });
    }

    // Reference lines, then events, then the series on top.
    for (const h of hlines) {
      if (y(h.v) === null) continue;
      svg('line', { x1: m.left, x2: m.left + iw, y1: y(h.v), y2: y(h.v), class: 'hline' }, root);
      text(root, m.left + iw - 2, y(h.v) - 4, h.label, { 'text-anchor': 'end' });
    }
    for (const mk of markers) {
      if (mk.t < t0 || mk.t > t1) continue;
      const g = svg('g', { class: 'marker' }, root);
      svg('line', { x1: x(mk.t), x2: x(mk.t), y1: m.top - 2, y2: m.top + ih }, g);
      svg('path', { d: `M${x(mk.t) - 4},${m.top - 8}h8l-4,6z` }, g);
      svg('title', {}, g).textContent = mk.label;
    }
    const clip = `clip-${container.dataset.chart}`;
    const defs = svg('defs', {}, root);
    svg('rect', { x: m.left, y: m.top - 2, width: iw, height: ih + 4 }, svg('clipPath', { id: clip }, defs));
    series.forEach((s, si) => {
      // Step lines of equal value (two tenants at the same k or cores) would hide each other: nudge each series
      // by a pixel or two. The tooltip shows the exact values.
      const nudge = options.step ? (si - (series.length - 1) / 2) * 2 : 0;
      let d = '';
      let pen = false;
      let lastY = 0;
      let last = null;
      const drawn = [];
      for (const p of s.points) {
        const py0 = p.v === null || !Number.isFinite(p.v) || p.t < t0 - 60_000 ? null : y(p.v);
        if (py0 === null) {
          pen = false;
          continue;
        }
        const px = x(p.t).toFixed(1);
        const py = (py0 + nudge).toFixed(1);
        if (!pen) d += `M${px},${py}`;
        else if (options.step) d += `H${px}V${py}`;
        else d += `L${px},${py}`;
        pen = true;
        lastY = py;
        last = p.v;
        if (p.t >= t0) drawn.push([Number(px), Number(py)]);
      }
      if (options.step && pen) d += `H${(m.left + iw).toFixed(1)}V${lastY}`;
      if (d === '') return;
      const dash = dashClass(s.dash);
      const path = svg(
        'path',
        { d, class: `series${dash ? ` ${dash}` : ''}`, 'clip-path': `url(#${clip})` },
        root,
      );
      // A style, not the stroke attribute: colours may be CSS variables (theme colours).
      path.style.stroke = s.color;
      path.dataset.label = s.label;
      path.dataset.last = String(last);
      if (s.marker) {
        path.dataset.marker = s.marker;
        const g = svg('g', { class: 'marks', 'clip-path': `url(#${clip})` }, root);
        g.dataset.label = s.label;
        g.dataset.marker = s.marker;
        g.style.color = s.color;
        const open = OPEN_MARKERS.has(s.marker) ? ' open' : '';
        const marks = markerIndices(drawn, Math.max(4, Math.floor(iw / 70)));
        g.dataset.count = String(marks.length);
        for (const [px, py] of marks)
          svg('path', { d: markerPath(s.marker, px, py, 3.5), class: `mark${open}` }, g);
      }
    });

    // Hover: crosshair and tooltip with every series' value at the nearest sample.
    const cross = svg('line', { y1: m.top, y2: m.top + ih, class: 'crosshair', visibility: 'hidden' }, root);
    const overlay = svg('rect', { x: m.left, y: m.top, width: iw, height: ih, fill: 'transparent' }, root);
    const tooltip = options.tooltip;
    overlay.addEventListener('pointermove', (ev) => {
      const box = root.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * width;
      const t = t0 + ((px - m.left) / iw) * (t1 - t0);
      let best = null;
      const rows = [];
      for (const s of series) {
        const i = nearest(s.points, t);
        if (i < 0) continue;
        const p = s.points[i];
        if (best === null || Math.abs(p.t - t) < Math.abs(best - t)) best = p.t;
        rows.push({
          label: s.label,
          color: s.color,
          dash: s.dash,
          marker: s.marker,
          value: `${format(p.v)} ${options.unit}`,
        });
      }
      if (best === null) return;
      cross.setAttribute('x1', x(best));
      cross.setAttribute('x2', x(best));
      cross.setAttribute('visibility', 'visible');
      showTooltip(tooltip, ev.clientX, ev.clientY, clock(best), rows);
    });
    overlay.addEventListener('pointerleave', () => {
      cross.setAttribute('visibility', 'hidden');
      tooltip.hidden = true;
    });
    container.replaceChildren(root);
  }
}

/**
 * The device cache: one bar per tenant with an Edge TPU head — parameters cached in on-chip SRAM (solid) and
 * streamed over the link on every inference (hatched) — against the usable SRAM capacity (red dashed line), the
 * current holder of the caching token highlighted.
 */
export class CacheChart {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container;
    this.data = null;
    observeWidth(container, this);
  }

  /**
   * @param {{ capacityBytes: number, holder: string|null,
   *           rows: { name: string, color: string, k: number, cachedBytes: number, streamedBytes: number }[],
   *           cpuOnly: string[] }} data
   */
  update(data) {
    this.data = data;
    this.render();
  }

  render() {
    const { container, data } = this;
    const width = Math.max(280, container.clientWidth || 600);
    const rows = data?.rows ?? [];
    const rowH = 38;
    const m = { left: Math.min(170, width * 0.3), right: 16, top: 24, bottom: 32 };
    const height = Math.max(120, m.top + m.bottom + rows.length * rowH);
    const iw = width - m.left - m.right;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
    container.dataset.points = String(rows.length);
    container.dataset.series = String(rows.length);
    container.dataset.holder = data?.holder ?? '';
    text(root, 4, 12, 'MiB', { class: 'axis-title' });
    if (data === null || rows.length === 0) {
      const msg =
        data === null
          ? 'Waiting for data…'
          : data.cpuOnly.length > 0
            ? 'No Edge TPU head: every tenant runs on the CPU (k = 0)'
            : 'No tenants';
      text(root, m.left + iw / 2, height / 2, msg, { class: 'empty', 'text-anchor': 'middle' });
      container.replaceChildren(root);
      return;
    }
    const cap = data.capacityBytes;
    const maxBytes = Math.max(cap, ...rows.map((r) => r.cachedBytes + r.streamedBytes), 1);
    const ticks = niceTicks(0, maxBytes / (1024 * 1024), Math.max(2, Math.floor(iw / 80)));
    const xMax = ticks[ticks.length - 1] * 1024 * 1024;
    const x = (b) => m.left + (b / xMax) * iw;
    const ih = rows.length * rowH;
    for (const t of ticks) {
      const px = x(t * 1024 * 1024);
      svg('line', { x1: px, x2: px, y1: m.top, y2: m.top + ih, class: 'gridline' }, root);
      text(root, px, m.top + ih + 16, formatTick(t), { 'text-anchor': 'middle' });
    }
    svg('line', { x1: m.left, x2: m.left + iw, y1: m.top + ih, y2: m.top + ih, class: 'axisline' }, root);
    const defs = svg('defs', {}, root);
    rows.forEach((r, i) => {
      const y0 = m.top + i * rowH;
      const holds = data.holder === r.name;
      if (holds) svg('rect', { x: 0, y: y0 + 2, width, height: rowH - 4, rx: 6, class: 'holder-row' }, root);
      text(root, 10, y0 + 17, r.name, { class: 'row-label', fill: r.color });
      text(root, 10, y0 + 31, holds ? `k = ${r.k} · holds token` : `k = ${r.k}`, {
        class: holds ? 'token-badge' : 'row-sub',
      });
      const pid = `hatch-${i}`;
      const pat = svg(
        'pattern',
        { id: pid, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        defs,
      );
      svg('rect', { width: 6, height: 6, fill: r.color, 'fill-opacity': 0.16 }, pat);
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: r.color, 'stroke-width': 2.2 }, pat);
      const barY = y0 + 9;
      const barH = rowH - 18;
      // At least 2 px for a non-zero part, so a small head is still visible next to an 8 MiB scale.
      const minW = (bytes) => (bytes > 0 ? 2 : 0);
      const cachedW = Math.max(minW(r.cachedBytes), x(r.cachedBytes) - m.left);
      const streamedW = Math.max(
        minW(r.streamedBytes),
        x(r.cachedBytes + r.streamedBytes) - m.left - cachedW,
      );
      const cached = svg(
        'rect',
        { x: m.left, y: barY, width: cachedW, height: barH, rx: 3, fill: r.color },
        root,
      );
      svg('title', {}, cached).textContent = `${r.name}: ${formatBytes(r.cachedBytes)} cached on chip`;
      const streamed = svg(
        'rect',
        {
          x: m.left + cachedW,
          y: barY,
          width: streamedW,
          height: barH,
          rx: 3,
          fill: `url(#${pid})`,
          stroke: r.color,
        },
        root,
      );
      svg('title', {}, streamed).textContent =
        `${r.name}: ${formatBytes(r.streamedBytes)} streamed per inference`;
      const label = `${formatBytes(r.cachedBytes)} cached · ${formatBytes(r.streamedBytes)} streamed`;
      const end = m.left + cachedW + streamedW;
      const inside = end + 8 + label.length * 6 > width - m.right;
      text(root, inside ? end - 6 : end + 8, barY + barH / 2 + 4, label, {
        'text-anchor': inside ? 'end' : 'start',
        class: 'row-sub',
      });
    });
    const cx = x(cap);
    svg('line', { x1: cx, x2: cx, y1: m.top - 6, y2: m.top + ih, class: 'capacity' }, root);
    text(root, cx, m.top - 10, `usable SRAM ${formatBytes(cap)}`, {
      class: 'capacity-label',
      'text-anchor': cx > width - 120 ? 'end' : 'middle',
    });
    container.replaceChildren(root);
  }
}
