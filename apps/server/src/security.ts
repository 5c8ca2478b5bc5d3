/**
 * The server's security settings — `auth` (bearer tokens, inline or in files) and `tls` (certificate and key files)
 * — as the config sees them: their schema, their environment variables, how a layer (the environment) is laid over
 * the file, what is worth a warning, and reading the files at startup. Enforcement is `auth.ts`.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { InvalidConfigError, SwapLessIoError } from '@swapless/core';
import { type AuthTokens, isLoopbackHost } from './auth.js';

/** Shortest token accepted: 16 characters (`openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 16;
/** Longest token accepted. */
export const MAX_TOKEN_LENGTH = 4096;
/** What a token may consist of: RFC 6750's `b64token`, so it can be sent as-is in an `Authorization` header. */
export const TOKEN_PATTERN = '^[A-Za-z0-9._~+/-]+=*$';
/** Largest token or certificate file read. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Bearer tokens, each given inline or as a file holding it (not both); see docs/server.md, "Running it safely". */
export interface ServerAuthConfig {
  /** Required (as `Authorization: Bearer …`) for management changes; opens every guarded route. */
  readonly adminToken?: string;
  /** A file holding the admin token (surrounding whitespace ignored). */
  readonly adminTokenFile?: string;
  /** When set, required for inference and model metadata under `/v2` (not for the health probes). */
  readonly inferenceToken?: string;
  readonly inferenceTokenFile?: string;
  /** When set, required for `GET /metrics`. */
  readonly metricsToken?: string;
  readonly metricsTokenFile?: string;
}

/** HTTPS with node's own `https`: PEM certificate (chain) and private key files. */
export interface ServerTlsConfig {
  readonly cert: string;
  readonly key: string;
}

const TOKEN_KINDS = ['admin', 'inference', 'metrics'] as const;
type TokenKind = (typeof TOKEN_KINDS)[number];

const TOKEN_SCHEMA = {
  type: 'string',
  minLength: MIN_TOKEN_LENGTH,
  maxLength: MAX_TOKEN_LENGTH,
  pattern: TOKEN_PATTERN,
} as const;
const FILE_SCHEMA = { type: 'string', minLength: 1 } as const;

/** JSON Schema of `auth`. */
export const AUTH_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    adminToken: TOKEN_SCHEMA,
    adminTokenFile: FILE_SCHEMA,
    inferenceToken: TOKEN_SCHEMA,
    inferenceTokenFile: FILE_SCHEMA,
    metricsToken: TOKEN_SCHEMA,
    metricsTokenFile: FILE_SCHEMA,
  },
} as const;

/** JSON Schema of `tls` (`null`: plain HTTP). */
export const TLS_CONFIG_SCHEMA = {
  default: null,
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: { cert: FILE_SCHEMA, key: FILE_SCHEMA },
    },
  ],
} as const;

/** Environment variables that set `auth` fields (over the config file's). */
export const AUTH_ENV_OVERRIDES = {
  SWAPLESS_ADMIN_TOKEN: 'adminToken',
  SWAPLESS_ADMIN_TOKEN_FILE: 'adminTokenFile',
  SWAPLESS_INFERENCE_TOKEN: 'inferenceToken',
  SWAPLESS_INFERENCE_TOKEN_FILE: 'inferenceTokenFile',
  SWAPLESS_METRICS_TOKEN: 'metricsToken',
  SWAPLESS_METRICS_TOKEN_FILE: 'metricsTokenFile',
} as const satisfies Record<string, keyof ServerAuthConfig>;

/** The `auth` fields the environment sets (empty values ignored), or undefined when it sets none. */
export function authEnvOverrides(
  env: Readonly<Record<string, string | undefined>>,
): ServerAuthConfig | undefined {
  const out: Record<string, string> = {};
  for (const [name, field] of Object.entries(AUTH_ENV_OVERRIDES)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') out[field] = raw;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** For override messages: `auth/<field>` → the environment variable that set it. */
export const AUTH_ENV_LABELS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(AUTH_ENV_OVERRIDES).map(([name, field]) => [
    `auth/${field}`,
    `environment variable ${name}`,
  ]),
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Lays a layer's `auth` over the one below, field by field: a layer that gives a token of one kind, inline or as a
 * file, replaces both forms of that kind below it (so `SWAPLESS_ADMIN_TOKEN` wins over the file's
 * `adminTokenFile`). Token-file paths are made absolute against `baseDir` (the layer's own base). Anything that is
 * not an object is returned as it is, for the schema to refuse.
 */
export function mergeAuth(below: unknown, layer: unknown, baseDir: string): unknown {
  if (!isPlainObject(layer)) return layer;
  const out: Record<string, unknown> = isPlainObject(below) ? { ...below } : {};
  for (const kind of TOKEN_KINDS) {
    if (`${kind}Token` in layer || `${kind}TokenFile` in layer) {
      delete out[`${kind}Token`];
      delete out[`${kind}TokenFile`];
    }
  }
  for (const [k, v] of Object.entries(layer)) {
    out[k] = k.endsWith('TokenFile') && typeof v === 'string' && v !== '' ? resolve(baseDir, v) : v;
  }
  return out;
}

/** What the schema cannot say about a valid `auth`: a token given both inline and as a file in the same place. */
export function authProblems(auth: ServerAuthConfig): string[] {
  return TOKEN_KINDS.filter(
    (k) => auth[`${k}Token`] !== undefined && auth[`${k}TokenFile`] !== undefined,
  ).map((k) => `/auth: expected ${k}Token or ${k}TokenFile, not both`);
}

/** Startup warnings about where the server listens and what it leaves open. */
export function securityWarnings(config: {
  host: string;
  auth: ServerAuthConfig;
  tls: ServerTlsConfig | null;
}): string[] {
  if (isLoopbackHost(config.host)) return [];
  const has = (k: TokenKind) =>
    config.auth[`${k}Token`] !== undefined || config.auth[`${k}TokenFile`] !== undefined;
  const where = `listening on ${config.host} (beyond loopback)`;
  const out: string[] = [];
  if (!has('admin')) {
    out.push(
      `${where} without an admin token: management changes (registering and removing tenants) are disabled; set auth.adminToken or SWAPLESS_ADMIN_TOKEN to enable them`,
    );
  }
  if (!has('inference')) {
    out.push(
      `${where} without an inference token: inference and model metadata are open to anyone who can reach this address; set auth.inferenceToken or SWAPLESS_INFERENCE_TOKEN to require one`,
    );
  }
  if (config.tls === null && TOKEN_KINDS.some(has)) {
    out.push(
      `${where} without tls: bearer tokens cross the network in clear text; configure tls (cert and key) or put a TLS-terminating proxy in front`,
    );
  }
  return out;
}

/** A regular file of at most {@link MAX_SECRET_FILE_BYTES}, read whole (a FIFO or a device never blocks startup). */
async function readSecretFile(path: string, what: string): Promise<Buffer> {
  let reason: string | null = null;
  try {
    const st = await stat(path);
    if (!st.isFile()) reason = 'not a regular file';
    else if (st.size > MAX_SECRET_FILE_BYTES) reason = `${st.size} bytes, more than ${MAX_SECRET_FILE_BYTES}`;
    else return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
  }
  throw new SwapLessIoError(
    `Expected a readable ${what} file but received ${JSON.stringify(path)} (${reason})`,
    {
      details: { path },
    },
  );
}

const TOKEN_RE = new RegExp(TOKEN_PATTERN);

async function readToken(path: string, field: string): Promise<string> {
  // Surrounding whitespace (the newline `echo` and editors add) is not part of the token.
  const token = (await readSecretFile(path, `token (auth.${field})`)).toString('utf8').trim();
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH || !TOKEN_RE.test(token)) {
    // Never the token itself, only what is wrong with it.
    const problem = `Expected a token of ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters (letters, digits and - . _ ~ + /, optionally ending in =) in ${JSON.stringify(path)} but it holds ${token.length} character${token.length === 1 ? '' : 's'}${TOKEN_RE.test(token) || token.length === 0 ? '' : ', some outside that set'}`;
    throw new InvalidConfigError(problem, [`/auth/${field}: ${problem}`], { details: { path } });
  }
  return token;
}

/** What {@link loadSecurity} read: the tokens and, for HTTPS, the certificate and key. */
export interface LoadedSecurity {
  tokens: AuthTokens;
  tls: { cert: Buffer; key: Buffer } | null;
}

/**
 * Reads what the security settings point to: each token file (a regular file, surrounding whitespace trimmed,
 * checked like an inline token) and the TLS certificate and key, which must load into a TLS context together.
 * @throws SwapLessIoError for a file that cannot be read; InvalidConfigError for a bad token, certificate or key.
 */
export async function loadSecurity(config: {
  auth: ServerAuthConfig;
  tls: ServerTlsConfig | null;
}): Promise<LoadedSecurity> {
  const tokens: AuthTokens = { admin: null, inference: null, metrics: null };
  for (const kind of TOKEN_KINDS) {
    const inline = config.auth[`${kind}Token`];
    const file = config.auth[`${kind}TokenFile`];
    tokens[kind] = inline ?? (file !== undefined ? await readToken(file, `${kind}TokenFile`) : null);
  }
  if (config.tls === null) return { tokens, tls: null };
  const cert = await readSecretFile(config.tls.cert, 'TLS certificate (tls.cert)');
  const key = await readSecretFile(config.tls.key, 'TLS private key (tls.key)');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const problem = `Expected a PEM certificate and its matching private key for tls.cert ${JSON.stringify(config.tls.cert)} and tls.key ${JSON.stringify(config.tls.key)} but TLS refuses them: ${(err as Error).message}`;
    throw new InvalidConfigError(problem, [`/tls: ${problem}`], { cause: err, details: { ...config.tls } });
  }
  return { tokens, tls: { cert, key } };
}
