/**
 * Parsers for what the Edge TPU Compiler prints: the console report (one block per input model, a co-compiled
 * set prints one block per model) and the operation table, which `-s` prints to the console and every run
 * writes to `<model>_edgetpu.log`. Format and samples: docs/compiler.md.
 */
import { parseSize } from './units.js';

/** One row of the operation table: how many ops of one type got one status. */
export interface OperationRow {
  /** Operator name as printed (builtin name such as "CONV_2D", or "CUSTOM"). */
  operator: string;
  count: number;
  /** Status as printed, e.g. "Mapped to Edge TPU" or "Operation is working on an unsupported data type". */
  status: string;
  /** True when the status says the ops run on the Edge TPU. */
  mapped: boolean;
}

/** The figures printed for one input model. Sizes are bytes; absent lines stay undefined. */
export interface ParsedModelBlock {
  /** Path printed after "Input model:". */
  inputModel: string;
  inputSizeBytes?: number;
  outputModel?: string;
  outputSizeBytes?: number;
  /** "On-chip memory used for caching model parameters". */
  onChipUsedBytes?: number;
  /** "On-chip memory remaining for caching model parameters". */
  onChipRemainingBytes?: number;
  /** "On-chip memory available for caching model parameters" (printed instead of "remaining" by 2.0). */
  onChipAvailableBytes?: number;
  /** "Off-chip memory used for streaming uncached model parameters". */
  offChipBytes?: number;
  /** "Number of Edge TPU subgraphs". */
  edgetpuSubgraphs?: number;
  /** "Total number of operations". */
  totalOperations?: number;
  /** "Operation log:" path. */
  operationLog?: string;
  /** The model compiled but some ops will run on the CPU ("…not all operations are supported…"). */
  partial: boolean;
  /** "Number of operations that will run on Edge TPU" (printed only for a partial mapping). */
  edgetpuOperations?: number;
  /** "Number of operations that will run on CPU" (printed only for a partial mapping). */
  cpuOperations?: number;
  /** The operation table printed under the block (with `-s`), in printed order. */
  operations: OperationRow[];
}

/** Everything recognised in one run's console output. */
export interface ParsedCompilerOutput {
  /** From "Edge TPU Compiler version X". */
  version?: string;
  /** From "Model(s) compiled successfully in N ms.". */
  compileTimeMs?: number;
  /** A success line was printed and no failure line after it. */
  succeeded: boolean;
  /** Lines that report a failure ("Compilation failed…", "Internal compiler error…", "ERROR: …", …). */
  failures: string[];
  /** One block per input model, in printed order (the order the models were passed). */
  models: ParsedModelBlock[];
}

/** The operation log file (`<model>_edgetpu.log`). */
export interface ParsedOperationLog {
  version?: string;
  /** "Input:" path. */
  input?: string;
  /** "Output:" path. */
  output?: string;
  operations: OperationRow[];
}

const TABLE_HEADER = /^Operator\s+Count\s+Status$/;
const TABLE_ROW = /^([A-Za-z][A-Za-z0-9_-]*)\s+(\d+)\s+(\S.*)$/;
const MAPPED_STATUS = /^Mapped to (the )?Edge TPU/i;
const FAILURE_LINE =
  /^(Compilation failed|Internal compiler error|Compilation timeout|Model not mapped|ERROR\b|Error\b|F\d{4} |.*terminating with uncaught exception)/i;
const SUCCESS_LINE = /^(Models? compiled successfully in (\d+) ms\.?|Compilation succeeded!?)/;

/** Fields of a model block keyed by the printed label (without the colon). */
const SIZE_FIELDS: Readonly<Record<string, keyof ParsedModelBlock>> = {
  'Input size': 'inputSizeBytes',
  'Output size': 'outputSizeBytes',
  'On-chip memory used for caching model parameters': 'onChipUsedBytes',
  'On-chip memory remaining for caching model parameters': 'onChipRemainingBytes',
  'On-chip memory available for caching model parameters': 'onChipAvailableBytes',
  'Off-chip memory used for streaming uncached model parameters': 'offChipBytes',
};
const COUNT_FIELDS: Readonly<Record<string, keyof ParsedModelBlock>> = {
  'Number of Edge TPU subgraphs': 'edgetpuSubgraphs',
  'Total number of operations': 'totalOperations',
  'Number of operations that will run on Edge TPU': 'edgetpuOperations',
  'Number of operations that will run on CPU': 'cpuOperations',
};

function tableRow(line: string): OperationRow | undefined {
  const m = TABLE_ROW.exec(line);
  if (m === null) return undefined;
  const status = m[3]!.trim();
  return { operator: m[1]!, count: Number(m[2]), status, mapped: MAPPED_STATUS.test(status) };
}

/**
 * Parses the console output of one `edgetpu_compiler` run (stdout and stderr may be passed concatenated).
 * Unknown lines are ignored, so newer compilers that add lines still parse; sizes in any unit the compiler
 * prints (B, KiB, MiB, GiB) become bytes.
 */
export function parseCompilerOutput(text: string): ParsedCompilerOutput {
  const result: ParsedCompilerOutput = { succeeded: false, failures: [], models: [] };
  let current: ParsedModelBlock | undefined;
  let inTable = false;
  let lastSuccess = -1;
  let lastFailure = -1;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    if (inTable) {
      const row = tableRow(line);
      if (row !== undefined && current !== undefined) {
        current.operations.push(row);
        return;
      }
      inTable = false;
    }
    if (TABLE_HEADER.test(line)) {
      inTable = true;
      return;
    }
    const version = /^Edge TPU Compiler version (\S+)/.exec(line);
    if (version !== null) {
      result.version = version[1]!;
      return;
    }
    const success = SUCCESS_LINE.exec(line);
    if (success !== null) {
      lastSuccess = index;
      if (success[2] !== undefined) result.compileTimeMs = Number(success[2]);
      return;
    }
    if (FAILURE_LINE.test(line)) {
      result.failures.push(line);
      lastFailure = index;
      return;
    }
    if (/^Model successfully compiled but not all operations are supported/.test(line)) {
      if (current !== undefined) current.partial = true;
      return;
    }
    const colon = line.indexOf(':');
    if (colon < 0) return;
    const label = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (label === 'Input model') {
      current = { inputModel: value, partial: false, operations: [] };
      result.models.push(current);
      return;
    }
    if (current === undefined) return;
    if (label === 'Output model') current.outputModel = value;
    else if (label === 'Operation log') current.operationLog = value;
    else if (SIZE_FIELDS[label] !== undefined) {
      (current as unknown as Record<string, number>)[SIZE_FIELDS[label]] = parseSize(value);
    } else if (COUNT_FIELDS[label] !== undefined && /^\d+$/.test(value)) {
      (current as unknown as Record<string, number>)[COUNT_FIELDS[label]] = Number(value);
    }
  });
  result.succeeded = lastSuccess >= 0 && lastFailure < lastSuccess;
  for (const m of result.models) {
    if ((m.cpuOperations ?? 0) > 0) m.partial = true;
  }
  return result;
}

/** Parses an operation log file (`<model>_edgetpu.log`): version, input/output paths and the table. */
export function parseOperationLog(text: string): ParsedOperationLog {
  const result: ParsedOperationLog = { operations: [] };
  let inTable = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (TABLE_HEADER.test(line)) {
      inTable = true;
      continue;
    }
    if (inTable) {
      const row = tableRow(line);
      if (row !== undefined) {
        result.operations.push(row);
        continue;
      }
      inTable = false;
    }
    const version = /^Edge TPU Compiler version (\S+)/.exec(line);
    if (version !== null) result.version = version[1]!;
    else if (line.startsWith('Input:')) result.input = line.slice(6).trim();
    else if (line.startsWith('Output:')) result.output = line.slice(7).trim();
  }
  return result;
}

/** Ops on the Edge TPU and on the CPU for a block: the printed counts, else the table, else all mapped. */
export function operationCounts(
  block: ParsedModelBlock,
  table: readonly OperationRow[] = block.operations,
): { edgetpu: number; cpu: number; total: number } {
  const fromTable = table.length > 0;
  const tableMapped = table.reduce((s, r) => s + (r.mapped ? r.count : 0), 0);
  const tableTotal = table.reduce((s, r) => s + r.count, 0);
  const total = block.totalOperations ?? (fromTable ? tableTotal : 0);
  if (block.edgetpuOperations !== undefined || block.cpuOperations !== undefined) {
    const edgetpu = block.edgetpuOperations ?? total - (block.cpuOperations ?? 0);
    return { edgetpu, cpu: block.cpuOperations ?? total - edgetpu, total };
  }
  if (fromTable) return { edgetpu: tableMapped, cpu: tableTotal - tableMapped, total };
  // Without -s and without a partial-mapping notice the compiler mapped everything.
  const mappedAll = (block.edgetpuSubgraphs ?? 1) > 0 && !block.partial;
  return { edgetpu: mappedAll ? total : 0, cpu: mappedAll ? 0 : total, total };
}
