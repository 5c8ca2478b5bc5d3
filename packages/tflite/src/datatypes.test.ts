import { DATATYPES } from '@swapless/contracts';
import { describe, expect, it } from 'vitest';
import { INFERENCE_DATATYPES, inferenceDatatype, TensorType } from './model.js';

describe('the inference datatypes of TFLite tensor types', () => {
  it('cover every numeric datatype of the protocol, each from a tensor type the schema has', () => {
    expect(Object.values(INFERENCE_DATATYPES).sort()).toEqual(DATATYPES.filter((d) => d !== 'BYTES').sort());
    for (const name of Object.keys(INFERENCE_DATATYPES)) expect(TensorType).toHaveProperty(name);
  });

  it('map FLOATnn to FPnn, keep the other names, and have none for what is not a plain number', () => {
    expect(inferenceDatatype('FLOAT16')).toBe('FP16');
    expect(inferenceDatatype('FLOAT32')).toBe('FP32');
    expect(inferenceDatatype('FLOAT64')).toBe('FP64');
    expect(inferenceDatatype('INT8')).toBe('INT8');
    expect(inferenceDatatype('BOOL')).toBe('BOOL');
    expect(INFERENCE_DATATYPES.UINT64).toBe('UINT64');
    for (const none of ['STRING', 'COMPLEX64', 'INT4', 'RESOURCE', 'BYTES', 'toString', '__proto__']) {
      expect(inferenceDatatype(none), none).toBeUndefined();
    }
  });
});
