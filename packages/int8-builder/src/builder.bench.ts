// Build-speed benchmark of the int8 GraphBuilder (timing claims live here, not in tests).
// Run: npx vitest bench --run src/builder.bench.ts (in packages/int8-builder).

import { writeModel } from '@swapless/tflite';
import { bench, describe } from 'vitest';
import { GraphBuilder } from './builder.js';

/** ~300 ops and ~25 M int8 weights: a ResNet-like stack of 3×3 convolutions at 56×56. */
function bigModel(): GraphBuilder {
  const b = new GraphBuilder({ seed: 1, name: 'bench' });
  let x = b.input('input', [1, 224, 224, 3]);
  x = b.conv2d(x, { filters: 120, kernel: 7, stride: 4, activation: 'relu' });
  for (let i = 0; i < 98; i++) {
    const y = b.conv2d(x, { filters: 120, kernel: 3, activation: 'relu' });
    const z = b.conv2d(y, { filters: 120, kernel: 3 });
    x = b.add(x, z, { activation: 'relu' });
  }
  x = b.fullyConnected(b.mean(x), { units: 1000 });
  b.output(b.softmax(x));
  return b;
}

describe('GraphBuilder', () => {
  bench('build 300 ops / 25 M weights', () => {
    bigModel().build();
  });
  bench('build + writeModel 300 ops / 25 M weights', () => {
    writeModel(bigModel().build());
  });
});
