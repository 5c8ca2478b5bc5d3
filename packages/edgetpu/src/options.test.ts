import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { createInterpreter, type InterpreterOptions, listEdgeTpus } from './index.js';
import { tinyAddModel } from './test-support.js';

const model = tinyAddModel(4);

describe('option validation', () => {
  const bad: [string, unknown][] = [
    ['options', 'fast'],
    ['the option names', { thread: 2 }],
    ['options.threads', { threads: 0 }],
    ['options.threads', { threads: 1.5 }],
    ['options.threads', { threads: 257 }],
    ['options.threads', { threads: '2' }],
    ['options.delegate', { delegate: 'gpu' }],
    ['options.xnnpack', { xnnpack: 'yes' }],
    ['options.uint8', { uint8: 'uint8' }],
    ['options.verify', { verify: 'no' }],
    ['options.edgetpu', { edgetpu: 'usb' }],
    ['the options.edgetpu names', { edgetpu: { path: 'x' } }],
    ['options.edgetpu.library', { edgetpu: { library: '' } }],
    ['options.edgetpu.device', { edgetpu: { device: 0 } }],
    ['options.edgetpu.options', { edgetpu: { options: ['device'] } }],
    ['options.edgetpu.options.verbosity', { edgetpu: { options: { verbosity: 10 } } }],
    ['options.edgetpu.options.device', { edgetpu: { device: 'usb:0', options: { device: 'pci:0' } } }],
  ];
  it.each(bad)('rejects a bad value for %s', (forWhat, options) => {
    let caught: unknown;
    try {
      createInterpreter(model, options as InterpreterOptions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect(caught).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    expect((caught as Error).message).toMatch(
      new RegExp(`^Expected .+ for ${forWhat.replace(/\./g, '\\.')} but received `),
    );
  });

  it('rejects a model that is neither bytes nor a path', () => {
    expect(() => createInterpreter(42 as unknown as string)).toThrow(
      /^Expected a Uint8Array, a file path or a prepared model for the model but received 42$/,
    );
  });

  it('rejects a bad listEdgeTpus library', () => {
    expect(() => listEdgeTpus({ library: '' })).toThrow(InvalidArgumentError);
  });

  it('defaults to 1 thread, XNNPACK on, CPU only, verified, uint8 compute as int8', () => {
    const i = createInterpreter(model);
    expect(i.backend).toEqual({
      requested: 'cpu',
      threads: 1,
      delegates: ['xnnpack'],
      edgetpu: false,
      xnnpack: true,
      kernels: 'xnnpack',
      uint8: 'int8',
      verified: true,
    });
    i.dispose();
  });
});
