/**
 * The server's view of the model repository: the start-up scan (which vets nothing in the way), a re-scan every
 * few seconds and on demand (`GET /api/v1/models`, the repository index, a registration), and one log line per
 * entry skipped or rejected — each logged once, not at every scan.
 */
import type { ModelRepository, ScanResult } from '@swapless/service';
import type { Logger } from 'pino';

/** How often the model repository is re-read for `GET /api/v1/models`, ms. */
const REPOSITORY_RESCAN_MS = 5000;

/** A scan that found nothing (what the first scan's verdicts are new against). */
const NOTHING: ScanResult = { models: [], skipped: [], rejected: [], pending: [] };

/** The repository as the server sees it; see {@link watchRepository}. */
export interface RepositoryWatcher {
  /** The latest scan. */
  readonly last: ScanResult;
  /**
   * Scans again. Each caller gets a scan that started after its call (a model dropped in just before is listed);
   * callers that arrive while one runs share a single follow-up scan. Never rejects: a failed scan is logged and
   * the previous one stays.
   */
  rescan(): Promise<void>;
  /** Stops the periodic re-scan. */
  close(): void;
}

/**
 * Scans `repository` once without waiting for vetting (models not vetted yet are listed as pending while their
 * vetting goes on in the background), logs what it found, and re-scans every {@link REPOSITORY_RESCAN_MS}.
 * Verdicts reached in the background since the last scan are logged by the next one. A failing first scan
 * rejects (nothing keeps running).
 */
export async function watchRepository(
  repository: ModelRepository,
  logger: Logger,
): Promise<RepositoryWatcher> {
  let last = await repository.scan({ wait: false });
  for (const m of last.models)
    logger.info({ model: m.name, path: m.path, bytes: m.size }, 'repository model found');
  for (const p of last.pending) logger.info({ model: p.name }, 'repository model found, being vetted');
  logVerdicts(logger, last, NOTHING);
  let scanning: Promise<void> | null = null;
  let followUp: Promise<void> | null = null;
  const rescan = (): Promise<void> => {
    if (scanning !== null) {
      followUp ??= scanning.then(() => {
        followUp = null;
        return rescan();
      });
      return followUp;
    }
    scanning = repository
      .scan({ wait: false })
      .then(
        (result) => {
          logVerdicts(logger, result, last);
          last = result;
        },
        (error: unknown) => logger.warn({ err: error }, 'repository scan failed'),
      )
      .finally(() => {
        scanning = null;
      });
    return scanning;
  };
  const timer = setInterval(() => void rescan(), REPOSITORY_RESCAN_MS);
  timer.unref();
  return {
    get last() {
      return last;
    },
    rescan,
    close: () => clearInterval(timer),
  };
}

/** Warns of the entries `result` skips or rejects that `before` did not (the same name and reason). */
function logVerdicts(logger: Logger, result: ScanResult, before: ScanResult): void {
  for (const s of result.skipped) {
    if (!before.skipped.some((o) => o.name === s.name && o.message === s.message)) {
      logger.warn({ model: s.name, code: s.code, err: s.cause }, 'repository entry skipped: %s', s.message);
    }
  }
  for (const r of result.rejected) {
    if (!before.rejected.some((o) => o.name === r.name && o.sha256 === r.sha256)) {
      logger.warn(
        { model: r.name, code: r.code, reason: r.reason },
        'repository model rejected: %s',
        r.message,
      );
    }
  }
}
