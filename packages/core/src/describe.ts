/**
 * Short, safe descriptions of arbitrary values for error messages of the form
 * "Expected X for Y but received Z".
 */

/** Describes a value in a few words without dumping large buffers or deep objects. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** Builds the house-style message "Expected X for Y but received Z". */
export function expected(what: string, forWhat: string, received: unknown): string {
  return `Expected ${what} for ${forWhat} but received ${describeValue(received)}`;
}
