import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts credentials wherever a request or its headers end up in a line', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'swapless-logger-')), 'server.log');
    const logger = createLogger({ level: 'info', destination: file });
    const secret = 'Bearer s3cret-0123456789abcdef';
    const headers = { authorization: secret, cookie: `sid=${secret}`, 'user-agent': 'curl/8' };
    logger.info({ req: { method: 'POST', url: '/api/v1/tenants', headers } }, 'request');
    logger.info({ request: { headers } }, 'request');
    logger.info({ headers }, 'headers');
    logger.info({ authorization: secret }, 'header value');
    logger.info({ upstream: { headers } }, 'nested');
    // The file destination opens asynchronously: flush until every line is there.
    // biome-ignore lint/suspicious/noExplicitAny: parsed log lines are checked field by field
    let lines: any[] = [];
    for (let i = 0; i < 200 && lines.length < 5; i++) {
      flushLogger(logger);
      const text = await readFile(file, 'utf8').catch(() => '');
      lines =
        text.trim() === ''
          ? []
          : text
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l));
      if (lines.length < 5) await new Promise((r) => setTimeout(r, 10));
    }
    expect(lines).toHaveLength(5);
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(lines[0].req.headers).toEqual({
      authorization: '[Redacted]',
      cookie: '[Redacted]',
      'user-agent': 'curl/8',
    });
    expect(lines[0].req.url).toBe('/api/v1/tenants');
    expect(lines[3].authorization).toBe('[Redacted]');
    expect(lines[4].upstream.headers.authorization).toBe('[Redacted]');
  });
});
