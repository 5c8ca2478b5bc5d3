/**
 * Small dependency-free SVG charts for `swapless bench --out DIR`: latency over time with reconfiguration
 * marks, and latency CDFs. Plain SVG 1.1 with inline styles, so the files open in any browser or viewer.
 */

/** One line of a chart. */
export interface Series {
  name: string;
  /** [x, y] points; non-finite y values break the line. */
  points: readonly (readonly [number, number])[];
  /** Colour slot (default: the series' position); series that share a slot share a colour. */
  color?: number;
  /** SVG stroke-dasharray, e.g. "6,3" (default solid). */
  dash?: string;
}

/** Options common to every chart. */
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Vertical marks (x values), e.g. reconfiguration times, drawn as dashed lines. */
  marks?: readonly number[];
  /** Use a logarithmic y axis (values ≤ 0 are dropped). */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-2)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

/** A line chart as an SVG document. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const W = options.width ?? 800;
  const H = options.height ?? 400;
  const m = { l: 70, r: 160, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const ty = (y: number) => (options.logY ? Math.log10(y) : y);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (options.logY && y <= 0)) continue;
      xs.push(x);
      ys.push(ty(y));
    }
  }
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const y0 = options.logY ? (ys.length ? Math.min(...ys) : 0) : Math.min(0, ...ys);
  const y1 = ys.length ? Math.max(...ys) : 1;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => m.t + ph - ((ty(y) - y0) / (y1 - y0 || 1)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" y1="${m.t}" x2="${sx(t)}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  const yTicks = options.logY
    ? niceTicks(Math.floor(y0), Math.ceil(y1), Math.max(1, Math.ceil(y1) - Math.floor(y0))).map(
        (e) => 10 ** e,
      )
    : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = sy(t);
    if (y < m.t - 1 || y > m.t + ph + 1) continue;
    out.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const x of options.marks ?? []) {
    if (x < x0 || x > x1) continue;
    out.push(
      `<line x1="${sx(x)}" y1="${m.t}" x2="${sx(x)}" y2="${m.t + ph}" stroke="#999" stroke-dasharray="3,3"/>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[(s.color ?? i) % COLORS.length]!;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (options.logY && y <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dash}/>`);
    const ly = m.t + 14 + i * 18;
    out.push(
      `<line x1="${m.l + pw + 12}" y1="${ly - 4}" x2="${m.l + pw + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${m.l + pw + 38}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  if ((options.marks ?? []).length > 0) {
    const ly = m.t + 14 + series.length * 18;
    out.push(
      `<line x1="${m.l + pw + 12}" y1="${ly - 4}" x2="${m.l + pw + 32}" y2="${ly - 4}" stroke="#999" stroke-dasharray="3,3"/>`,
    );
    out.push(`<text x="${m.l + pw + 38}" y="${ly}">reconfiguration</text>`);
  }
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  out.push(
    `<text x="16" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.t + ph / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The empirical CDF of `values` as chart points (x = value, y = fraction ≤ x), thinned to ≤ `max` points. */
export function cdfPoints(values: readonly number[], max = 400): [number, number][] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / max));
  const pts: [number, number][] = [];
  for (let i = 0; i < n; i += step) pts.push([sorted[i]!, (i + 1) / n]);
  if (pts.at(-1)![1] !== 1) pts.push([sorted[n - 1]!, 1]);
  return pts;
}
