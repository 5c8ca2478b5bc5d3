// A worker thread that is terminated while it calls into the binding must not take the process down. With C++
// exceptions on, a native method that throws while the worker's environment is shutting down cannot raise its JS
// error (napi_throw fails); unless node-addon-api is told to swallow that (NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS in
// binding.gyp), it throws again from its own catch handler and std::terminate aborts the whole process — what
// happened when the runtime retired CPU-stage workers under load.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = `
import { Worker } from 'node:worker_threads';
const lib = ${JSON.stringify(fileURLToPath(new URL('../lib/index.js', import.meta.url)))};
const model = ${JSON.stringify(fileURLToPath(new URL('./tiny-model.mjs', import.meta.url)))};
const code = \`
  const { createRequire } = await import('node:module');
  const { addonPath, defaultTfLiteLibraryPath } = await import(\${JSON.stringify(lib)});
  const { tinyAddModel } = await import(\${JSON.stringify(model)});
  const binding = createRequire(\${JSON.stringify(lib)})(addonPath);
  const it = new binding.Interpreter(new binding.TfLiteLibrary(defaultTfLiteLibraryPath()), tinyAddModel(4), {});
  const { parentPort } = await import('node:worker_threads');
  parentPort.postMessage('ready');
  // Native methods that throw (RangeError, TypeError), back to back, until the worker is terminated.
  for (;;) {
    try { it.inputInfo(99); } catch {}
    try { it.setInput(0, new Float32Array(3)); } catch {}
  }
\`;
for (let i = 0; i < 60; i++) {
  const w = new Worker(code, { eval: true });
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await new Promise((r) => setTimeout(r, (i % 5) + Math.random()));
  await w.terminate();
}
console.log('survived');
`;

describe('worker termination', () => {
  it('survives terminating workers that are inside throwing native calls', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.stderr).not.toMatch(/terminate called/);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('survived');
  });
});
