import { describe, expect, it } from 'vitest';
import { API_VERSION, DATATYPES, MODEL_NAME_PATTERN, PLUGIN_MANIFEST_JSON_SCHEMA } from './index.js';

describe('the name pattern', () => {
  it('accepts 1–64 letters, digits, dots, underscores and dashes that start with a letter or digit', () => {
    for (const ok of ['a', 'cam', 'mobilenet_v1', 'face.v2-int8', '0', 'x'.repeat(64)]) {
      expect(MODEL_NAME_PATTERN.test(ok), ok).toBe(true);
    }
  });

  it('refuses what could escape a URL segment, a file name or a metric label', () => {
    for (const bad of ['', '.hidden', '-x', '_x', 'a/b', '../a', 'a b', 'a\n', 'é', 'x'.repeat(65), 'a%2F']) {
      expect(MODEL_NAME_PATTERN.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the datatypes', () => {
  it('are the 13 of the Open Inference Protocol, once each, BYTES last', () => {
    expect(new Set(DATATYPES).size).toBe(13);
    expect(DATATYPES.at(-1)).toBe('BYTES');
    expect(DATATYPES).toContain('FP16');
  });
});

describe('the plugin API', () => {
  it('has a semver version, and a manifest schema that requires what the registry reads', () => {
    expect(API_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(PLUGIN_MANIFEST_JSON_SCHEMA.required).toEqual(['name', 'version', 'kind', 'apiVersion', 'entry']);
  });
});
