import { describe, expect, it } from 'vitest';
import { createInterpreter } from './index.js';
import { tinyAddModel } from './test-support.js';

// A 16 KiB constant makes every leaked model copy, TFLite model or XNNPACK packing visible: leaking any
// of them per cycle grows RSS by 160+ MB over 10,000 cycles, far past the bound (checked by deleting the
// addon's free of the model copy: +180 MB).
const N = 4096;
const model = tinyAddModel(N);
const input = new Float32Array(N).fill(1);
const output = new Float32Array(N);

// Node runs N-API finalizers from the event loop, so the loop must turn now and then for collected
// interpreters' native memory to be released, as it does in any real server.
async function cycles(count: number, dispose: boolean): Promise<void> {
  for (let c = 0; c < count; c += 1) {
    const i = createInterpreter(model, { threads: 1 });
    i.setInput(0, input);
    i.invoke();
    i.getOutput(0, output);
    if (dispose) i.dispose();
    if (c % 500 === 499) await new Promise(setImmediate);
  }
}

async function growth(count: number, dispose: boolean): Promise<number> {
  await cycles(count / 5, dispose); // warm-up: allocator arenas, JIT, V8 heap sizing
  const before = process.memoryUsage().rss;
  await cycles(count, dispose);
  return process.memoryUsage().rss - before;
}

describe('memory', () => {
  it('10,000 create/invoke/dispose cycles keep RSS growth bounded', async () => {
    const grown = await growth(10_000, true);
    expect(output[N - 1]).toBe(N + 1);
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });

  it('interpreters that are never disposed are freed by their finalizer', async () => {
    const grown = await growth(10_000, false);
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });
});
