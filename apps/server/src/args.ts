/**
 * The server's command line (the `swapless-server` bin and `swapless serve`): flags, their help, and their
 * translation into config overrides. Bad flags are UsageError (exit status 2).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { choiceFlag, expected, intFlag, UsageError } from '@swapless/core';
import { latencyModelChoiceOf } from '@swapless/service';
import { LOG_LEVELS, SERVER_POLICIES, type ServerConfigInput } from './config.js';

/** `--help` of the server's command line. */
export const SERVE_HELP = `Usage: swapless serve [options]      (also: npm start, node apps/server/bin/swapless-server.js)

Starts the SwapLess server: the KServe v2 inference API, the management API, Prometheus metrics and a live
dashboard over one Edge TPU (emulated by default) shared by several tenants. Without --config it runs the
embedded default: the emulated usb3 device and three demo tenants from the model zoo. The first start profiles
the tenants' models (progress on stderr); the results are cached, so later starts take seconds.

Options (each overrides the config file and the environment):
  --config FILE      JSON or YAML config (reference: docs/server.md)
  --port N           TCP port (default 8080; 0 = any free port)            env SWAPLESS_PORT
  --host H           address to listen on (default 127.0.0.1)               env SWAPLESS_HOST
  --device D         usb3 | usb2 | pcie | devboard (emulated) | edgetpu     env SWAPLESS_DEVICE
  --cores N          CPU cores for the tenants' CPU stages                  env SWAPLESS_CORES
  --policy P         ${SERVER_POLICIES.join(' | ')}  env SWAPLESS_POLICY
  --latency-model M  latency model id (mg1-default), installed plugin (model id or package) or plugin path
  --latency-model-options JSON
                     options of that model (a JSON object; default model if --latency-model is not given)
  --mode M           functional | timing-only                               env SWAPLESS_MODE
  --repository DIR   model repository (default ./models)                    env SWAPLESS_REPOSITORY
  --tenant NAME[=MODEL][@DEVICE]
                     serve MODEL (a repository folder or zoo name; default NAME) as tenant NAME, on
                     Edge TPU DEVICE (an id of the config's devices; default: where the controller
                     places it); repeatable, and replaces the config's tenants
                     (e.g. KServe's --tenant {{.Name}}=models)
  --log-level L      ${LOG_LEVELS.join(' | ')}     env SWAPLESS_LOG_LEVEL
  --json             print the startup summary as one JSON line instead of the banner
  -h, --help         show this help

Logs are JSON lines (pino) on stderr; the banner with the URLs and a curl line goes to stdout.
SIGINT/SIGTERM (Ctrl-C) stop accepting requests, drain those in flight and exit 0; a second signal exits at once.
Exit status: 0 after a clean shutdown, 1 on failure, 2 on bad arguments.`;

const FLAGS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  device: { type: 'string' },
  cores: { type: 'string' },
  policy: { type: 'string' },
  'latency-model': { type: 'string' },
  'latency-model-options': { type: 'string' },
  mode: { type: 'string' },
  repository: { type: 'string' },
  tenant: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** What the command line asks for. */
export interface ServeArgs {
  configPath?: string;
  overrides: ServerConfigInput;
  json: boolean;
  help: boolean;
}

function nonEmpty(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError(expected('a non-empty value', `--${name}`, raw));
  return raw;
}

/** `--tenant NAME[=MODEL][@DEVICE]` → a tenant (the config's schema checks the names, its devices the device). */
function tenantFlag(raw: string): { name: string; model: string; device?: string } {
  const at = raw.indexOf('@');
  const spec = at < 0 ? raw : raw.slice(0, at);
  const device = at < 0 ? undefined : raw.slice(at + 1);
  const [name = '', model = name] = spec.split('=', 2);
  if (name.trim() === '' || model.trim() === '' || spec.split('=').length > 2 || device?.trim() === '') {
    throw new UsageError(expected('NAME, NAME=MODEL or either with @DEVICE', '--tenant', raw));
  }
  return device === undefined ? { name, model } : { name, model, device };
}

/** Parses the server's flags (UsageError — exit status 2 — for anything it does not understand). */
export function parseServeArgs(argv: readonly string[]): ServeArgs {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see \`swapless serve --help\`)`, { cause: err });
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new UsageError(
      `Expected no positional arguments for swapless serve but received ${positionals.join(' ')} (use --config FILE)`,
    );
  }
  const overrides: ServerConfigInput = {};
  const port = intFlag('port', values.port, 0, 65535);
  if (port !== undefined) overrides.port = port;
  const cores = intFlag('cores', values.cores, 1, 1024);
  if (cores !== undefined) overrides.cores = cores;
  const host = nonEmpty('host', values.host);
  if (host !== undefined) overrides.host = host;
  const device = nonEmpty('device', values.device);
  if (device !== undefined) overrides.device = device;
  const policy = choiceFlag('policy', values.policy, SERVER_POLICIES);
  if (policy !== undefined) overrides.policy = policy;
  const latencyModel = latencyModelChoiceOf(values['latency-model'], values['latency-model-options']);
  if (latencyModel !== undefined) overrides.latencyModel = latencyModel;
  const mode = choiceFlag('mode', values.mode, ['functional', 'timing-only'] as const);
  if (mode !== undefined) overrides.mode = mode;
  const repository = nonEmpty('repository', values.repository);
  if (repository !== undefined) overrides.repository = repository;
  if (values.tenant !== undefined) overrides.tenants = values.tenant.map(tenantFlag);
  const logLevel = choiceFlag('log-level', values['log-level'], LOG_LEVELS);
  if (logLevel !== undefined) overrides.logLevel = logLevel;
  const configPath = nonEmpty('config', values.config);
  return {
    ...(configPath !== undefined ? { configPath } : {}),
    overrides,
    json: values.json,
    help: values.help,
  };
}
