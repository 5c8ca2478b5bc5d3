// SwapLess dashboard: polls <base>/data every second (with `since`, so only new samples travel), keeps a
// ten-minute window of samples and redraws the charts, the tenant table and the decision log.
// Hand-written, no dependencies, no build step. Every value comes from the server; text goes in via textContent.

import { CacheChart, clock, formatNumber, MARKERS, swatch, TimeChart } from './charts.js';

const BASE = document.querySelector('meta[name="swapless-base"]')?.getAttribute('content') ?? '/dashboard';
const POLL_MS = 1000;
const WINDOW_MS = 10 * 60 * 1000;
const MIN_SPAN_MS = 30 * 1000;
const LOG_ROWS = 50;
// A tenant whose measured/predicted ratio is off by more than this is highlighted (the controller's own threshold).
const DIVERGENCE = 0.25;
const LOG_SCALE_KEY = 'swapless.dashboard.latencyLog';
// Tableau 10: distinguishable, and readable on light and dark backgrounds.
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const $ = (sel) => document.querySelector(sel);
const tooltip = $('#tooltip');
const chartEl = (name) => {
  const el = $(`[data-chart="${name}"]`);
  el.setAttribute('aria-label', `${el.closest('.card').querySelector('h2').textContent} chart`);
  return el;
};

const charts = {
  latency: new TimeChart(chartEl('latency'), { unit: 'ms', tooltip, height: 260, log: storedLogScale() }),
  rate: new TimeChart(chartEl('rate'), { unit: 'req/s', tooltip }),
  outcomes: new TimeChart(chartEl('outcomes'), { unit: 'req/s', tooltip }),
  tpu: new TimeChart(chartEl('tpu'), { unit: '%', tooltip, max: 100 }),
  lag: new TimeChart(chartEl('lag'), { unit: 'ms', tooltip, empty: 'No emulation lag reported' }),
  divergence: new TimeChart(chartEl('divergence'), {
    unit: '×',
    tooltip,
    empty: 'No prediction to compare yet',
  }),
  k: new TimeChart(chartEl('k'), { unit: 'k (ops)', tooltip, step: true, integer: true }),
  cores: new TimeChart(chartEl('cores'), { unit: 'cores', tooltip, step: true, integer: true }),
  cache: new CacheChart(chartEl('cache')),
};

/** The latency axis scale the reader chose last time (log or linear), if the browser lets us remember it. */
function storedLogScale() {
  try {
    return localStorage.getItem(LOG_SCALE_KEY) === 'log';
  } catch {
    return false;
  }
}

const logToggle = $('#latency-log');
logToggle.checked = charts.latency.options.log;
logToggle.addEventListener('change', () => {
  charts.latency.options.log = logToggle.checked;
  try {
    localStorage.setItem(LOG_SCALE_KEY, logToggle.checked ? 'log' : 'linear');
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
  charts.latency.render();
});

/** Samples in the window, oldest first. */
let samples = [];
let lastAt;
/** Tenant name → its look: a colour and a point marker (kept for the page's life, so a tenant keeps its look). */
const looks = new Map();

function lookOf(name) {
  let l = looks.get(name);
  if (l === undefined) {
    const i = looks.size;
    l = { color: PALETTE[i % PALETTE.length], marker: MARKERS[i % MARKERS.length] };
    looks.set(name, l);
  }
  return l;
}

const colorOf = (name) => lookOf(name).color;

function merge(series) {
  if (!Array.isArray(series)) return;
  for (const s of series) {
    if (s === null || typeof s !== 'object' || !Number.isFinite(s.atMs)) continue;
    if (lastAt !== undefined && s.atMs <= lastAt) continue;
    samples.push(s);
    lastAt = s.atMs;
  }
  const newest = samples.length > 0 ? samples[samples.length - 1].atMs : 0;
  if (samples.length > 0 && samples[0].atMs < newest - WINDOW_MS) {
    samples = samples.filter((s) => s.atMs >= newest - WINDOW_MS);
  }
}

/**
 * Tenant names in display order: the service's current tenants. A removed tenant leaves the charts and legends
 * even while its samples are still in the window. Only when the server sends no tenant list are the names taken
 * from the samples.
 */
function tenantNames(tenants) {
  const names = [];
  const seen = new Set();
  const add = (name) => {
    if (typeof name === 'string' && !seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  };
  if (tenants !== null) for (const t of tenants) add(t?.name);
  else for (const s of samples) for (const name of Object.keys(s.tenants ?? {})) add(name);
  for (const n of names) lookOf(n);
  return names;
}

function domain() {
  if (samples.length === 0) return null;
  const newest = samples[samples.length - 1].atMs;
  const oldest = Math.max(samples[0].atMs, newest - WINDOW_MS);
  return [Math.min(oldest, newest - MIN_SPAN_MS), newest];
}

const finite = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * One series per tenant of a per-tick field, in the tenant's colour and marker. `perSecond`: a count of the tick
 * window divided by the window's length (the time since the previous sample; the first sample has none).
 */
function perTenant(names, field, { perSecond = false, label = (n) => n, dash } = {}) {
  return names.map((name) => ({
    label: label(name),
    ...lookOf(name),
    dash,
    points: samples.map((s, i) => {
      const v = finite(s.tenants?.[name]?.[field]);
      if (v === null) return { t: s.atMs, v: null };
      if (!perSecond) return { t: s.atMs, v };
      const dt = i > 0 ? (s.atMs - samples[i - 1].atMs) / 1000 : 0;
      return { t: s.atMs, v: dt > 0 ? v / dt : null };
    }),
  }));
}

/** A legend entry for a line style (what solid, dashed or dotted lines measure), in the muted colour. */
const lineKey = (label, dash) => ({ label, color: 'var(--muted)', dash, bold: false });

/** Legend entries of the tenants: name, colour and point marker, as drawn on the lines. */
const tenantLegend = (names) => names.map((n) => ({ label: n, ...lookOf(n) }));

function legend(name, items) {
  const el = $(`[data-legend="${name}"]`);
  el.replaceChildren(
    ...items.map((it) => {
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.dataset.label = it.label;
      const label = document.createElement(it.bold === false ? 'span' : 'b');
      label.textContent = it.label;
      item.append(swatch(it), label);
      return item;
    }),
  );
}

/** The newest per-tick value of a tenant's field (null when the newest sample with the tenant lacks it). */
function latest(name, field) {
  for (let i = samples.length - 1; i >= 0; i--) {
    const t = samples[i].tenants?.[name];
    if (t !== undefined) return finite(t[field]);
  }
  return null;
}

/** Decisions that changed some tenant's cut or cores (what the runtime reconfigured), as chart markers. */
function reconfigurations(history) {
  const markers = [];
  let prev = null;
  for (const d of history) {
    if (!d?.applied || !Array.isArray(d.choices)) continue;
    const key = d.choices
      .map((c) => `${c.name}:${c.k}:${c.cores}:${c.mode ?? ''}`)
      .sort()
      .join('|');
    if (key !== prev) {
      markers.push({
        t: d.atMs,
        label: `#${d.seq} ${d.trigger}: ${d.choices.map((c) => `${c.name} k=${c.k} c=${c.cores}`).join(', ')}`,
      });
    }
    prev = key;
  }
  return markers;
}

function cell(row, content, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  if (content instanceof Node) td.appendChild(content);
  else td.textContent = content;
  row.appendChild(td);
  return td;
}

function badge(kind, label, title) {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.textContent = label;
  if (title) b.title = title;
  return b;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? formatNumber(v) : '–');

/** Measured latency above the tenant's SLO (mean over the runtime's trace window); false without an SLO. */
function overSlo(t) {
  const slo = finite(t.sloMs);
  return (
    slo !== null && t.measured?.count > 0 && finite(t.measured.meanMs) !== null && t.measured.meanMs > slo
  );
}

/** The divergence cell: measured/predicted as "×1.42", highlighted beyond the controller's threshold. */
function divergenceCell(tr, divergence) {
  const ratio = finite(divergence?.ratio);
  const td = cell(tr, ratio === null ? '–' : `×${ratio.toFixed(2)}`, 'num divergence');
  if (ratio !== null && Math.abs(ratio - 1) > DIVERGENCE) {
    td.classList.add('diverging');
    const since = finite(divergence.sinceMs);
    td.title =
      `Measured mean ${num(divergence.measuredMs)} ms vs predicted ${num(divergence.predictedMs)} ms` +
      (since !== null ? `, off by more than ${DIVERGENCE * 100} % since ${clock(since)}` : '');
  }
}

function renderTenants(tenants) {
  const table = $('#tenant-table');
  const body = table.querySelector('tbody');
  const rows = tenants.map((t) => {
    const tr = document.createElement('tr');
    tr.dataset.tenant = t.name;
    const name = document.createElement('span');
    name.className = 'tenant-name';
    const dot = swatch(lookOf(t.name));
    const src = document.createElement('span');
    src.className = 'src';
    src.textContent = t.source ?? '';
    name.append(dot, document.createTextNode(t.name), src);
    cell(tr, name);
    cell(tr, `${t.k ?? '–'} / ${t.ops ?? '–'}`, 'num');
    cell(tr, t.mode && t.cores > 1 ? `${t.cores} (${t.mode})` : String(t.cores ?? '–'), 'num');
    cell(tr, num(t.rate?.estimatedPerS), 'num');
    cell(tr, num(t.predictedMs), 'num');
    const mean = cell(tr, num(t.measured?.count > 0 ? t.measured.meanMs : null), 'num');
    cell(tr, num(t.measured?.count > 0 ? t.measured.p99Ms : null), 'num');
    cell(tr, num(t.sloMs), 'num');
    if (overSlo(t)) {
      tr.classList.add('slo-breach');
      mean.classList.add('over-slo');
      tr.title = `${t.name}: mean latency ${num(t.measured.meanMs)} ms is above its SLO of ${num(t.sloMs)} ms`;
    }
    divergenceCell(tr, t.divergence);
    cell(tr, num(latest(t.name, 'emulationLagMs')), 'num emu-lag');
    // At k = 0 there is no Edge TPU stage: every part of the latency is measured, whatever the backend.
    const timing = t.timing === 'emulated' && t.k !== 0 ? 'emulated' : 'measured';
    cell(
      tr,
      badge(
        timing,
        timing,
        timing === 'emulated'
          ? 'Edge TPU stage timed by the calibrated device model; CPU stage measured'
          : 'Every stage measured',
      ),
    );
    cell(tr, String(t.inFlight ?? '–'), 'num');
    cell(tr, `${t.completed ?? 0} · ${t.failed ?? 0} · ${t.rejected ?? 0} · ${t.expired ?? 0}`, 'num');
    const device = cell(tr, `${t.device ?? '–'}${t.pinned ? ' 📌' : ''}`, 'device');
    if (t.pinned) device.title = 'Placed here by the operator: the controller does not move it';
    return tr;
  });
  body.replaceChildren(...rows);
  table.dataset.rows = String(rows.length);
}

/** The Edge TPUs of the host, one row each (shown only when there are several). */
function renderDevices(device) {
  const list = Array.isArray(device?.devices) ? device.devices : [];
  $('#devices-wrap').hidden = list.length < 2;
  const table = $('#device-table');
  const busy = samples.at(-1)?.devices ?? {};
  const rows = list.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.device = d.id;
    cell(tr, d.id);
    cell(tr, d.profile ?? 'real device');
    cell(tr, Array.isArray(d.tenants) && d.tenants.length > 0 ? d.tenants.join(', ') : '–');
    cell(tr, d.holder ?? '–');
    const share = finite(busy[d.id]?.busyFraction);
    cell(tr, share === null ? '–' : String(Math.round(share * 100)), 'num busy');
    cell(tr, String(d.queued ?? '–'), 'num');
    cell(tr, `${d.calls ?? 0} · ${d.reloads ?? 0}`, 'num');
    return tr;
  });
  table.querySelector('tbody').replaceChildren(...rows);
  table.dataset.rows = String(rows.length);
}

function renderLog(history) {
  const table = $('#decision-log');
  const body = table.querySelector('tbody');
  const rows = history
    .slice(-LOG_ROWS)
    .reverse()
    .map((d) => {
      const tr = document.createElement('tr');
      cell(tr, String(d.seq ?? ''), 'num');
      cell(tr, Number.isFinite(d.atMs) ? clock(d.atMs) : '–');
      cell(tr, d.trigger ?? '');
      const layout = layoutText(d);
      cell(
        tr,
        `${Array.isArray(d.choices) ? d.choices.map((c) => `${c.name} ${c.k}·${c.cores}`).join('  ') : ''}${layout === '' ? '' : `  · ${layout}`}`,
      );
      cell(tr, num(d.predictedMs), 'num');
      cell(tr, num(d.decisionMs), 'num');
      cell(
        tr,
        d.error
          ? badge('failed', 'failed', d.error)
          : d.applied
            ? badge('applied', 'applied')
            : badge('kept', 'no change'),
      );
      cell(tr, d.reason ?? '', 'reason');
      return tr;
    });
  body.replaceChildren(...rows);
  table.dataset.rows = String(rows.length);
}

function setText(sel, value) {
  const el = $(sel);
  if (el.textContent !== value) el.textContent = value;
}

function renderFacts(device, controller) {
  const backend = device?.backend ?? controller?.backend;
  setText(
    '#fact-device',
    device ? `${device.profile ?? '?'} · ${backend === 'edgetpu' ? 'real device' : 'emulated'}` : '–',
  );
  const timing = $('#fact-timing');
  timing.replaceChildren(
    backend === 'emulated'
      ? badge('emulated', 'TPU emulated · CPU measured')
      : backend === 'edgetpu'
        ? badge('measured', 'all measured')
        : document.createTextNode('–'),
  );
  setText('#fact-policy', controller?.policy ?? '–');
  setText('#fact-cores', controller?.cores !== undefined ? String(controller.cores) : '–');
  setText(
    '#fact-decisions',
    controller ? `${controller.decisions ?? 0} · ${controller.reconfigurations ?? 0}` : '–',
  );
  const dm = controller?.decisionMs;
  setText('#fact-decision-ms', dm ? `${num(dm.p50)} · ${num(dm.p99)} ms` : '–');
  setText('#fact-tpu', device ? `${device.calls ?? 0} · ${device.reloads ?? 0}` : '–');
  renderEmulation(controller?.emulation ?? null);
  renderVerdict(controller?.lastVerdict ?? null);
  const layout = controller ? layoutText(controller) : '';
  setText('#fact-layout', controller?.sets === undefined ? '–' : layout === '' ? 'none · FIFO' : layout);
  const note = $('#timing-note');
  if (backend === 'emulated') {
    note.hidden = false;
    setText(
      '#timing-note',
      `No Edge TPU attached: TPU stage times come from the calibrated device model (profile ${device?.profile ?? '?'}), ` +
        'so every latency that includes a TPU stage is emulated. CPU stages run on the real TFLite runtime and are measured.',
    );
  } else note.hidden = true;
  setText(
    '#latency-sub',
    backend === 'emulated'
      ? 'End to end: mean (solid), p99 (dashed), predicted mean (dotted), ms · TPU part emulated, CPU part measured'
      : 'End to end: mean (solid), p99 (dashed), predicted mean (dotted), ms · measured',
  );
}

/**
 * The co-compiled head sets and the Edge TPU queue discipline of a decision or of the controller (the `swapless+`
 * policy): `sets a+b · switch-aware ≤ 4.0 ms`, each part only when it is not the default ('' for none and FIFO).
 */
function layoutText(d) {
  const sets = Array.isArray(d?.sets)
    ? d.sets.filter((s) => Array.isArray(s) && s.length > 1).map((s) => s.join('+'))
    : [];
  const budget = finite(d?.discipline?.maxExtraWaitMs);
  const parts = [];
  if (sets.length > 0) parts.push(`sets ${sets.join(', ')}`);
  if (d?.discipline?.kind === 'switch-aware' && budget !== null)
    parts.push(`switch-aware ≤ ${budget.toFixed(1)} ms`);
  return parts.join(' · ');
}

/** The divergence fact: the tenant whose measured mean is furthest from its prediction, highlighted beyond 25 %. */
function renderDivergence(tenants) {
  let worst = null;
  for (const t of tenants) {
    const ratio = finite(t?.divergence?.ratio);
    if (
      ratio !== null &&
      ratio > 0 &&
      (worst === null || Math.abs(Math.log(ratio)) > Math.abs(Math.log(worst.ratio)))
    ) {
      worst = { name: t.name, ratio };
    }
  }
  const el = $('#fact-divergence');
  const off = worst !== null && Math.abs(worst.ratio - 1) > DIVERGENCE;
  el.classList.toggle('diverging', off);
  setText(
    '#fact-divergence',
    worst === null ? '–' : off ? `${worst.name} ×${worst.ratio.toFixed(2)}` : 'all within 25 %',
  );
}

/**
 * What the controller's last tick weighed: the best configuration its search found against the one in force, and
 * why it switched or kept (the hysteresis rule's reason), so a rate change that moved nothing says why.
 */
function renderVerdict(v) {
  const el = $('#last-verdict');
  if (v === null || typeof v !== 'object' || typeof v.reason !== 'string') {
    el.dataset.verdict = 'none';
    setText('#last-verdict', 'Last tick: –');
    return;
  }
  const current = finite(v.currentMs);
  const candidate = finite(v.candidateMs);
  const moved =
    Array.isArray(v.changed) && v.changed.length > 0 ? `, would move ${v.changed.join(', ')}` : '';
  const figures =
    current !== null && candidate !== null && (v.switch || moved !== '')
      ? ` (predicted ${formatNumber(candidate)} ms for the best found against ${formatNumber(current)} ms in force${v.switch ? '' : moved})`
      : '';
  el.dataset.verdict = v.switch ? 'switched' : 'kept';
  setText('#last-verdict', `Last tick: ${v.switch ? 'switched' : 'kept'}: ${v.reason}${figures}`);
}

/** The emulation fact and the banner that says when the host's emulation of the head lags the device. */
function renderEmulation(emu) {
  const fraction = finite(emu?.laggingFraction);
  const meanLag = finite(emu?.meanLagMs);
  setText(
    '#fact-emulation',
    emu === null || emu === undefined
      ? '–'
      : `${fraction === null ? '–' : `${Math.round(fraction * 100)} %`} late · ${meanLag === null ? '–' : `${formatNumber(meanLag)} ms`}`,
  );
  const banner = $('#emulation-banner');
  const lagging = emu?.lagging === true;
  banner.hidden = !lagging;
  if (lagging) {
    setText(
      '#emulation-message',
      typeof emu.message === 'string' && emu.message !== ''
        ? emu.message
        : `The host computes the Edge TPU heads more slowly than the emulated device runs them` +
            (fraction !== null ? ` (${Math.round(fraction * 100)} % of calls late)` : '') +
            ': latencies include that lag.',
    );
  }
}

function render(data) {
  const tenants = Array.isArray(data.tenants) ? data.tenants : [];
  const history = Array.isArray(data.history) ? data.history : [];
  const device = data.device ?? null;
  const controller = data.controller ?? null;
  const names = tenantNames(Array.isArray(data.tenants) ? tenants : null);
  const dom = domain();
  const tenantItems = tenantLegend(names);

  charts.latency.update({
    series: [
      ...perTenant(names, 'meanMs', { label: (n) => `${n} mean` }),
      ...perTenant(names, 'p99Ms', { label: (n) => `${n} p99`, dash: 'dashed' }),
      ...perTenant(names, 'predictedMs', { label: (n) => `${n} predicted`, dash: 'dotted' }),
    ],
    domain: dom,
  });
  legend('latency', [
    ...tenantItems,
    lineKey('mean'),
    lineKey('p99', 'dashed'),
    lineKey('predicted mean', 'dotted'),
  ]);

  charts.rate.update({ series: perTenant(names, 'ratePerS'), domain: dom });
  legend('rate', tenantItems);

  charts.outcomes.update({
    series: [
      ...perTenant(names, 'completed', { perSecond: true, label: (n) => `${n} completed` }),
      ...perTenant(names, 'rejected', {
        perSecond: true,
        label: (n) => `${n} rejected (503)`,
        dash: 'dashed',
      }),
      ...perTenant(names, 'expired', { perSecond: true, label: (n) => `${n} expired (504)`, dash: 'dotted' }),
    ],
    domain: dom,
  });
  legend('outcomes', [
    ...tenantItems,
    lineKey('completed'),
    lineKey('rejected 503', 'dashed'),
    lineKey('expired 504', 'dotted'),
  ]);

  // The divergence band: the controller re-plans when a tenant stays outside it for 10 s.
  const band = (v) => ({
    label: `×${v.toFixed(2)}`,
    color: 'var(--muted)',
    dash: 'dotted',
    points: samples.length > 0 ? [samples[0], samples.at(-1)].map((s) => ({ t: s.atMs, v })) : [],
  });
  const divergence = perTenant(names, 'divergence');
  charts.divergence.update({
    series: divergence.some((s) => s.points.some((p) => p.v !== null))
      ? [...divergence, band(0.75), band(1.25)]
      : divergence,
    domain: dom,
  });
  legend('divergence', [...tenantItems, lineKey('±25 %', 'dotted')]);

  charts.lag.options.empty =
    device?.backend === 'edgetpu' ? 'Real Edge TPU: nothing is emulated' : 'No emulation lag reported';
  charts.lag.update({ series: perTenant(names, 'emulationLagMs'), domain: dom });
  legend('lag', tenantItems);

  const emulated = device?.backend === 'emulated';
  // Several devices: one line each (colours of the tenant palette, by device id).
  const ids =
    Array.isArray(device?.devices) && device.devices.length > 1 ? device.devices.map((d) => d.id) : [];
  const busyOf = (pick) =>
    samples.map((s) => ({ t: s.atMs, v: Number.isFinite(pick(s)) ? pick(s) * 100 : null }));
  charts.tpu.update({
    series:
      ids.length > 0
        ? ids.map((id) => ({
            label: `${id} busy`,
            color: colorOf(`device ${id}`),
            points: busyOf((s) => s.devices?.[id]?.busyFraction),
          }))
        : [
            {
              label: emulated ? 'busy (emulated device)' : 'busy',
              color: 'var(--accent)',
              points: busyOf((s) => s.tpu?.busyFraction),
            },
          ],
    domain: dom,
  });
  legend(
    'tpu',
    ids.length > 0
      ? ids.map((id) => ({ label: id, color: colorOf(`device ${id}`) }))
      : [{ label: emulated ? 'busy, emulated device' : 'busy, measured', color: 'var(--accent)' }],
  );

  const markers = reconfigurations(history);
  const maxOps = Math.max(0, ...tenants.map((t) => (Number.isFinite(t.ops) ? t.ops : 0)));
  charts.k.options.minMax = maxOps;
  charts.k.update({ series: perTenant(names, 'k'), markers, domain: dom });
  legend('k', [...tenantItems, { label: '▼ reconfiguration', color: 'transparent', bold: false }]);

  const total = controller?.cores;
  charts.cores.update({
    series: perTenant(names, 'cores'),
    markers,
    hlines: Number.isFinite(total) ? [{ v: total, label: `${total} available` }] : [],
    domain: dom,
  });
  legend('cores', [
    ...tenantItems,
    { label: 'cores available', color: 'var(--faint)', dash: 'dotted', bold: false },
  ]);

  const devTenants = Array.isArray(device?.tenants) ? device.tenants : [];
  const withHead = devTenants.filter((t) => t.k > 0 && t.cachedBytes + t.streamedBytes > 0);
  charts.cache.update(
    device === null
      ? null
      : {
          capacityBytes: Number.isFinite(device.capacityBytes) ? device.capacityBytes : 0,
          holder: device.holder ?? null,
          rows: withHead.map((t) => ({
            name: t.name,
            color: colorOf(t.name),
            k: t.k,
            cachedBytes: t.cachedBytes,
            streamedBytes: t.streamedBytes,
          })),
          cpuOnly: devTenants.filter((t) => !(t.k > 0)).map((t) => t.name),
        },
  );
  legend('cache', [
    { label: 'cached on chip', color: 'var(--muted)', style: 'block', bold: false },
    { label: 'streamed per inference', color: 'var(--muted)', style: 'hatched', bold: false },
    { label: 'usable SRAM', color: 'var(--bad)', dash: 'dashed', bold: false },
    ...(device?.holder
      ? [{ label: `token holder: ${device.holder}`, color: 'var(--emu)', style: 'block' }]
      : []),
  ]);
  setText(
    '#cache-sub',
    `Parameters of each tenant's Edge TPU head: cached in on-chip SRAM vs streamed over the link per inference` +
      (withHead.length < devTenants.length
        ? ` · CPU only: ${devTenants
            .filter((t) => !(t.k > 0))
            .map((t) => t.name)
            .join(', ')}`
        : ''),
  );

  renderTenants(tenants);
  renderDevices(device);
  renderDivergence(tenants);
  renderLog(history);
  renderFacts(device, controller);
  if (samples.length > 0) {
    const span = (samples[samples.length - 1].atMs - samples[0].atMs) / 1000;
    setText('#foot-window', `${samples.length} samples · ${Math.round(span)} s shown`);
  }
}

function status(state, label) {
  const el = $('#status');
  el.dataset.state = state;
  setText('#status-text', label);
}

async function poll() {
  try {
    const url = lastAt === undefined ? `${BASE}/data` : `${BASE}/data?since=${lastAt}`;
    const res = await fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.error ?? `HTTP ${res.status}`);
    }
    const data = await res.json();
    merge(data.series);
    render(data);
    status('live', `Live · updated ${clock(Date.now())}`);
  } catch (error) {
    status('error', `Disconnected (${error instanceof Error ? error.message : String(error)}) · retrying`);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
