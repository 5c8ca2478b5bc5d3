import { Readable } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, InvalidArgumentError } from './errors.js';
import {
  allowedMethods,
  contentCodingOf,
  type DecodedBody,
  decodeRequestBody,
  methodNotAllowedMessage,
} from './http-protocol.js';
import { httpStatusOf } from './http-status.js';

/** Reads a stream to the end; resolves with its bytes or rejects with its error. */
function drain(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A source that hands out `chunk` `times` times, one per read, counting the reads. */
function counting(chunk: Buffer, times: number): Readable & { pulled: number } {
  let n = 0;
  const r = new Readable({
    read() {
      if (n === times) {
        this.push(null);
        return;
      }
      n++;
      (r as Readable & { pulled: number }).pulled = n;
      this.push(chunk);
    },
  }) as Readable & { pulled: number };
  r.pulled = 0;
  return r;
}

const text = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'x', data: Array.from({ length: 500 }, (_, i) => i) }] }),
);

describe('decodeRequestBody', () => {
  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZip', gzipSync],
    ['identity, gzip', gzipSync],
  ] as const)('decodes %s and counts the encoded bytes', async (coding, encode) => {
    const encoded = encode(text);
    const out = decodeRequestBody(Readable.from([encoded]), coding, 1 << 20);
    expect(await drain(out)).toEqual(text);
    expect((out as DecodedBody).receivedEncodedLength).toBe(encoded.length);
  });

  it('passes the source through when there is no coding', () => {
    const source = Readable.from([text]);
    expect(decodeRequestBody(source, undefined, 10)).toBe(source);
    expect(decodeRequestBody(source, 'identity', 10)).toBe(source);
    expect(decodeRequestBody(source, '', 10)).toBe(source);
  });

  it('refuses an unknown coding, or two, with a 415-mapped typed error', () => {
    for (const header of ['compress', 'zstd', 'gzip, br', 'gzip, gzip']) {
      let error: unknown;
      try {
        decodeRequestBody(Readable.from([text]), header, 10);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((error as InvalidArgumentError).details.reason).toBe('unsupported-encoding');
      expect((error as Error).message).toMatch(
        /^Expected a Content-Encoding of gzip, deflate, br or identity/,
      );
      expect(httpStatusOf(error)).toBe(415);
    }
    expect(contentCodingOf(['gzip'])).toBe('gzip');
  });

  it('stops a gzip bomb at the cap without inflating the rest (413)', async () => {
    // One gzip member of 16 MiB of zeros, repeated: 64 members decode to 1 GiB (gunzip reads multi-member bodies).
    const member = gzipSync(Buffer.alloc(16 << 20));
    const source = counting(member, 64);
    const out = decodeRequestBody(source, 'gzip', 1 << 20);
    let decoded = 0;
    let pulledAtError = -1;
    out.on('data', (c: Buffer) => (decoded += c.length));
    const error = await new Promise((resolve) =>
      out.on('error', (e) => {
        pulledAtError = source.pulled;
        resolve(e);
      }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).details.reason).toBe('body-too-large');
    expect((error as Error).message).toBe(
      'Expected a request body of at most 1048576 bytes once decoded (Content-Encoding: gzip) but it decodes to more',
    );
    expect(httpStatusOf(error)).toBe(413);
    // The cap (1 MiB) is inside the first member: decoding stopped there, with the source read a few chunks ahead
    // through the stream buffers — long before the 64th — and exactly the cap handed on.
    expect(pulledAtError).toBeGreaterThan(0);
    expect(pulledAtError).toBeLessThanOrEqual(8);
    expect(decoded).toBe(1 << 20);
    // The rest of the source is read and discarded, as a request body must be for the answer to go out.
    if (!source.readableEnded) await new Promise<void>((resolve) => source.once('end', resolve));
    expect(source.pulled).toBe(64);
  });

  it('caps the decoded size exactly: at the cap decodes, one byte over fails', async () => {
    const body = Buffer.alloc(5000, 7);
    expect(await drain(decodeRequestBody(Readable.from([brotliCompressSync(body)]), 'br', 5000))).toEqual(
      body,
    );
    await expect(
      drain(decodeRequestBody(Readable.from([brotliCompressSync(body)]), 'br', 4999)),
    ).rejects.toThrow(/at most 4999 bytes once decoded/);
  });

  it('fails data that does not decode with a 400-mapped typed error', async () => {
    for (const [coding, bytes] of [
      ['gzip', Buffer.from('{"inputs": []}')],
      ['deflate', deflateRawSync(text)],
      ['br', Buffer.from([0xff, 0xff, 0xff, 0xff])],
      ['gzip', gzipSync(text).subarray(0, 20)],
    ] as const) {
      const error = await drain(decodeRequestBody(Readable.from([bytes]), coding, 1 << 20)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, coding).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).details.reason).toBe('bad-encoding');
      expect((error as Error).message).toMatch(
        new RegExp(
          `^Expected a request body encoded as its Content-Encoding says \\(${coding}\\) but it does not decode: `,
        ),
      );
      expect(httpStatusOf(error)).toBe(400);
    }
  });

  it('fails the decoded stream when the source fails (a client gone mid-upload)', async () => {
    const source = new Readable({ read() {} });
    const out = decodeRequestBody(source, 'gzip', 1 << 20);
    const failed = drain(out).then(
      () => null,
      (e: unknown) => e,
    );
    source.push(gzipSync(text).subarray(0, 10));
    source.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    expect(await failed).toMatchObject({ message: 'aborted', code: 'ECONNRESET' });
  });

  it('never throws an unhandled error for a body nobody reads', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      decodeRequestBody(Readable.from([Buffer.from('not gzip at all')]), 'gzip', 10);
      decodeRequestBody(Readable.from([]), 'gzip', 10);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});

describe('allowedMethods', () => {
  const routes: Record<string, RegExp> = {
    GET: /^\/a\/[^/]+$/,
    HEAD: /^\/a\/[^/]+$/,
    POST: /^\/a\/[^/]+\/go$/,
  };
  const router = {
    findRoute({ method, url }: { method: string; url: string }) {
      if (url.includes('%')) throw new URIError('bad');
      return routes[method]?.test(url) ? {} : null;
    },
  };

  it('lists the methods a path has, ignoring the query', () => {
    expect(allowedMethods(router, '/a/x?y=1')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(router, '/a/x/go')).toEqual(['POST']);
    expect(allowedMethods(router, '/b')).toEqual([]);
    expect(allowedMethods(router, '/a/%zz')).toEqual([]);
  });

  it('says what was expected', () => {
    expect(methodNotAllowedMessage('DELETE', '/a/x?q', ['GET', 'HEAD'])).toBe(
      'Expected GET or HEAD for "/a/x" but received DELETE',
    );
    expect(methodNotAllowedMessage('GET', '/a/x/go', ['POST'])).toBe(
      'Expected POST for "/a/x/go" but received GET',
    );
  });
});
