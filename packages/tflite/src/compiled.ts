/**
 * What is inside a model compiled by `edgetpu_compiler`: its `edgetpu-custom-op`s (tensors, payload size), the CPU
 * ops left outside them, and what can be read cheaply from each op's payload.
 *
 * Payload layout, from the public sources of libedgetpu (google-coral/libedgetpu, `tflite/custom_op_data.cc` and
 * `executable/executable.fbs`; no code taken from them): the custom options are a FlexBuffer map whose key "1"
 * is a version, "4" the serialized executable package, "5" an execution preference and "6" the chip of each
 * executable. The package is a flatbuffer with file identifier "DWN1" (table `Package`: min_runtime_version,
 * serialized_multi_executable, …, compiler_version, …, model_identifier) whose multi-executable holds one or
 * more `Executable` flatbuffers; each has a type (STAND_ALONE, PARAMETER_CACHING — only loads parameters into
 * the Edge TPU's memory — or EXECUTION_ONLY — assumes they are cached), a parameter stream, the chip, input and
 * output layer names, a caching token and an estimated cycle count.
 *
 * The payload is untrusted bytes like the rest of the file: every read is bounds-checked, and anything that does
 * not decode is reported as `payloadError`, never thrown.
 */
import { opTypeName } from './analysis.js';
import { FlatBufferReader, type Table } from './flatbuffer-read.js';
import type { TfliteModel } from './model.js';
import { BuiltinOperator } from './ops.js';
import { EDGETPU_CUSTOM_OP } from './runnability.js';

/** One executable of an Edge TPU package. */
export interface EdgeTpuExecutable {
  /** `STAND_ALONE`, `PARAMETER_CACHING`, `EXECUTION_ONLY`, or `type N` for values this code does not know. */
  type: string;
  /** Chip the executable was compiled for (e.g. `beta`), when recorded. */
  chip?: string;
  /** Bytes of the executable's parameter stream. */
  parameterBytes: number;
  /** Bytes of its encoded instructions. */
  instructionBytes: number;
  /** Parameter-caching token as 16 hex digits: executables with one token share the on-chip cache. */
  cachingToken?: string;
  /** The compiler's cycle estimate for one run, when recorded. */
  estimatedCycles?: number;
  /** Names of the input and output layers (the TFLite tensor names at the op's boundary). */
  inputLayers: string[];
  outputLayers: string[];
}

/** What the payload (custom options) of one `edgetpu-custom-op` says. */
export interface EdgeTpuPayload {
  /** Key "1" of the custom options map. */
  version?: number;
  /** Bytes of the serialized executable package (key "4"). */
  packageBytes: number;
  /** `Package.compiler_version`, e.g. the edgetpu_compiler build. */
  compilerVersion?: string;
  /** `Package.min_runtime_version`: the oldest Edge TPU runtime that can run it. */
  minRuntimeVersion?: number;
  executables: EdgeTpuExecutable[];
}

/** One `edgetpu-custom-op` of subgraph 0. */
export interface EdgeTpuOpSummary {
  /** Operator index in subgraph 0. */
  index: number;
  /** Tensor indices of its inputs and outputs. */
  inputs: number[];
  outputs: number[];
  /** Bytes of the op's custom options: the compiled payload. */
  payloadBytes: number;
  /** The decoded payload; absent when it does not decode (see `payloadError`). */
  payload?: EdgeTpuPayload;
  /** Why the payload could not be decoded; absent when it could. */
  payloadError?: string;
}

/** What {@link compiledModelSummary} reports about a compiled model. */
export interface CompiledModelSummary {
  /** The `edgetpu-custom-op`s of subgraph 0, in op order. */
  edgetpuOps: EdgeTpuOpSummary[];
  /** Bytes of all compiled payloads. */
  payloadBytes: number;
  /** The ops outside the compiled ones (they run on the CPU), in op order. */
  cpuOps: { index: number; type: string }[];
  /**
   * Bytes of parameters in PARAMETER_CACHING executables (what is loaded once into the Edge TPU's memory) and in
   * the other executables (sent with every run). Absent when no payload decoded.
   */
  parameterBytes?: { cached: number; other: number };
}

const EXECUTABLE_TYPES = ['STAND_ALONE', 'PARAMETER_CACHING', 'EXECUTION_ONLY'] as const;

/** Thrown inside this module only; turned into `payloadError`. */
class PayloadError extends Error {}

/** A minimal bounds-checked FlexBuffer reader: enough to look up keys of a root map. */
class FlexMap {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(pos: number, size: number): void {
    if (!(pos >= 0 && size >= 0 && pos + size <= this.bytes.length)) {
      throw new PayloadError(`FlexBuffer read of ${size} bytes at ${pos} outside ${this.bytes.length} bytes`);
    }
  }

  private uint(pos: number, width: number): number {
    this.need(pos, width);
    switch (width) {
      case 1:
        return this.view.getUint8(pos);
      case 2:
        return this.view.getUint16(pos, true);
      case 4:
        return this.view.getUint32(pos, true);
      default: {
        const v = this.view.getBigUint64(pos, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PayloadError('FlexBuffer value above 2^53');
        return Number(v);
      }
    }
  }

  private int(pos: number, width: number): number {
    const u = this.uint(pos, width);
    const bits = width * 8;
    return width < 8 && u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
  }

  /** Follows a FlexBuffer offset (stored unsigned at `pos`, pointing backwards). */
  private target(pos: number, width: number): number {
    const t = pos - this.uint(pos, width);
    this.need(t, 0);
    return t;
  }

  /** The root value: its position, its parent width and its packed type. */
  private root(): { pos: number; width: number; type: number; childWidth: number } {
    const n = this.bytes.length;
    if (n < 3) throw new PayloadError('custom options too short for a FlexBuffer');
    const width = this.uint(n - 1, 1);
    if (![1, 2, 4, 8].includes(width)) throw new PayloadError(`FlexBuffer root width ${width}`);
    const packed = this.uint(n - 2, 1);
    return { pos: n - 2 - width, width, type: packed >> 2, childWidth: 1 << (packed & 3) };
  }

  /** Reads the root map into key → (value position, parent width, type, child width). */
  entries(): Map<string, { pos: number; width: number; type: number; childWidth: number }> {
    const root = this.root();
    if (root.type !== 9)
      throw new PayloadError(`expected a FlexBuffer map at the root, found type ${root.type}`);
    const at = this.target(root.pos, root.width);
    const w = root.childWidth;
    const size = this.uint(at - w, w);
    const keysAt = this.target(at - 3 * w, w);
    const keyWidth = this.uint(at - 2 * w, w);
    if (![1, 2, 4, 8].includes(keyWidth)) throw new PayloadError(`FlexBuffer key width ${keyWidth}`);
    this.need(at, size * w + size);
    const out = new Map<string, { pos: number; width: number; type: number; childWidth: number }>();
    for (let i = 0; i < size; i++) {
      const keyPos = this.target(keysAt + i * keyWidth, keyWidth);
      let end = keyPos;
      while (end < this.bytes.length && this.bytes[end] !== 0 && end - keyPos < 64) end++;
      const key = String.fromCharCode(...this.bytes.subarray(keyPos, end));
      const packed = this.uint(at + size * w + i, 1);
      out.set(key, { pos: at + i * w, width: w, type: packed >> 2, childWidth: 1 << (packed & 3) });
    }
    return out;
  }

  /** An INT / UINT value (inline or indirect). */
  intAt(e: { pos: number; width: number; type: number; childWidth: number }): number | undefined {
    if (e.type === 1) return this.int(e.pos, e.width);
    if (e.type === 2) return this.uint(e.pos, e.width);
    if (e.type === 6) return this.int(this.target(e.pos, e.width), e.childWidth);
    if (e.type === 7) return this.uint(this.target(e.pos, e.width), e.childWidth);
    return undefined;
  }

  /** The bytes of a STRING or BLOB value. */
  bytesAt(e: { pos: number; width: number; type: number; childWidth: number }): Uint8Array | undefined {
    if (e.type !== 5 && e.type !== 25) return undefined;
    const at = this.target(e.pos, e.width);
    const size = this.uint(at - e.childWidth, e.childWidth);
    this.need(at, size);
    return this.bytes.subarray(at, at + size);
  }
}

/** A verified flatbuffer root table with the raw bytes it was read from (for the few reads Table lacks). */
interface Root {
  r: FlatBufferReader;
  t: Table;
  view: DataView;
}

function flatbuffer(bytes: Uint8Array, identifier?: string): Root {
  const r = new FlatBufferReader(bytes, {
    maxTables: 100_000,
    maxElements: bytes.length + 100_000,
    maxDepth: 8,
  });
  if (identifier !== undefined) {
    const found = bytes.length >= 8 ? String.fromCharCode(...bytes.subarray(4, 8)) : '';
    if (found !== identifier)
      throw new PayloadError(`expected the identifier "${identifier}", found "${found}"`);
  }
  r.need(0, 4, 'root offset');
  const t = r.table(r.deref(0, 'root offset'), identifier ?? 'executable', 0);
  return { r, t, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

function executable(bytes: Uint8Array): EdgeTpuExecutable {
  const { t, view } = flatbuffer(bytes);
  // `type` is a short and `parameter_caching_token` a ulong: Table has no getters for them, but `field` has
  // verified their placement, so read them directly.
  const typeAt = t.field(13, 2, 'type');
  const typeId = typeAt === 0 ? 0 : view.getInt16(typeAt, true);
  const layers = (id: number, name: string) =>
    (t.tables(id, name) ?? []).map((l) => l.string(0, 'name') ?? '').filter((n) => n !== '');
  let instructionBytes = 0;
  for (const ib of t.tables(5, 'instruction_bitstreams') ?? []) {
    instructionBytes += ib.bytes(0, 'bitstream')?.length ?? 0;
  }
  const out: EdgeTpuExecutable = {
    type: EXECUTABLE_TYPES[typeId] ?? `type ${typeId}`,
    parameterBytes: t.bytes(6, 'parameters')?.length ?? 0,
    instructionBytes,
    inputLayers: layers(8, 'input_layers'),
    outputLayers: layers(9, 'output_layers'),
  };
  const chip = t.string(10, 'chip');
  if (chip !== undefined) out.chip = chip;
  const tokenAt = t.field(14, 8, 'parameter_caching_token');
  if (tokenAt !== 0) out.cachingToken = view.getBigUint64(tokenAt, true).toString(16).padStart(16, '0');
  const cycles = t.int64(16, 'estimated_cycles_64bit', 0) || t.int32(11, 'estimated_cycles', 0);
  if (cycles !== undefined && cycles > 0) out.estimatedCycles = cycles;
  return out;
}

/** The byte strings of a `[string]` field (executables are binary, so not decoded as UTF-8). */
function byteStrings(root: Root, bytes: Uint8Array, id: number, name: string): Uint8Array[] {
  const { r, t } = root;
  const at = t.target(id, name);
  if (at === 0) return [];
  const n = r.vectorLength(at, 4, name);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = r.deref(at + 4 + 4 * i, `${name}[${i}]`);
    const len = r.vectorLength(s, 1, `${name}[${i}]`);
    out.push(bytes.subarray(s + 4, s + 4 + len));
  }
  return out;
}

/** Decodes the payload of one `edgetpu-custom-op`. */
function decodePayload(custom: Uint8Array): EdgeTpuPayload {
  const map = new FlexMap(custom);
  const entries = map.entries();
  const exe = entries.get('4');
  const pkg = exe === undefined ? undefined : map.bytesAt(exe);
  if (pkg === undefined) throw new PayloadError('no serialized executable (key "4") in the custom options');
  const out: EdgeTpuPayload = { packageBytes: pkg.length, executables: [] };
  const version = entries.get('1');
  const v = version === undefined ? undefined : map.intAt(version);
  if (v !== undefined) out.version = v;
  // Copies: each nested flatbuffer is aligned relative to its own start, not to the file.
  const { t: p } = flatbuffer(pkg.slice(), 'DWN1');
  const minRuntime = p.int32(0, 'min_runtime_version', 0);
  if (minRuntime !== 0) out.minRuntimeVersion = minRuntime;
  const compiler = p.string(4, 'compiler_version');
  if (compiler !== undefined) out.compilerVersion = compiler;
  const multi = p.bytes(1, 'serialized_multi_executable');
  if (multi !== undefined && multi.length > 0) {
    const bytes = multi.slice();
    for (const e of byteStrings(flatbuffer(bytes), bytes, 0, 'serialized_executables')) {
      out.executables.push(executable(e.slice()));
    }
  }
  return out;
}

/**
 * For a model compiled by `edgetpu_compiler` (one or more `edgetpu-custom-op`s in subgraph 0): the compiled ops
 * with their tensors and decoded payloads, and the ops left to the CPU. Undefined for a model without any.
 */
export function compiledModelSummary(model: TfliteModel): CompiledModelSummary | undefined {
  const graph = model.subgraphs[0];
  if (graph === undefined) return undefined;
  const edgetpuOps: EdgeTpuOpSummary[] = [];
  const cpuOps: CompiledModelSummary['cpuOps'] = [];
  let cached = 0;
  let other = 0;
  let decoded = false;
  graph.operators.forEach((op, index) => {
    const code = model.operatorCodes[op.opcodeIndex];
    const isCustom = code?.builtinCode === BuiltinOperator.CUSTOM;
    if (!isCustom || code.customCode !== EDGETPU_CUSTOM_OP) {
      cpuOps.push({ index, type: opTypeName(model, op) });
      return;
    }
    const custom = op.customOptions ?? new Uint8Array(0);
    const summary: EdgeTpuOpSummary = {
      index,
      inputs: [...op.inputs],
      outputs: [...op.outputs],
      payloadBytes: custom.length,
    };
    try {
      summary.payload = decodePayload(custom);
      decoded = true;
      for (const e of summary.payload.executables) {
        if (e.type === 'PARAMETER_CACHING') cached += e.parameterBytes;
        else other += e.parameterBytes;
      }
    } catch (err) {
      summary.payloadError = err instanceof Error ? err.message : String(err);
    }
    edgetpuOps.push(summary);
  });
  if (edgetpuOps.length === 0) return undefined;
  const result: CompiledModelSummary = {
    edgetpuOps,
    payloadBytes: edgetpuOps.reduce((sum, o) => sum + o.payloadBytes, 0),
    cpuOps,
  };
  if (decoded) result.parameterBytes = { cached, other };
  return result;
}
