import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes, InvalidConfigError, SwapLessIoError, UsageError } from '@swapless/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from './args.js';
import { EMBEDDED_CONFIG, envOverrides, loadConfig, parseConfig } from './config.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swapless-server-config-'));
  await mkdir(join(dir, 'etc'));
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function configError(p: Promise<unknown>): Promise<InvalidConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidConfigError);
  expect((err as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
  return err as InvalidConfigError;
}

describe('loadConfig', () => {
  it('gives the embedded default (demo tenants, loopback, usb3) without a file', async () => {
    const { config, source, warnings } = await loadConfig(undefined, {});
    expect(source).toBe('embedded default');
    expect(warnings).toEqual([]);
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.device).toBe('usb3');
    expect(config.policy).toBe('swapless');
    expect(config.mode).toBe('functional');
    expect(config.cores).toBeNull();
    expect(config.repository).toBe(resolve('models'));
    expect(config.repositoryLimits).toEqual({
      maxModelBytes: 256 * 1024 * 1024,
      maxFileBytes: 1024 * 1024,
      readTimeoutMs: 30_000,
    });
    expect(config.tenants.map((t) => t.model)).toEqual(EMBEDDED_CONFIG.tenants!.map((t) => t.model));
    expect(config.tenants.length).toBeGreaterThanOrEqual(2);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tenants[0])).toBe(true);
  });

  it('reads YAML with paths relative to the file, and has no demo tenants unless it lists some', async () => {
    const path = await file(
      'etc/server.yaml',
      [
        'port: 9001',
        'repository: ../repo',
        'logLevel: warn',
        'profiling: { repetitions: 3, maxCuts: 4 }',
        'device:',
        '  edgetpu: { library: /usr/lib/libedgetpu.so.1 }',
      ].join('\n'),
    );
    const { config } = await loadConfig(path, {});
    expect(config.port).toBe(9001);
    expect(config.repository).toBe(join(dir, 'repo'));
    expect(config.logLevel).toBe('warn');
    expect(config.profiling).toEqual({ repetitions: 3, maxCuts: 4 });
    expect(config.device).toEqual({ edgetpu: { library: '/usr/lib/libedgetpu.so.1' } });
    expect(config.tenants).toEqual([]);
  });

  it('reads JSON', async () => {
    const path = await file(
      'server.json',
      JSON.stringify({
        tenants: [{ name: 'a', model: 'mobilenet_v2', rate: 5, sloMs: 30, sloPercentile: 'p95' }],
        repository: null,
      }),
    );
    const { config } = await loadConfig(path, {});
    expect(config.tenants).toEqual([
      { name: 'a', model: 'mobilenet_v2', rate: 5, sloMs: 30, sloPercentile: 'p95' },
    ]);
    expect(config.repository).toBeNull();
  });

  it('applies environment overrides over the file and flags over the environment', async () => {
    const path = await file('env.yaml', 'port: 9001\nhost: 127.0.0.1\npolicy: default\n');
    const env = {
      SWAPLESS_PORT: '9100',
      SWAPLESS_HOST: '::1',
      SWAPLESS_DEVICE: 'pcie',
      SWAPLESS_CORES: '2',
      SWAPLESS_POLICY: 'cpu',
      SWAPLESS_REPOSITORY: 'rel/models',
      SWAPLESS_LOG_LEVEL: 'debug',
      SWAPLESS_MODE: 'timing-only',
      SWAPLESS_UNRELATED: 'x',
    };
    const { config } = await loadConfig(path, env, { port: 9200 });
    expect(config).toMatchObject({
      port: 9200,
      host: '::1',
      device: 'pcie',
      cores: 2,
      policy: 'cpu',
      logLevel: 'debug',
      mode: 'timing-only',
    });
    // Paths from the environment are relative to the working directory, not to the file.
    expect(config.repository).toBe(resolve('rel/models'));
    expect(envOverrides({ SWAPLESS_PORT: '' })).toEqual({});
    expect((await loadConfig(undefined, { SWAPLESS_DEVICE: 'edgetpu' })).config.device).toEqual({
      edgetpu: {},
    });
  });

  it('warns when listening beyond loopback: what is disabled, what is open, tokens without TLS', async () => {
    const { warnings } = await loadConfig(undefined, { SWAPLESS_HOST: '0.0.0.0' });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /without an admin token: management changes .* are disabled; set auth\.adminToken or SWAPLESS_ADMIN_TOKEN/,
    );
    expect(warnings[1]).toMatch(/without an inference token: inference and model metadata are open/);
    const token = 'f'.repeat(32);
    const guarded = await loadConfig(undefined, {
      SWAPLESS_HOST: '0.0.0.0',
      SWAPLESS_ADMIN_TOKEN: token,
      SWAPLESS_INFERENCE_TOKEN: token,
    });
    expect(guarded.warnings).toEqual([
      expect.stringMatching(/without tls: bearer tokens cross the network in clear text/),
    ]);
    expect(guarded.warnings.join()).not.toContain(token);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect((await loadConfig(undefined, { SWAPLESS_HOST: host })).warnings).toEqual([]);
    }
  });

  it('reports bad YAML with the parser position', async () => {
    const path = await file('bad.yaml', 'port: 8080\ntenants: [ { name: a\n');
    const err = await configError(loadConfig(path, {}));
    expect(err.message).toMatch(/^Expected YAML in .*bad\.yaml but it does not parse/);
    expect(err.message).toMatch(/line/i);
  });

  it('reports bad JSON', async () => {
    const path = await file('bad.json', '{ "port": 80, }');
    const err = await configError(loadConfig(path, {}));
    expect(err.message).toMatch(/^Expected JSON in .*bad\.json but it does not parse/);
  });

  it('lists every schema violation with its path', async () => {
    const path = await file(
      'invalid.yaml',
      [
        'port: 70000',
        'colour: red',
        'policy: fastest',
        'tenants:',
        '  - { name: "../etc", model: mobilenet_v2 }',
        '  - { name: a, model: mobilenet_v2, rate: -1 }',
        '  - { name: b, model: mobilenet_v2, sloMs: 40, sloPercentile: p90 }',
        '  - { name: c, model: mobilenet_v2, sloPercentile: p95 }',
      ].join('\n'),
    );
    const err = await configError(loadConfig(path, {}));
    expect(err.message).toMatch(/Expected a valid server config for .*invalid\.yaml/);
    const text = err.problems.join('\n');
    expect(text).toMatch(/\/port: must be <= 65535/);
    expect(text).toMatch(/unknown property "colour"/);
    expect(text).toMatch(/\/policy: must be equal to one of the allowed values/);
    expect(text).toMatch(/\/tenants\/0\/name: must match pattern/);
    expect(text).toMatch(/\/tenants\/1\/rate: must be > 0/);
    expect(text).toMatch(/\/tenants\/2\/sloPercentile: must be equal to one of the allowed values/);
    expect(text).toMatch(/\/tenants\/3: must have property sloMs when property sloPercentile is present/);
  });

  it('takes partial repository limits with defaults for the rest, and refuses bad ones', () => {
    const { config } = parseConfig({ repositoryLimits: { maxFileBytes: 4096 } } as never);
    expect(config.repositoryLimits).toEqual({
      maxModelBytes: 256 * 1024 * 1024,
      maxFileBytes: 4096,
      readTimeoutMs: 30_000,
    });
    const err = (() => {
      try {
        parseConfig({ repositoryLimits: { maxModelBytes: 0, readTimeoutMs: 1.5, extra: 1 } } as never);
      } catch (e) {
        return e as InvalidConfigError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    const text = err!.problems.join('\n');
    expect(text).toMatch(/\/repositoryLimits\/maxModelBytes: must be >= 1/);
    expect(text).toMatch(/\/repositoryLimits\/readTimeoutMs: must be integer/);
    expect(text).toMatch(/unknown property "extra"/);
  });

  it('probes as a client every 250 ms by default, not at all with 0, and refuses a negative interval', () => {
    expect(parseConfig({}).config.clientProbeMs).toBe(250);
    expect(parseConfig({ clientProbeMs: 0 }).config.clientProbeMs).toBe(0);
    const err = (() => {
      try {
        parseConfig({ clientProbeMs: -5 } as never);
      } catch (e) {
        return e as InvalidConfigError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err!.problems.join('\n')).toMatch(/\/clientProbeMs: must be >= 0/);
  });

  it('refuses duplicate tenant names and a non-object document', async () => {
    const dup = await file(
      'dup.json',
      JSON.stringify({
        tenants: [
          { name: 'a', model: 'x' },
          { name: 'a', model: 'y' },
        ],
      }),
    );
    expect((await configError(loadConfig(dup, {}))).problems).toEqual([
      '/tenants/1/name: duplicate tenant name "a"',
    ]);
    const list = await file('list.yaml', '- 1\n- 2\n');
    expect((await configError(loadConfig(list, {}))).message).toMatch(
      /an object \(mapping\) at the top level/,
    );
  });

  it('names the environment variable of a bad override', async () => {
    let err = await configError(loadConfig(undefined, { SWAPLESS_PORT: 'eighty' }));
    expect(err.message).toBe(
      'Expected an integer from 0 to 65535 for environment variable SWAPLESS_PORT but received "eighty"',
    );
    err = await configError(loadConfig(undefined, { SWAPLESS_CORES: '0' }));
    expect(err.message).toMatch(/SWAPLESS_CORES/);
    err = await configError(loadConfig(undefined, { SWAPLESS_POLICY: 'fastest' }));
    expect(err.problems.join()).toMatch(/\/policy: .* \(from environment variable SWAPLESS_POLICY\)/);
    err = await configError(loadConfig(undefined, { SWAPLESS_LOG_LEVEL: 'loud' }));
    expect(err.problems.join()).toMatch(/SWAPLESS_LOG_LEVEL/);
  });

  it('reports a missing file as an I/O error', async () => {
    const err = await loadConfig(join(dir, 'nope.yaml'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwapLessIoError);
    expect((err as SwapLessIoError).message).toMatch(/no such file/);
  });

  it('parseConfig is idempotent on its own output', () => {
    const { config } = parseConfig({ port: 0, tenants: [{ name: 't', model: 'm' }] });
    expect(parseConfig(config).config).toEqual(config);
  });
});

describe('parseServeArgs', () => {
  it('turns flags into overrides', () => {
    const a = parseServeArgs([
      '--config',
      'x.yaml',
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--device',
      'usb2',
      '--cores',
      '1',
      '--policy',
      'default',
      '--repository',
      'm',
      '--log-level',
      'warn',
      '--mode',
      'timing-only',
    ]);
    expect(a.configPath).toBe('x.yaml');
    expect(a.overrides).toEqual({
      port: 0,
      host: '0.0.0.0',
      device: 'usb2',
      cores: 1,
      policy: 'default',
      repository: 'm',
      logLevel: 'warn',
      mode: 'timing-only',
    });
  });

  it('throws UsageError for bad flags', () => {
    for (const argv of [
      ['--port', 'x'],
      ['--port', '70000'],
      ['--cores', '0'],
      ['--policy', 'fastest'],
      ['--log-level', 'loud'],
      ['--bogus'],
      ['extra'],
      ['--port'],
      ['--host', ''],
      ['--tenant', ''],
      ['--tenant', 'a='],
      ['--tenant', '=m'],
      ['--tenant', 'a=b=c'],
    ]) {
      expect(() => parseServeArgs(argv), argv.join(' ')).toThrow(UsageError);
    }
  });

  it('--tenant NAME[=MODEL] replaces the config tenants; the schema checks the names', async () => {
    const a = parseServeArgs(['--tenant', 'doorbell=models', '--tenant', 'mobilenet_v2']);
    expect(a.overrides.tenants).toEqual([
      { name: 'doorbell', model: 'models' },
      { name: 'mobilenet_v2', model: 'mobilenet_v2' },
    ]);
    const path = join(dir, 'tenants.yaml');
    await writeFile(path, 'tenants: [{ name: other, model: tiny }]\n');
    const { config } = await loadConfig(path, {}, a.overrides);
    expect(config.tenants.map((t) => t.name)).toEqual(['doorbell', 'mobilenet_v2']);
    const bad = parseServeArgs(['--tenant', '../etc=x']);
    await expect(loadConfig(path, {}, bad.overrides)).rejects.toMatchObject({
      code: 'SWAPLESS_INVALID_CONFIG',
      message: expect.stringContaining('(from command line)'),
    });
  });
});

describe('auth and tls settings', () => {
  const admin = 'a'.repeat(16);
  const other = '0123456789abcdef0123456789abcdef';

  it('defaults to no tokens and plain HTTP', () => {
    const { config } = parseConfig({});
    expect(config.auth).toEqual({});
    expect(config.tls).toBeNull();
  });

  it('requires tokens of at least 16 characters from the bearer-token alphabet, and says so', async () => {
    for (const [token, message] of [
      ['', /\/auth\/adminToken: must NOT have fewer than 16 characters/],
      ['a'.repeat(15), /\/auth\/adminToken: must NOT have fewer than 16 characters/],
      ['sixteen chars ok', /\/auth\/adminToken: must match pattern/],
      ['ümlaut-token-0123456', /\/auth\/adminToken: must match pattern/],
      ['a'.repeat(4097), /\/auth\/adminToken: must NOT have more than 4096 characters/],
    ] as const) {
      const err = await configError(
        Promise.resolve().then(() => parseConfig({ auth: { adminToken: token } })),
      );
      expect(err.problems.join('\n')).toMatch(message);
      if (token.length > 0) expect(err.message).not.toContain(token);
    }
    expect(parseConfig({ auth: { adminToken: admin } }).config.auth).toEqual({ adminToken: admin });
    // The whole b64token alphabet, with trailing '='.
    const b64 = 'AZaz09-._~+/tokenxx==';
    expect(parseConfig({ auth: { inferenceToken: b64 } }).config.auth.inferenceToken).toBe(b64);
    await configError(Promise.resolve().then(() => parseConfig({ auth: { adminTokn: admin } })));
  });

  it('takes tokens from the environment over the file, names the variable in errors, never echoes a token', async () => {
    const path = await file(
      'auth.yaml',
      ['auth:', `  adminTokenFile: secrets/admin`, `  inferenceToken: ${other}`].join('\n'),
    );
    const fromFile = (await loadConfig(path, {})).config.auth;
    // Token-file paths in a file are relative to the file's folder.
    expect(fromFile).toEqual({ adminTokenFile: join(dir, 'secrets', 'admin'), inferenceToken: other });
    // SWAPLESS_ADMIN_TOKEN replaces the file's adminTokenFile; the file's inference token stays.
    const env = (await loadConfig(path, { SWAPLESS_ADMIN_TOKEN: admin })).config.auth;
    expect(env).toEqual({ adminToken: admin, inferenceToken: other });
    // A token file from the environment is relative to the working directory.
    const envFile = (await loadConfig(path, { SWAPLESS_INFERENCE_TOKEN_FILE: 'run/inference' })).config.auth;
    expect(envFile).toEqual({
      adminTokenFile: join(dir, 'secrets', 'admin'),
      inferenceTokenFile: resolve('run/inference'),
    });
    expect(envOverrides({ SWAPLESS_METRICS_TOKEN: other, SWAPLESS_ADMIN_TOKEN: '' })).toEqual({
      auth: { metricsToken: other },
    });

    const short = 'short-token';
    const err = await configError(loadConfig(path, { SWAPLESS_ADMIN_TOKEN: short }));
    expect(err.problems).toEqual([
      '/auth/adminToken: must NOT have fewer than 16 characters (from environment variable SWAPLESS_ADMIN_TOKEN)',
    ]);
    expect(err.message).not.toContain(short);
  });

  it('refuses a token given both inline and as a file in the same place', async () => {
    const err = await configError(
      Promise.resolve().then(() =>
        parseConfig({ auth: { metricsToken: other, metricsTokenFile: '/run/m' } }),
      ),
    );
    expect(err.problems).toEqual(['/auth: expected metricsToken or metricsTokenFile, not both']);
    const both = await configError(
      loadConfig(undefined, { SWAPLESS_ADMIN_TOKEN: admin, SWAPLESS_ADMIN_TOKEN_FILE: '/run/a' }),
    );
    expect(both.problems).toEqual(['/auth: expected adminToken or adminTokenFile, not both']);
  });

  it('takes tls cert and key paths relative to the file, and refuses half a pair', async () => {
    const path = await file('tls.json', JSON.stringify({ tls: { cert: 'pki/cert.pem', key: '/etc/k.pem' } }));
    expect((await loadConfig(path, {})).config.tls).toEqual({
      cert: join(dir, 'pki', 'cert.pem'),
      key: '/etc/k.pem',
    });
    const half = await configError(Promise.resolve().then(() => parseConfig({ tls: { cert: 'c.pem' } })));
    expect(half.problems.join()).toMatch(/\/tls: must have required property 'key'/);
    expect(parseConfig({ tls: null }).config.tls).toBeNull();
  });
});
