import { describe, expect, it } from 'vitest';
import { defaultModelPath } from './model-file.js';
import { cli, useTempCache } from './test-util.js';

const _cacheDir = useTempCache('profile');

describe('swapless profile', () => {
  it('measures the requested cuts and threads, then loads the cache', async () => {
    const args = [
      'profile',
      'squeezenet',
      '--cuts',
      '0,10,20',
      '--threads',
      '1',
      '--repetitions',
      '3',
      '--warmup',
      '1',
    ];
    const first = await cli(...args, '--json');
    expect(first.status).toBe(0);
    const p = JSON.parse(first.out);
    expect(p.cuts.map((c: { k: number }) => c.k)).toEqual([0, 10, 20]);
    expect(p.cuts[1].suffix.measurements[0].samples).toHaveLength(3);
    expect(p.cuts[0].prefix).toBeNull();
    const again = await cli(...args);
    expect(again.status).toBe(0);
    expect(again.out).toMatch(/from cache/);
  });

  it('profiles cut 0 alone on a float model (no Edge TPU part: CPU-only), and refuses bad flags', async () => {
    const float = await cli('profile', defaultModelPath(), '--threads', '1', '--repetitions', '2', '--json');
    expect(float.status).toBe(0);
    expect(JSON.parse(float.out).cuts.map((c: { k: number }) => c.k)).toEqual([0]);
    expect((await cli('profile', 'squeezenet', '--threads', '0')).status).toBe(2);
    expect((await cli('profile', 'squeezenet', '--cuts', '1,x')).status).toBe(2);
    const out = await cli('profile', 'squeezenet', '--cuts', '999', '--threads', '1', '--json');
    expect(out.status).toBe(2);
    expect(JSON.parse(out.out).error.code).toBe('SWAPLESS_INVALID_CUT');
  });
});
