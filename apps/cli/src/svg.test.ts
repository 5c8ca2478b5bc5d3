import { describe, expect, it } from 'vitest';
import { cdfPoints, lineChart, niceTicks } from './svg.js';

describe('svg charts', () => {
  it('picks nice ticks', () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.3, 0.9)).toEqual([0.4, 0.6, 0.8]);
    expect(niceTicks(0, 1e-9)).toEqual([0, 2e-10, 4e-10, 6e-10, 8e-10, 1e-9]);
  });

  it('draws one path per series, the marks, and escapes text', () => {
    const svg = lineChart(
      [
        {
          name: 'a<b',
          points: [
            [0, 1],
            [1, 2],
            [2, Number.NaN],
            [3, 4],
          ],
        },
        {
          name: 'c',
          points: [
            [0, 3],
            [3, 1],
          ],
        },
      ],
      { title: 'T & U', xLabel: 'x', yLabel: 'y', marks: [1.5] },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('T &amp; U');
    expect(svg.match(/<path /g)).toHaveLength(2);
    // The NaN breaks the first line into two segments: two M commands.
    expect(svg.match(/d="M[^"]*"/)![0].match(/M/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="3,3"');
  });

  it('builds an empirical CDF ending at 1', () => {
    const pts = cdfPoints([3, 1, 2, 4]);
    expect(pts).toEqual([
      [1, 0.25],
      [2, 0.5],
      [3, 0.75],
      [4, 1],
    ]);
    expect(
      cdfPoints(
        Array.from({ length: 10_000 }, (_, i) => i),
        100,
      ).length,
    ).toBeLessThanOrEqual(101);
  });
});
