/**
 * The plain-text block printed on stdout once the server listens: where everything is, what runs, and one
 * `curl` line per tenant that works verbatim.
 */

import type { AuthSummary } from './auth.js';

/** What the banner shows. */
export interface BannerInfo {
  urls: ServerUrls;
  device: string;
  backend: 'emulated' | 'edgetpu';
  policy: string;
  /** The latency model's label (`mg1-default (@swapless/queueing@0.1.0)`), when known. */
  latencyModel?: string;
  cores: number;
  configSource: string;
  repository: string | null;
  tenants: readonly BannerTenant[];
  /** Tenants that could not be started: from the config, or registrations saved by an earlier run (`state`). */
  failed: readonly { name: string; message: string; from?: 'config' | 'state' }[];
  /** Conditions found at startup the operator should know about (e.g. no edgetpu_compiler for a real device). */
  warnings: readonly string[];
  skipped: readonly { name: string; message: string }[];
  /** Tenant → curl line. */
  curl: Readonly<Record<string, string>>;
  startupMs: number;
  /** What each kind of route requires (default: everything open, plain HTTP). */
  access?: AuthSummary;
  /** The demo load sized for this host (`GET /examples/demo-load.json`), when there is one. */
  demoLoad?: BannerDemoLoad | null;
}

/** What the banner says about the demo load. */
export interface BannerDemoLoad {
  /** Tenant → rate of the first phase, req/s. */
  rates: Readonly<Record<string, number>>;
  /** The rate step: when, and the tenants' new rates. */
  step: { atS: number; rates: Readonly<Record<string, number>> } | null;
  durationS: number;
  /** Highest utilisation of the host's CPU or the device in either phase (0..1). */
  utilisation: number;
  /** The controller's predicted gain of switching plans at the step (0..1), when it was planned. */
  stepGain?: number | null;
}

/** One tenant line of the banner. */
export interface BannerTenant {
  name: string;
  source: string;
  k: number;
  ops: number;
  cores: number;
  rate: number;
  inputs: string;
  /**
   * Set for a tenant that is not partitioned: `cpu-only` (nothing maps to the Edge TPU, e.g. a float model) or
   * `compiled` (an *_edgetpu.tflite served whole on the real Edge TPU), with the reason.
   */
  modelClass?: { kind: string; reason: string | null };
}

/** The server's URLs (as a client on this machine reaches them). */
export interface ServerUrls {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  base: string;
  /** KServe v2 API root (`<base>/v2`). */
  api: string;
  /** Management API root (`<base>/api/v1`). */
  management: string;
  /** Dashboard page. */
  dashboard: string;
  /** Prometheus scrape endpoint. */
  metrics: string;
}

/** The banner text (no trailing newline). */
export function formatBanner(b: BannerInfo): string {
  const rows: [string, string][] = [
    ['KServe v2 API', b.urls.api],
    ['Management API', `${b.urls.management}/tenants`],
    ['Dashboard', b.urls.dashboard],
    ['Metrics', b.urls.metrics],
  ];
  const lines = [
    `SwapLess server ready in ${(b.startupMs / 1000).toFixed(1)} s — ${b.urls.base}`,
    `  device ${b.device} (${b.backend === 'emulated' ? 'emulated Edge TPU: TPU times come from the device model' : 'real Edge TPU: measured'}), policy ${b.policy}${b.latencyModel === undefined ? '' : ` (latency model ${b.latencyModel})`}, ${b.cores} CPU core${b.cores === 1 ? '' : 's'} for CPU stages`,
    `  config: ${b.configSource}; model repository: ${b.repository ?? 'none'}`,
    '',
    ...rows.map(([l, v]) => `  ${l.padEnd(15)} ${v}`),
    '',
  ];
  const access = b.access ?? { admin: 'open', inference: 'open', metrics: 'open', tls: false };
  lines.push(...accessLines(access), '');
  if (b.tenants.length === 0 && access.admin === 'disabled') {
    lines.push('  No tenants yet (and registering is disabled, see above).');
  } else if (b.tenants.length === 0) {
    const auth = access.admin === 'token' ? ` -H "Authorization: Bearer $SWAPLESS_ADMIN_TOKEN"` : '';
    lines.push(
      '  No tenants yet: register one with',
      `    curl -s -X POST${auth} -H 'Content-Type: application/json' -d '{"name":"m1","model":"mobilenet_v2"}' ${b.urls.management}/tenants`,
    );
  } else {
    const w = Math.max(...b.tenants.map((t) => t.name.length));
    lines.push('  Tenants:');
    for (const t of b.tenants) {
      const kind = t.modelClass?.kind;
      const note =
        kind === 'cpu-only' || kind === 'compiled'
          ? ` — ${kind === 'cpu-only' ? 'CPU-only' : 'compiled, whole on the Edge TPU'}: ${t.modelClass!.reason}`
          : '';
      lines.push(
        `    ${t.name.padEnd(w)}  ${t.source}, input ${t.inputs}, cut k=${t.k}/${t.ops}, ${t.cores} core${t.cores === 1 ? '' : 's'}, prior ${t.rate} req/s${note}`,
      );
    }
  }
  for (const w of b.warnings) lines.push(`  ! ${w}`);
  for (const f of b.failed) {
    const what =
      f.from === 'state' ? `saved tenant ${f.name} was not restored` : `tenant ${f.name} was not started`;
    lines.push(`  ! ${what}: ${f.message}`);
  }
  for (const s of b.skipped) lines.push(`  ! repository entry ${s.name} skipped: ${s.message}`);
  const curls = Object.entries(b.curl);
  if (curls.length > 0) {
    lines.push(
      '',
      access.inference === 'token'
        ? '  Try it (with the inference token in $SWAPLESS_INFERENCE_TOKEN):'
        : '  Try it:',
    );
    for (const [, line] of curls) lines.push(`    ${line}`);
  }
  if (b.demoLoad) {
    const d = b.demoLoad;
    const rates = Object.entries(d.rates)
      .map(([n, r]) => `${n} ${r}${d.step?.rates[n] !== undefined ? `→${d.step.rates[n]}` : ''}`)
      .join(', ');
    lines.push(
      '',
      `  Demo load sized for this host (req/s: ${rates}${d.step ? `, step at ${d.step.atS} s` : ''}; ${d.durationS} s; at most ${Math.round(d.utilisation * 100)} % of CPU or device):`,
      `    npx swapless load --url ${b.urls.base} --demo${access.inference === 'token' ? ' (with $SWAPLESS_INFERENCE_TOKEN)' : ''}`,
    );
    if (d.step && typeof d.stepGain === 'number' && d.stepGain > 0)
      lines.push(
        `    (after the step the controller is predicted to switch plans, ${Math.round(d.stepGain * 100)} % lower mean: watch the dashboard)`,
      );
  }
  lines.push('', '  Stop with Ctrl-C (in-flight requests are drained first).');
  return lines.join('\n');
}

/** The banner's lines on who may call what (docs/server.md, "Running it safely"). */
export function accessLines(a: AuthSummary): string[] {
  const need = (what: 'token' | 'open', token: string) =>
    what === 'token' ? `need the ${token} token` : 'open';
  const lines = [
    `  Access: management changes ${a.admin === 'disabled' ? 'disabled' : a.admin === 'token' ? 'need the admin token' : 'open (loopback only)'}; inference and metadata ${need(a.inference, 'inference')}; metrics ${a.metrics === 'token' ? 'need the metrics token' : 'open'}; health probes, dashboard and management reads open${a.tls ? '; HTTPS' : ''}`,
  ];
  if (a.admin === 'disabled') {
    lines.push(
      '  ! management changes (register, remove tenants) are disabled: the server listens beyond loopback without an admin token; set auth.adminToken or SWAPLESS_ADMIN_TOKEN (openssl rand -hex 32) and restart to enable them',
    );
  }
  return lines;
}
