// HTTPS end to end: a certificate authority and a server certificate made by `openssl` at test time, the real
// server on node's https, and real requests from node's https client (and KServeClient) that trust only that CA.
// Also what startup does with bad security files: token files and certificates are checked before anything runs.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { KServeClient } from '@swapless/adapter-kserve';
import { ErrorCodes, InvalidConfigError, isSwapLessError, SwapLessIoError } from '@swapless/core';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecurity } from './security.js';
import { type RunningServer, startServer } from './server.js';
import { reference, testServerConfig, useServerWork } from './test-support.js';

const run = promisify(execFile);
const TOKEN = 'tls-inference-0123456789abcdef0123';
const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));
const dirs = useServerWork('tls', { tiny });

let work: string;
let pki: string;
let ca: Buffer;
let otherCa: Buffer;

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: pki });
}

beforeAll(async () => {
  work = dirs.work();
  pki = join(work, 'pki');
  await mkdir(pki);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  // A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated self-signed certificate.
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=swapless test CA',
  );
  await openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(join(pki, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other',
  );
  ca = await readFile(join(pki, 'ca.pem'));
  otherCa = await readFile(join(pki, 'other.pem'));
});

interface HttpsAnswer {
  status: number;
  body: string;
  authorized: boolean;
  peer: string;
}

function get(
  url: string,
  options: { ca?: Buffer; token?: string; method?: string; body?: string } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: options.method ?? 'GET',
        ...(options.ca ? { ca: options.ca } : {}),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body ? { 'content-type': 'application/json' } : {}),
        },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const socket = res.socket as TLSSocket;
          resolve({
            status: res.statusCode ?? 0,
            body,
            authorized: socket.authorized,
            peer: String(socket.getPeerCertificate().subject?.CN ?? ''),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTPS with tls: { cert, key }', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(
      {
        ...testServerConfig(work, dirs.repo()),
        tenants: [{ name: 'tiny', model: 'tiny' }],
        tls: { cert: join(pki, 'server.pem'), key: join(pki, 'server.key') },
        auth: { inferenceToken: TOKEN },
        logLevel: 'silent',
      },
      { progress: false },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on https and is verified by a client that trusts the CA', async () => {
    expect(server.urls.base).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.access.tls).toBe(true);
    const ready = await get(`${server.urls.api}/health/ready`, { ca });
    expect(ready).toEqual({ status: 200, body: '{"ready":true}', authorized: true, peer: 'localhost' });
  });

  it('serves inference over https with the token, and challenges without it', async () => {
    const x = [5, -6, 7, -8, 9, -10, 11, -12];
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 8], data: x }] });
    const url = `${server.urls.api}/models/tiny/infer`;
    const refused = await get(url, { ca, method: 'POST', body });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).code).toBe('SWAPLESS_UNAUTHORIZED');
    const ok = await get(url, { ca, method: 'POST', body, token: TOKEN });
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body).outputs[0].data).toEqual(reference(tiny, Int8Array.from(x))[0]);

    const client = new KServeClient(server.urls.base, { ca, token: TOKEN });
    try {
      const r = await client.infer('tiny', [{ name: 'x', datatype: 'INT8', shape: [1, 8], data: x }], {
        binary: true,
      });
      expect(Array.from(r.outputs[0]!.data as Int8Array)).toEqual(reference(tiny, Int8Array.from(x))[0]);
    } finally {
      client.close();
    }
  });

  it('is refused by a client that does not trust the CA, and speaks no plain HTTP', async () => {
    const e = await get(`${server.urls.api}/health/live`, { ca: otherCa }).catch((err: unknown) => err);
    expect((e as NodeJS.ErrnoException).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // Plain HTTP to the same port: no HTTP answer at all.
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/v2/health/live', agent: false },
        (res) => resolve(`status ${res.statusCode}`),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
      req.end();
    });
    expect(plain).toMatch(/^error (ECONNRESET|EPIPE)$/);
  });
});

describe('security files read at startup', () => {
  async function failure(p: Promise<unknown>): Promise<Error> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }

  it('refuses a key that does not belong to the certificate, before listening', async () => {
    const tls = { cert: join(pki, 'server.pem'), key: join(pki, 'other.key') };
    const err = await failure(loadSecurity({ auth: {}, tls }));
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).problems[0]).toMatch(
      /^\/tls: Expected a PEM certificate and its matching private key for tls\.cert .*server\.pem" and tls\.key .*other\.key" but TLS refuses them: /,
    );
    // The whole server stops there: nothing listens, no service is created.
    const start = await failure(
      startServer({ port: 0, tls, tenants: [], logLevel: 'silent' }, { progress: false }),
    );
    expect(isSwapLessError(start, ErrorCodes.INVALID_CONFIG)).toBe(true);
    const notPem = join(work, 'not.pem');
    await writeFile(notPem, 'not a certificate\n');
    const bad = await failure(loadSecurity({ auth: {}, tls: { cert: notPem, key: notPem } }));
    expect(bad).toBeInstanceOf(InvalidConfigError);
    const missing = await failure(
      loadSecurity({ auth: {}, tls: { cert: join(work, 'nope.pem'), key: notPem } }),
    );
    expect(missing).toBeInstanceOf(SwapLessIoError);
    expect(missing.message).toMatch(
      /^Expected a readable TLS certificate \(tls\.cert\) file but received .*nope\.pem" \(no such file\)$/,
    );
  });

  it('reads token files: trimmed, checked like inline tokens, never echoed; a FIFO or folder never blocks', async () => {
    const good = join(work, 'good.token');
    await writeFile(good, `  ${TOKEN}\r\n\n`);
    expect((await loadSecurity({ auth: { metricsTokenFile: good }, tls: null })).tokens).toEqual({
      admin: null,
      inference: null,
      metrics: TOKEN,
    });
    const short = join(work, 'short.token');
    await writeFile(short, 'tooshort-123\n');
    const e = await failure(loadSecurity({ auth: { adminTokenFile: short }, tls: null }));
    expect(e).toBeInstanceOf(InvalidConfigError);
    expect((e as InvalidConfigError).problems).toEqual([
      `/auth/adminTokenFile: Expected a token of 16 to 4096 characters (letters, digits and - . _ ~ + /, optionally ending in =) in ${JSON.stringify(short)} but it holds 12 characters`,
    ]);
    expect(e.message).not.toContain('tooshort');
    const spaced = join(work, 'spaced.token');
    await writeFile(spaced, 'a token with spaces in it\n');
    const s = await failure(loadSecurity({ auth: { inferenceTokenFile: spaced }, tls: null }));
    expect(s.message).toMatch(/but it holds 25 characters, some outside that set$/);
    expect(s.message).not.toContain('with spaces');

    const fifo = join(work, 'fifo.token');
    await run('mkfifo', [fifo]);
    for (const path of [fifo, work, join(work, 'missing.token')]) {
      const err = await failure(loadSecurity({ auth: { adminTokenFile: path }, tls: null }));
      expect(err, path).toBeInstanceOf(SwapLessIoError);
      expect(err.message).toMatch(
        /^Expected a readable token \(auth\.adminTokenFile\) file but received .* \((not a regular file|no such file)\)$/,
      );
    }
  });
});
