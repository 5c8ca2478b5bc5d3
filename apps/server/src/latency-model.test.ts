import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, InvalidConfigError } from '@swapless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from './args.js';
import { parseConfig } from './config.js';
import { startServer } from './server.js';
import { testServerConfig, useTestCache } from './test-support.js';

const PLUGIN = fileURLToPath(new URL('../../../packages/latency-model-switchover/', import.meta.url));
// A plugin package whose every prediction is NaN (the plugin host's own test fixture).
const NAN_PLUGIN = fileURLToPath(
  new URL('../../../packages/queueing/test/fixtures/nan-plugin/', import.meta.url),
);

let work: string;
let restoreCache: () => void;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-server-latency-'));
  restoreCache = useTestCache(work);
});
afterAll(() => restoreCache());

describe('latencyModel in the server config', () => {
  it('takes an id, a path relative to the config file, or { id, options }; null is the default', () => {
    const base = { baseDir: '/etc/swapless' };
    expect(parseConfig({}).config.latencyModel).toBeNull();
    expect(parseConfig({ latencyModel: null }).config.latencyModel).toBeNull();
    expect(parseConfig({ latencyModel: 'mg1-switchover' }, base).config.latencyModel).toEqual({
      id: 'mg1-switchover',
      options: {},
    });
    expect(
      parseConfig({ latencyModel: { id: './plugins/x', options: { correction: 'none' } } }, base).config
        .latencyModel,
    ).toEqual({ id: '/etc/swapless/plugins/x', options: { correction: 'none' } });
  });

  it('refuses other shapes like any other key: SWAPLESS_INVALID_CONFIG with the JSON path', () => {
    for (const latencyModel of [42, '', { options: {} }, { id: 'x', options: [] }, { id: 'x', extra: 1 }]) {
      let caught: unknown;
      try {
        parseConfig({ latencyModel } as never, { source: 'server.yaml' });
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(latencyModel)).toBeInstanceOf(InvalidConfigError);
      expect((caught as InvalidConfigError).message).toMatch(
        /^Expected a valid server config for server\.yaml:\n {2}\/latencyModel/,
      );
    }
  });

  it('--latency-model and --latency-model-options on the command line; bad JSON is SWAPLESS_INVALID_CONFIG', () => {
    expect(
      parseServeArgs(['--latency-model', './p', '--latency-model-options', '{"correction":"linear"}'])
        .overrides.latencyModel,
    ).toEqual({ id: './p', options: { correction: 'linear' } });
    expect(parseServeArgs(['--latency-model', 'mg1-default']).overrides.latencyModel).toBe('mg1-default');
    expect(() => parseServeArgs(['--latency-model-options', '{oops'])).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_CONFIG }),
    );
  });

  it('the controller status names the plugin with package and version', async () => {
    const server = await startServer(
      {
        ...testServerConfig(work, join(work, 'models')),
        logLevel: 'silent',
        latencyModel: { id: PLUGIN, options: { correction: 'linear' } },
      },
      { progress: false },
    );
    try {
      const res = await fetch(`${server.urls.base}/api/v1/controller`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { latencyModel: unknown; latencyModelDetails: unknown };
      expect(body.latencyModel).toBe('mg1-switchover');
      expect(body.latencyModelDetails).toEqual({
        id: 'mg1-switchover',
        package: '@swapless/latency-model-switchover',
        version: '0.1.0',
        label: 'mg1-switchover (@swapless/latency-model-switchover@0.1.0)',
        fitted: 0,
      });
    } finally {
      await server.close();
    }
  });

  it('a plugin that predicts NaN stops the start with SWAPLESS_INVALID_CONFIG naming it', async () => {
    await expect(
      startServer(
        { ...testServerConfig(work, join(work, 'models')), logLevel: 'silent', latencyModel: NAN_PLUGIN },
        { progress: false },
      ),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('fixture-nan (@fixture/nan-plugin@0.3.1)'),
    });
  });
});
