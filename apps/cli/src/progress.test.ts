import { describe, expect, it } from 'vitest';
import { progressBar, renderProgress } from './progress.js';

describe('progress bar', () => {
  it('renders a proportional bar with the count and label', () => {
    expect(renderProgress({ phase: 'generate', done: 6, total: 12, label: 'vgg16' })).toBe(
      'generate [############............] 6/12 vgg16',
    );
    expect(renderProgress({ phase: 'p', done: 0, total: 0 })).toBe('p [........................] 0/0');
  });

  it('redraws in place on a terminal and ends the line when done', () => {
    let out = '';
    const bar = progressBar({ write: (t) => (out += t), isTTY: true });
    bar({ phase: 'x', done: 1, total: 2 });
    bar({ phase: 'x', done: 2, total: 2 });
    bar.done();
    expect(out.split('\r').length).toBe(3);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n').length).toBe(2);
  });

  it('prints whole lines, throttled, when not a terminal, and always the last one', () => {
    let out = '';
    const bar = progressBar({ write: (t) => (out += t), isTTY: false });
    for (let i = 1; i <= 50; i++) bar({ phase: 'x', done: i, total: 50 });
    bar.done();
    const lines = out.trim().split('\n');
    expect(lines.length).toBeLessThan(5);
    expect(lines.at(-1)).toMatch(/50\/50$/);
    expect(out).not.toContain('\r');
  });
});
