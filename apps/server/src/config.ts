/**
 * The server configuration: read (JSON or YAML) → merge (schema defaults < file < environment < explicit
 * overrides such as CLI flags) → validate with ajv (defaults applied) → check what a schema cannot (unique
 * tenant names) → normalise (paths made absolute) → freeze. Errors list every problem with where it came from;
 * warnings come back next to the config.
 */

import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { MODEL_NAME_PATTERN } from '@swapless/contracts';
import { POLICY_NAMES } from '@swapless/controller';
import { cacheDir, expected, formatAjvErrors, InvalidConfigError, SwapLessIoError } from '@swapless/core';
import { LATENCY_MODEL_CHOICE_SCHEMA, type LatencyModelChoice } from '@swapless/service';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import {
  CPU_CONFIG_SCHEMA,
  cpuConfigProblems,
  cpuConfigWarnings,
  type ServerCpuConfig,
} from './cpu-config.js';
import { DEVICES_CONFIG_SCHEMA, devicesConfigProblems, type ServerDeviceConfig } from './devices-config.js';
import { type LatencyModelConfig, latencyModelConfigOf } from './latency-model.js';
import { REPOSITORY_LIMITS_SCHEMA, type RepositoryLimits, repositoryLimitsOf } from './repository-limits.js';
import {
  AUTH_CONFIG_SCHEMA,
  AUTH_ENV_LABELS,
  authEnvOverrides,
  authProblems,
  mergeAuth,
  type ServerAuthConfig,
  type ServerTlsConfig,
  securityWarnings,
  TLS_CONFIG_SCHEMA,
} from './security.js';

/** pino levels accepted by `logLevel`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Controller policies accepted by `policy` (the names of @swapless/controller's built-in policies). */
export const SERVER_POLICIES = POLICY_NAMES;
/** A built-in policy name. */
export type ServerPolicy = (typeof SERVER_POLICIES)[number];

/** One tenant registered at startup. */
export interface ServerTenantConfig {
  /** Tenant name = KServe model name (`/v2/models/<name>`). */
  readonly name: string;
  /** A repository model name, else a zoo model name. */
  readonly model: string;
  /** Prior request rate, req/s (default: the repository model's config.json, else the service's default). */
  readonly rate?: number;
  /** Latency objective, ms. */
  readonly sloMs?: number;
  /** The percentile `sloMs` bounds, `p95` or `p99` (default `p99`); only with `sloMs`. */
  readonly sloPercentile?: 'p95' | 'p99';
  /** Id of the Edge TPU (one of `devices`) its head runs on, whatever the controller decides. */
  readonly device?: string;
}

/** The real Edge TPU (libedgetpu delegate) instead of the emulator. */
export interface ServerEdgeTpuConfig {
  readonly library?: string;
  readonly device?: string;
  readonly options?: Readonly<Record<string, string>>;
}

/** A validated, normalised, frozen server configuration. */
export interface ServerConfig {
  /** Address to listen on (default 127.0.0.1: loopback only). */
  readonly host: string;
  /** TCP port (default 8080; 0 picks a free port). */
  readonly port: number;
  /** pino level (default info). */
  readonly logLevel: LogLevel;
  /** Where logs go: `stderr` (default), `stdout`, or a file path (appended). */
  readonly logDestination: string;
  /**
   * Emulator device profile (`usb3` default, `usb2`, `pcie`, `devboard`), or the real Edge TPU: `{ edgetpu: {...},
   * profile?, compilerPath? }` — `profile` is the device model the controller plans with (default usb3),
   * `compilerPath` the `edgetpu_compiler` that compiles each head (default: `$SWAPLESS_EDGETPU_COMPILER`, else PATH).
   */
  readonly device:
    | string
    | { readonly edgetpu: ServerEdgeTpuConfig; readonly profile?: string; readonly compilerPath?: string };
  /**
   * Several Edge TPUs on this host (`[{ id, profile? }]`, each with its own queue; see devices-config.ts); null
   * (default): one device.
   */
  readonly devices: readonly ServerDeviceConfig[] | null;
  /** `functional` (default: outputs are the model's real outputs) or `timing-only` (load tests). */
  readonly mode: 'functional' | 'timing-only';
  /** CPU cores for the tenants' CPU stages; null = the service's default (all but one). */
  readonly cores: number | null;
  /** The CPU profile (`host` default; a modelled one is validated but planning-only: cpu-config.ts). */
  readonly cpu: ServerCpuConfig;
  /** Controller policy (default swapless). */
  readonly policy: ServerPolicy;
  /** Options of the policy. */
  readonly policyOptions: Readonly<Record<string, unknown>>;
  /**
   * The latency model (default `mg1-default`): an id, a plugin package name or a path (relative to the config
   * file), or `{ id, options }`; normalised to `{ id, options }`, null for the default. See latency-model.ts.
   */
  readonly latencyModel: LatencyModelConfig | null;
  /** Controller tick, ms (default 1000). */
  readonly tickMs: number;
  /** Per-tenant bound on admitted, unfinished requests (default 64); more get 503. */
  readonly queueLimit: number;
  /**
   * Deadline of an inference request, ms after it arrived (default 5000). A request predicted to need more than
   * 90 % of it is refused at once (503 with Retry-After); one that can no longer make it while queued is dropped
   * (504). A request's `parameters.timeout` (µs) may shorten it, never lengthen it.
   */
  readonly deadlineMs: number;
  /**
   * Interval of the client probe, ms (default 250; 0: off): a worker thread asks the server for
   * `/v2/health/live` and its round trip — what a client on this host waits outside the server's own time — is
   * added to the predictions as front-end time. Off, the event loop's lateness stands in for it.
   */
  readonly clientProbeMs: number;
  /** Largest request body, bytes (default 16 MiB). */
  readonly bodyLimit: number;
  /** Model repository directory (absolute), or null for none. A missing directory is an empty repository. */
  readonly repository: string | null;
  /** Size caps and the read deadline of repository files (see repository-limits.ts). */
  readonly repositoryLimits: RepositoryLimits;
  /** Whether zoo model names resolve (default true). */
  readonly zoo: boolean;
  /** Directory for the server's own files (example requests); default `cacheDir('server')`. */
  readonly stateDir: string;
  /** Profiling of new tenants' catalogs (results cached across starts). */
  readonly profiling: { readonly repetitions?: number; readonly maxCuts?: number };
  /**
   * Vetting of new and changed models before the server loads them (a child process loads and invokes each once;
   * one that crashes it is refused): on by default; `timeoutMs` bounds the child (default 30000).
   */
  readonly vetting: { readonly enabled: boolean; readonly timeoutMs: number };
  /** Tenants registered at startup. */
  readonly tenants: readonly ServerTenantConfig[];
  /** Write one example KServe request per tenant to `<stateDir>/examples/` and print a curl line (default true). */
  readonly examples: boolean;
  /** Time a graceful shutdown may take before the process exits anyway, ms (default 30000). */
  readonly shutdownTimeoutMs: number;
  /** Bearer tokens (token-file paths absolute); none by default. See `security.ts`. */
  readonly auth: ServerAuthConfig;
  /** HTTPS certificate and key files (absolute), or null for plain HTTP (default). */
  readonly tls: ServerTlsConfig | null;
}

/** What a config file, an embedded default or a caller may give: every field optional. */
export type ServerConfigInput = {
  -readonly [K in keyof ServerConfig]?:
    | ServerConfig[K]
    | (K extends 'cores' | 'repository' ? null : never)
    | (K extends 'latencyModel' ? LatencyModelChoice : never);
} & { $schema?: string };

const MODEL_NAME = MODEL_NAME_PATTERN.source;

/** JSON Schema (draft-07) of the server config file. */
export const SERVER_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/server-config.json',
  title: 'SwapLess server configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    host: { type: 'string', minLength: 1, maxLength: 255, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    logLevel: { enum: [...LOG_LEVELS], default: 'info' },
    logDestination: { type: 'string', minLength: 1, default: 'stderr' },
    device: {
      default: 'usb3',
      oneOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['edgetpu'],
          properties: {
            edgetpu: {
              type: 'object',
              additionalProperties: false,
              properties: {
                library: { type: 'string', minLength: 1 },
                device: { type: 'string', minLength: 1 },
                options: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
            profile: { type: 'string', minLength: 1 },
            compilerPath: { type: 'string', minLength: 1 },
          },
        },
      ],
    },
    devices: DEVICES_CONFIG_SCHEMA,
    mode: { enum: ['functional', 'timing-only'], default: 'functional' },
    cores: { type: ['integer', 'null'], minimum: 1, maximum: 1024, default: null },
    cpu: CPU_CONFIG_SCHEMA,
    policy: { enum: [...SERVER_POLICIES], default: 'swapless' },
    policyOptions: { type: 'object', default: {} },
    latencyModel: { oneOf: [...LATENCY_MODEL_CHOICE_SCHEMA.oneOf, { type: 'null' }] },
    tickMs: { type: 'integer', minimum: 50, maximum: 3_600_000, default: 1000 },
    queueLimit: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 64 },
    deadlineMs: { type: 'integer', minimum: 1, maximum: 3_600_000, default: 5000 },
    clientProbeMs: { type: 'integer', minimum: 0, maximum: 60_000, default: 250 },
    bodyLimit: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024, default: 16 * 1024 * 1024 },
    repository: { type: ['string', 'null'], minLength: 1, default: './models' },
    repositoryLimits: REPOSITORY_LIMITS_SCHEMA,
    zoo: { type: 'boolean', default: true },
    stateDir: { type: 'string', minLength: 1 },
    profiling: {
      type: 'object',
      additionalProperties: false,
      properties: {
        repetitions: { type: 'integer', minimum: 1, maximum: 100_000 },
        maxCuts: { type: 'integer', minimum: 2, maximum: 10_000 },
      },
      default: {},
    },
    vetting: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
      },
      default: {},
    },
    tenants: {
      type: 'array',
      maxItems: 64,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'model'],
        properties: {
          name: { type: 'string', pattern: MODEL_NAME },
          model: { type: 'string', pattern: MODEL_NAME },
          rate: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 },
          sloMs: { type: 'number', exclusiveMinimum: 0 },
          sloPercentile: { enum: ['p95', 'p99'] },
          device: { type: 'string', minLength: 1 },
        },
        dependencies: { sloPercentile: ['sloMs'] },
      },
    },
    examples: { type: 'boolean', default: true },
    shutdownTimeoutMs: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 30_000 },
    auth: AUTH_CONFIG_SCHEMA,
    tls: TLS_CONFIG_SCHEMA,
  },
} as const;

/**
 * The embedded default: what `npm start` runs with no config file. Three zoo models whose catalogs profile in
 * seconds, sharing the emulated USB Edge TPU. Their parameters do not all fit the device's cache together, so
 * running every model whole on the TPU pays a parameter reload on nearly every switch between tenants — the
 * case SwapLess's controller exists for. The prior rates are the first phase of the demo load
 * (examples/server-demo-load.json), which a quiet 2-core machine sustains with headroom: in functional mode every
 * request also costs the host its model's compute (the emulated heads are computed on the CPU). The SLOs are a few
 * times what one request costs on such a machine, so a tenant over its SLO on the dashboard means trouble.
 */
export const EMBEDDED_CONFIG: ServerConfigInput = Object.freeze({
  tenants: Object.freeze([
    Object.freeze({ name: 'mobilenet_v2', model: 'mobilenet_v2', rate: 8, sloMs: 80 }),
    Object.freeze({ name: 'mobilenet_v1', model: 'mobilenet_v1', rate: 4, sloMs: 100 }),
    Object.freeze({ name: 'efficientnet_s', model: 'efficientnet_edgetpu_s', rate: 2, sloMs: 250 }),
  ]),
}) as ServerConfigInput;

/** Environment variables that override the config file, and the field each sets. */
export const ENV_OVERRIDES = {
  SWAPLESS_HOST: 'host',
  SWAPLESS_PORT: 'port',
  SWAPLESS_DEVICE: 'device',
  SWAPLESS_CORES: 'cores',
  SWAPLESS_POLICY: 'policy',
  SWAPLESS_REPOSITORY: 'repository',
  SWAPLESS_LOG_LEVEL: 'logLevel',
  SWAPLESS_MODE: 'mode',
  SWAPLESS_DEADLINE_MS: 'deadlineMs',
} as const satisfies Record<string, keyof ServerConfig>;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(SERVER_CONFIG_SCHEMA);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function integerEnv(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    const problem = expected(`an integer from ${min} to ${max}`, `environment variable ${name}`, raw);
    throw new InvalidConfigError(problem, [`${name}: ${problem}`], { details: { variable: name } });
  }
  return n;
}

/**
 * The overrides the environment asks for (`SWAPLESS_HOST`, `SWAPLESS_PORT`, …; empty values are ignored).
 * Numbers are parsed strictly; a value that is not one throws InvalidConfigError naming the variable.
 */
export function envOverrides(env: Readonly<Record<string, string | undefined>>): ServerConfigInput {
  const out: ServerConfigInput = {};
  for (const [name, field] of Object.entries(ENV_OVERRIDES)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    switch (field) {
      case 'port':
        out.port = integerEnv(name, raw, 0, 65535);
        break;
      case 'cores':
        out.cores = integerEnv(name, raw, 1, 1024);
        break;
      case 'deadlineMs':
        out.deadlineMs = integerEnv(name, raw, 1, 3_600_000);
        break;
      case 'repository':
        out.repository = raw;
        break;
      default:
        (out as Record<string, unknown>)[field] = raw;
    }
  }
  const auth = authEnvOverrides(env);
  if (auth !== undefined) out.auth = auth;
  return out;
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Where the document came from, for messages (a path, "embedded default"…). */
  source?: string;
  /** Directory relative `repository`, `stateDir` and `logDestination` paths are resolved against (default cwd). */
  baseDir?: string;
  /** Layers applied over the document, in order (environment, then flags), each with its label. */
  layers?: readonly {
    /** What to call the layer in messages: one label, or one per field (e.g. the environment variable). */
    label: string | Readonly<Record<string, string>>;
    values: ServerConfigInput;
    baseDir?: string;
  }[];
}

/** A parsed configuration and what was worth saying about it. */
export interface LoadedConfig {
  config: ServerConfig;
  warnings: string[];
  /** Where the document came from (a path, or "embedded default"). */
  source: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a configuration document (an object, e.g. parsed JSON or YAML) with the given override layers on
 * top. Throws InvalidConfigError listing every problem as "<where><JSON path>: <message>"; returns the frozen
 * config with defaults applied and any warnings.
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): LoadedConfig {
  const source = options.source ?? 'server config';
  const baseDir = resolve(options.baseDir ?? process.cwd());
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) {
    const problem = expected('an object (mapping) at the top level', source, input);
    throw new InvalidConfigError(problem, [`/: ${problem}`]);
  }
  // Validate a copy: ajv writes defaults into what it checks.
  const merged = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  // Paths in each layer are relative to that layer's base (the config file's folder, or the cwd).
  const pathBase: Record<string, string> = {};
  for (const k of ['repository', 'stateDir', 'logDestination', 'tls', 'latencyModel'])
    if (k in merged) pathBase[k] = baseDir;
  if ('auth' in merged) merged.auth = mergeAuth(undefined, merged.auth, baseDir);
  const labels: Record<string, string> = {};
  for (const layer of options.layers ?? []) {
    for (const [k, v] of Object.entries(layer.values)) {
      if (v === undefined) continue;
      if (k === 'auth') {
        // Field by field, each token-file path against this layer's base.
        merged.auth = mergeAuth(merged.auth, v, resolve(layer.baseDir ?? process.cwd()));
        for (const f of Object.keys(v as object)) {
          const key = `auth/${f}`;
          labels[key] = typeof layer.label === 'string' ? layer.label : (layer.label[key] ?? 'override');
        }
        continue;
      }
      merged[k] = JSON.parse(JSON.stringify(v));
      labels[k] = typeof layer.label === 'string' ? layer.label : (layer.label[k] ?? 'override');
      pathBase[k] = resolve(layer.baseDir ?? process.cwd());
    }
  }
  if (!validate(merged)) {
    const problems = formatAjvErrors(validate.errors).map((p) => {
      const field = /^\/([^/:]+)(\/[^/:]+)?/.exec(p);
      const label =
        field !== null ? (labels[`${field[1]}${field[2] ?? ''}`] ?? labels[field[1]!]) : undefined;
      return label !== undefined ? `${p} (from ${label})` : p;
    });
    throw new InvalidConfigError(
      `Expected a valid server config for ${source}:\n  ${problems.join('\n  ')}`,
      problems,
      { details: { source } },
    );
  }
  const c = merged as unknown as ServerConfigInput & Required<Pick<ServerConfigInput, 'tenants'>>;
  const problems: string[] = [];
  const warnings: string[] = [];
  const names = new Set<string>();
  c.tenants.forEach((t, i) => {
    if (names.has(t.name))
      problems.push(`/tenants/${i}/name: duplicate tenant name ${JSON.stringify(t.name)}`);
    names.add(t.name);
  });
  problems.push(...authProblems(c.auth!));
  problems.push(...cpuConfigProblems(c.cpu));
  problems.push(...devicesConfigProblems(c.devices, c.tenants));
  if (problems.length > 0) {
    throw new InvalidConfigError(
      `Expected a valid server config for ${source}:\n  ${problems.join('\n  ')}`,
      problems,
      { details: { source } },
    );
  }
  const abs = (key: string, p: string) => (isAbsolute(p) ? p : resolve(pathBase[key] ?? baseDir, p));
  const logDestination =
    c.logDestination === 'stderr' || c.logDestination === 'stdout'
      ? c.logDestination
      : abs('logDestination', c.logDestination!);
  const config: ServerConfig = {
    host: c.host!,
    port: c.port!,
    logLevel: c.logLevel!,
    logDestination,
    // `edgetpu` as a device name (handy in SWAPLESS_DEVICE) means the real delegate with its defaults.
    device: c.device === 'edgetpu' ? { edgetpu: {} } : c.device!,
    devices: c.devices == null ? null : c.devices.map((d) => ({ ...d })),
    mode: c.mode!,
    cores: c.cores ?? null,
    cpu: { profile: c.cpu!.profile },
    policy: c.policy!,
    policyOptions: c.policyOptions!,
    latencyModel: latencyModelConfigOf(c.latencyModel, pathBase.latencyModel ?? baseDir),
    tickMs: c.tickMs!,
    queueLimit: c.queueLimit!,
    deadlineMs: c.deadlineMs!,
    clientProbeMs: c.clientProbeMs!,
    bodyLimit: c.bodyLimit!,
    repository: c.repository === null ? null : abs('repository', c.repository!),
    repositoryLimits: repositoryLimitsOf(c.repositoryLimits),
    zoo: c.zoo!,
    stateDir: c.stateDir === undefined ? cacheDir('server') : abs('stateDir', c.stateDir),
    profiling: { ...c.profiling },
    vetting: { enabled: c.vetting!.enabled, timeoutMs: c.vetting!.timeoutMs },
    tenants: c.tenants.map((t) => ({ ...t })),
    examples: c.examples!,
    shutdownTimeoutMs: c.shutdownTimeoutMs!,
    auth: { ...c.auth },
    tls: c.tls ? { cert: abs('tls', c.tls.cert), key: abs('tls', c.tls.key) } : null,
  };
  warnings.push(...securityWarnings(config), ...cpuConfigWarnings(config.cpu));
  return { config: deepFreeze(config), warnings, source };
}

/**
 * Parses config text: YAML for `.yaml`/`.yml`, JSON for `.json`, and for anything else JSON when the text starts
 * with `{`, else YAML. Throws InvalidConfigError with the parser's line and column.
 */
export function parseConfigText(text: string, source: string): unknown {
  const ext = extname(source).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
  try {
    if (json) return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    throw new InvalidConfigError(
      `Expected ${json ? 'JSON' : 'YAML'} in ${source} but it does not parse: ${message}`,
      [`/: ${message}`],
      { cause: err, details: { source } },
    );
  }
}

/**
 * Loads the server configuration: the file at `path` (JSON or YAML), or the embedded default
 * ({@link EMBEDDED_CONFIG}: three demo tenants from the zoo) when `path` is undefined; then the environment
 * overrides ({@link ENV_OVERRIDES}); then `overrides` (CLI flags). Relative paths in the file are relative to
 * the file's folder; those from the environment or flags to the current directory.
 * @throws SwapLessIoError when the file cannot be read; InvalidConfigError for anything invalid.
 */
export async function loadConfig(
  path?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: ServerConfigInput = {},
): Promise<LoadedConfig> {
  let document: unknown = EMBEDDED_CONFIG;
  let source = 'embedded default';
  let baseDir = process.cwd();
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(err);
      throw new SwapLessIoError(
        `Expected a readable config file but received ${JSON.stringify(path)} (${reason})`,
        { cause: err, details: { path } },
      );
    }
    source = path;
    baseDir = dirname(resolve(path));
    document = parseConfigText(text, path);
  }
  return parseConfig(document, {
    source,
    baseDir,
    layers: [
      {
        label: {
          ...Object.fromEntries(
            Object.entries(ENV_OVERRIDES).map(([name, field]) => [field, `environment variable ${name}`]),
          ),
          ...AUTH_ENV_LABELS,
        },
        values: envOverrides(env),
      },
      { label: 'command line', values: overrides },
    ],
  });
}
