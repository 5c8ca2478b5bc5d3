/**
 * Example KServe v2 requests, one per tenant, written to files so the startup banner can print a `curl` line that
 * works verbatim (`--data-binary @<file>`): a request for an image model is far too long for a command line.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TENANT_NAME_PATTERN } from '@swapless/adapter-management';
import { writeFileAtomic } from '@swapless/core';

/** The parts of a model's KServe metadata an example needs. */
export interface ExampleModel {
  name: string;
  inputs: readonly { name: string; datatype: string; shape: readonly number[] }[];
}

function value(datatype: string, i: number): number | boolean {
  // A deterministic, varied pattern (not all zeros, so the outputs are worth looking at).
  const h = (i * 2654435761) >>> 24; // 0..255
  switch (datatype) {
    case 'BOOL':
      return (h & 1) === 1;
    case 'INT8':
      return h - 128;
    case 'INT16':
    case 'INT32':
    case 'INT64':
      return h - 128;
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
    case 'UINT64':
      return h;
    default:
      return Math.round(((h - 128) / 128) * 1000) / 1000;
  }
}

/** A valid KServe v2 JSON inference request for `model` (dynamic dimensions, `-1`, are given size 1). */
export function exampleRequest(model: ExampleModel): {
  id: string;
  inputs: { name: string; datatype: string; shape: number[]; data: (number | boolean)[] }[];
} {
  return {
    id: `example-${model.name}`,
    inputs: model.inputs.map((input) => {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      const data = new Array<number | boolean>(count);
      for (let i = 0; i < count; i++) data[i] = value(input.datatype, i);
      return { name: input.name, datatype: input.datatype, shape, data };
    }),
  };
}

/** The file an example request for `name` is written to. */
export function examplePath(dir: string, name: string): string {
  return join(dir, 'examples', `${name}.json`);
}

/** Writes one example request per model under `<dir>/examples/`; resolves to name → file. */
export async function writeExamples(
  dir: string,
  models: readonly ExampleModel[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const m of models) {
    const path = examplePath(dir, m.name);
    await writeFileAtomic(path, `${JSON.stringify(exampleRequest(m))}\n`);
    out[m.name] = path;
  }
  return out;
}

/** Removes the example request of `name`, if there is one. */
export async function removeExample(dir: string, name: string): Promise<void> {
  await rm(examplePath(dir, name), { force: true });
}

/** `<tenant>.json`, or a temporary file of one that a killed writer left (`<tenant>.json.<pid>.<hex>.tmp`). */
const EXAMPLE_FILE = new RegExp(`${TENANT_NAME_PATTERN.slice(0, -1)}\\.json(\\.\\d+\\.[0-9a-f]{8}\\.tmp)?$`);

/**
 * Removes every example request under `<dir>/examples/` (files named like a tenant's, and their leftover temporary
 * files; nothing else is touched), so that none outlives its tenant: a server that owns `dir` calls it before writing
 * its own tenants' examples.
 */
export async function clearExamples(dir: string): Promise<void> {
  const folder = join(dir, 'examples');
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names.filter((n) => EXAMPLE_FILE.test(n))) {
    await rm(join(folder, name), { force: true }).catch(() => undefined);
  }
}

/** Quotes a path for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./@:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `curl` line that sends an example request file to a tenant's infer endpoint; with `withToken`, it sends the
 * inference token from `$SWAPLESS_INFERENCE_TOKEN` (the line never holds the token itself).
 */
export function curlLine(apiUrl: string, tenant: string, file: string, withToken = false): string {
  const auth = withToken ? ` -H "Authorization: Bearer $SWAPLESS_INFERENCE_TOKEN"` : '';
  return `curl -s${auth} -H 'Content-Type: application/json' --data-binary @${shellQuote(file)} ${apiUrl}/v2/models/${encodeURIComponent(tenant)}/infer | head -c 400; echo`;
}

/**
 * The `curl` line for clients of the server (`GET /`): it fetches the example request from the server itself
 * (`GET /examples/<tenant>.json`) and pipes it to the tenant's infer endpoint, so it names no file of the host.
 */
export function remoteCurlLine(baseUrl: string, tenant: string, withToken = false): string {
  const name = encodeURIComponent(tenant);
  const auth = withToken ? ` -H "Authorization: Bearer $SWAPLESS_INFERENCE_TOKEN"` : '';
  return `curl -s ${baseUrl}/examples/${name}.json | curl -s${auth} -H 'Content-Type: application/json' --data-binary @- ${baseUrl}/v2/models/${name}/infer | head -c 400; echo`;
}
