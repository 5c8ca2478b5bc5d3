/**
 * Durable tenant state: the tenants registered through the management API, kept in `<stateDir>/tenants.json` so that
 * a restart — after a clean stop, `kill -9` or a power loss — serves them again with the settings they were
 * registered with.
 *
 * - Every change rewrites the whole file atomically and durably (`writeFileAtomic(…, { durable: true })`: a
 *   temporary file in the same directory, fsync, rename, fsync of the directory), one change at a time, so
 *   concurrent registrations never lose each other's writes; the in-memory view moves only once the file is on
 *   the disk.
 * - Read at startup and validated with ajv against {@link TENANT_STATE_SCHEMA} (versioned). A file that is not a
 *   regular file, is too large, does not parse (truncated, torn by hand), has another version or the wrong shape is
 *   moved aside as `tenants.json.corrupt-<time>` with a warning, and the server starts without it: the state never
 *   stops a start.
 * - `server.lock` names the process using the directory. A second server started on the same directory while the
 *   first runs neither restores nor saves anything there: its registrations fail (500) instead of overwriting the
 *   first server's state.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { TENANT_SPEC_SCHEMA, type TenantSpec } from '@swapless/adapter-management';
import { formatAjvErrors, SwapLessIoError, writeFileAtomic } from '@swapless/core';
import { Ajv } from 'ajv';
import type { Logger } from 'pino';

/** The state file's name in the state directory. */
export const TENANT_STATE_FILE = 'tenants.json';
/** The lock file's name in the state directory (the pid of the server using it). */
export const STATE_LOCK_FILE = 'server.lock';
/** The version of the state file this server writes and reads. */
export const TENANT_STATE_VERSION = 1;
/** Largest state file read, bytes (4096 registrations take well under 2 MiB). */
export const TENANT_STATE_MAX_BYTES = 8 * 1024 * 1024;

/** One saved registration: the request as the management API validated it, and when it was made. */
export type SavedTenant = TenantSpec & {
  /** ISO 8601 time of the registration. */
  registeredAt: string;
};

/** The content of `tenants.json`. */
export interface TenantStateDocument {
  version: typeof TENANT_STATE_VERSION;
  /** In registration order. */
  tenants: SavedTenant[];
}

/**
 * JSON Schema (draft-07) of `tenants.json`, version 1. A tenant has exactly the fields of a registration request
 * (the management API's `TENANT_SPEC_SCHEMA`, same rules) plus `registeredAt`.
 */
export const TENANT_STATE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/tenant-state-v1.json',
  title: 'SwapLess server tenant state, version 1',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'tenants'],
  properties: {
    version: { const: TENANT_STATE_VERSION },
    tenants: {
      type: 'array',
      maxItems: 4096,
      items: {
        type: 'object',
        additionalProperties: false,
        required: [...TENANT_SPEC_SCHEMA.required, 'registeredAt'],
        properties: {
          ...TENANT_SPEC_SCHEMA.properties,
          registeredAt: { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT', maxLength: 64 },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: true }).compile(TENANT_STATE_SCHEMA);

/** `tenants.json.<pid>.<8 hex>.tmp`: what `writeFileAtomic` leaves behind when the process dies mid-write. */
const TEMPORARY = new RegExp(`^${TENANT_STATE_FILE.replace('.', '\\.')}\\.\\d+\\.[0-9a-f]{8}\\.tmp$`);

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown; details?: { errno?: unknown } } | null)?.details?.errno;
  if (typeof code === 'string') return code;
  const own = (error as { code?: unknown } | null)?.code;
  return typeof own === 'string' ? own : 'unknown error';
}

/** Why a state file cannot be used, or the registrations in it. */
function parseState(bytes: Uint8Array): { tenants: SavedTenant[] } | { problem: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { problem: 'it is not UTF-8 text' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return { problem: `it does not parse as JSON (${(error as Error).message})` };
  }
  const version = (doc as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== TENANT_STATE_VERSION) {
    return {
      problem: `it has state version ${version}, and this server reads version ${TENANT_STATE_VERSION}`,
    };
  }
  if (!validate(doc)) {
    return { problem: `it does not match the state schema: ${formatAjvErrors(validate.errors).join('; ')}` };
  }
  const tenants = (doc as TenantStateDocument).tenants;
  const seen = new Set<string>();
  for (const [i, t] of tenants.entries()) {
    if (seen.has(t.name))
      return { problem: `/tenants/${i}/name: duplicate tenant name ${JSON.stringify(t.name)}` };
    seen.add(t.name);
  }
  return { tenants };
}

/** The lock files this process holds (a second server in the same process is a second server too). */
const held = new Set<string>();

/** The pid holding the lock at `path`, or null when nobody alive does (no file, garbage, a process gone). */
async function lockHolder(path: string): Promise<number | null> {
  if (held.has(path)) return process.pid;
  let text: string;
  let writtenMs: number;
  try {
    const info = await lstat(path);
    if (!info.isFile()) return null;
    writtenMs = info.mtimeMs;
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  // Our own pid but not held here: written by an earlier process that had it (pid 1 in a container, each start).
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null;
  // Written before this machine booted: whatever has that pid now is another process.
  if (writtenMs < Date.now() - uptime() * 1000) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

type LockResult = { owned: true } | { owned: false; holder: number } | { owned: false; error: unknown };

async function acquireLock(path: string): Promise<LockResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      held.add(path);
      return { owned: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) return { owned: false, error };
    }
    const holder = await lockHolder(path);
    if (holder !== null) return { owned: false, holder };
    // A stale lock (its process is gone): take the directory over.
    try {
      await rm(path);
    } catch (error) {
      return { owned: false, error };
    }
  }
}

/** A name next to `file` that no file has yet: `<file>.corrupt-<ISO time>[-n]`. */
async function asideName(file: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/:/g, '-');
  for (let n = 0; ; n++) {
    const candidate = `${file}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      await lstat(candidate);
    } catch {
      return candidate;
    }
  }
}

/** What {@link readSaved} found. */
interface ReadResult {
  tenants: SavedTenant[];
  /** Set when saving must stay off: the file is there but could neither be read nor moved aside. */
  unavailable?: string;
}

/** Reads the saved registrations; an unusable file is moved aside. Never throws. */
async function readSaved(file: string, logger: Logger): Promise<ReadResult> {
  let problem: string;
  try {
    const info = await lstat(file);
    if (!info.isFile()) problem = 'it is not a regular file';
    else if (info.size > TENANT_STATE_MAX_BYTES)
      problem = `it has ${info.size} bytes, more than the ${TENANT_STATE_MAX_BYTES} a state file may have`;
    else {
      const parsed = parseState(await readFile(file));
      if ('tenants' in parsed) return { tenants: parsed.tenants };
      problem = parsed.problem;
    }
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return { tenants: [] };
    logger.error({ file, err: error }, 'the saved tenants cannot be read: registrations will not be saved');
    return { tenants: [], unavailable: `its saved tenants cannot be read (${code})` };
  }
  const aside = await asideName(file);
  try {
    await rename(file, aside);
  } catch (error) {
    logger.error(
      { file, problem, err: error },
      'the tenant state file is unusable and cannot be moved aside: starting without it, registrations will not be saved',
    );
    return { tenants: [], unavailable: `its unusable state file cannot be moved aside (${errnoOf(error)})` };
  }
  logger.warn(
    { file, movedTo: aside, problem },
    'the tenant state file is unusable (%s): moved aside, starting without the tenants it held',
    problem,
  );
  return { tenants: [] };
}

/**
 * The saved registrations of one state directory, and the only writer of its `tenants.json`. Open it with
 * {@link openTenantState}.
 */
export class TenantState {
  /** The state file. */
  readonly file: string;
  /** The registrations found at open, in registration order: what a start restores. */
  readonly saved: readonly SavedTenant[];
  /**
   * Why changes cannot be saved for the whole run (another server uses the directory, or its file could neither be
   * read nor moved aside), or null. A directory that is merely not writable is found out at each write instead.
   */
  readonly unavailable: string | null;
  /** Whether this process holds the directory's lock (then it may tidy the directory). */
  readonly owned: boolean;
  #tenants: Map<string, SavedTenant>;
  #tail: Promise<unknown> = Promise.resolve();
  #lock: string;
  #closed = false;

  /** @internal Use {@link openTenantState}. */
  constructor(dir: string, saved: SavedTenant[], unavailable: string | null, owned: boolean) {
    this.file = join(dir, TENANT_STATE_FILE);
    this.#lock = join(dir, STATE_LOCK_FILE);
    this.saved = Object.freeze([...saved]);
    this.unavailable = unavailable;
    this.owned = owned;
    this.#tenants = new Map(saved.map((t) => [t.name, t]));
  }

  /** The saved registrations now, in registration order. */
  list(): SavedTenant[] {
    return [...this.#tenants.values()];
  }

  /** The saved registration of `name`, if any. */
  get(name: string): SavedTenant | undefined {
    return this.#tenants.get(name);
  }

  /**
   * Saves a registration (replacing one of the same name); resolves once it is on the disk.
   * @throws SwapLessIoError (`details.reason` `state-not-saved`) when it could not be written; nothing changed then.
   *   Its message names no host path (it may reach a client).
   */
  save(spec: TenantSpec): Promise<void> {
    const tenant: SavedTenant = { ...spec, registeredAt: new Date().toISOString() };
    return this.#change(spec.name, 'save', (next) => {
      next.set(spec.name, tenant);
      return true;
    }).then(() => undefined);
  }

  /**
   * Drops the saved registration of `name`; resolves to whether there was one, once the change is on the disk.
   * @throws SwapLessIoError as {@link TenantState.save}; nothing changed then.
   */
  delete(name: string): Promise<boolean> {
    return this.#change(name, 'remove', (next) => next.delete(name));
  }

  /** Waits for the writes under way, then releases the directory. Idempotent. */
  async close(): Promise<void> {
    await this.#tail;
    if (this.#closed) return;
    this.#closed = true;
    if (!this.owned) return;
    held.delete(this.#lock);
    try {
      if ((await readFile(this.#lock, 'utf8')).trim() === String(process.pid)) await rm(this.#lock);
    } catch {
      // Gone already, or the directory went away: nothing to release.
    }
  }

  /** Applies `mutate` to a copy and writes it; the copy becomes the state once written. Strictly one at a time. */
  #change(name: string, action: 'save' | 'remove', mutate: (next: Map<string, SavedTenant>) => boolean) {
    const run = this.#tail.then(async () => {
      const next = new Map(this.#tenants);
      if (!mutate(next)) return false;
      const fail = (why: string, cause?: unknown, errno?: string) =>
        new SwapLessIoError(
          `Expected a usable state directory to ${action} the registration of tenant ${JSON.stringify(name)} but ${why}`,
          {
            cause,
            details: {
              reason: 'state-not-saved',
              tenant: name,
              file: this.file,
              ...(errno ? { errno } : {}),
            },
          },
        );
      if (this.#closed) throw fail('the server is shutting down');
      if (this.unavailable !== null) throw fail(this.unavailable);
      const doc: TenantStateDocument = { version: TENANT_STATE_VERSION, tenants: [...next.values()] };
      try {
        await writeFileAtomic(this.file, `${JSON.stringify(doc, null, 2)}\n`, { durable: true });
      } catch (error) {
        const errno = errnoOf(error);
        throw fail(`writing failed (${errno})`, error, errno);
      }
      this.#tenants = next;
      return true;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Opens the tenant state of `dir`: takes the directory's lock, reads and validates `tenants.json` (an unusable one
 * is moved aside with a warning), and removes temporary files a killed writer left behind. Never throws: whatever
 * goes wrong is logged, and at worst the server starts with nothing restored and saving off
 * ({@link TenantState.unavailable}).
 */
export async function openTenantState(dir: string, logger: Logger): Promise<TenantState> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    logger.error(
      { dir, err: error },
      'the state directory cannot be created: registrations will not be saved',
    );
    return new TenantState(dir, [], null, false);
  }
  const lock = await acquireLock(join(dir, STATE_LOCK_FILE));
  if (!lock.owned && 'holder' in lock) {
    logger.warn(
      { dir, pid: lock.holder },
      'the state directory is in use by another server process (pid %d): nothing is restored from it and registrations will not be saved; give each server its own stateDir',
      lock.holder,
    );
    return new TenantState(dir, [], `it is in use by another server process (pid ${lock.holder})`, false);
  }
  if (!lock.owned) {
    logger.warn(
      { dir, err: lock.error },
      'the state directory cannot be locked (%s): registrations will not be saved unless it becomes writable',
      errnoOf(lock.error),
    );
  }
  const file = join(dir, TENANT_STATE_FILE);
  const { tenants, unavailable } = await readSaved(file, logger);
  if (lock.owned) {
    // This process owns the directory: any temporary state file is a dead writer's.
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => TEMPORARY.test(n)))
      await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
  return new TenantState(dir, tenants, unavailable ?? null, lock.owned);
}
